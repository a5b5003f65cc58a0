from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("webhooks", "0002_qa_events"),
    ]

    operations = [
        migrations.AlterField(
            model_name="webhookdelivery",
            name="event",
            field=models.CharField(choices=[("job.finished", "Job finished"), ("conversation.flagged", "Conversation flagged"), ("qa.auto_fail", "QA auto-fail"), ("qa.dispute.opened", "QA dispute opened"), ("qa.dispute.resolved", "QA dispute resolved"), ("alert.raised", "Alert raised")], max_length=64, verbose_name="event"),
        ),
    ]
