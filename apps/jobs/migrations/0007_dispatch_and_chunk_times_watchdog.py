"""Record when a job's and a chunk's messages were sent and started; the jobs watchdog schedule
replaces the stalled-scoring-job check."""
from django.db import migrations, models

from apps.jobs.migrations._schedules import create_schedules


def mark_existing_jobs_dispatched(apps, schema_editor):
    """Jobs created before this migration were sent when created; the watchdog must not send them
    again as if the broker had refused them."""
    Job = apps.get_model("jobs", "Job")
    Job.objects.filter(dispatched_at__isnull=True).update(dispatched_at=models.F("created_at"))


def drop_old_check(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(task="scoring.resume_stalled_jobs").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("jobs", "0006_job_task_id"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.AddField(
            model_name="job", name="dispatched_at",
            field=models.DateTimeField(
                blank=True, null=True, verbose_name="dispatched",
                help_text="When the broker took the job's message; empty: not sent yet (the watchdog sends it)."),
        ),
        migrations.AddField(model_name="jobchunk", name="sent_at",
                            field=models.DateTimeField(blank=True, null=True, verbose_name="sent")),
        migrations.AddField(model_name="jobchunk", name="started_at",
                            field=models.DateTimeField(blank=True, null=True, verbose_name="started")),
        migrations.RunPython(mark_existing_jobs_dispatched, migrations.RunPython.noop),
        migrations.RunPython(drop_old_check, migrations.RunPython.noop),
        create_schedules(),
    ]
