"""A job's kind is one that an app registered (``apps.jobs.kinds``), not a list in this app."""
from django.db import migrations, models

import apps.jobs.kinds


class Migration(migrations.Migration):
    dependencies = [("jobs", "0007_dispatch_and_chunk_times_watchdog")]

    operations = [
        migrations.AlterField(
            model_name="job", name="kind",
            field=models.CharField(choices=apps.jobs.kinds.job_kind_choices, max_length=16, verbose_name="kind"),
        ),
    ]
