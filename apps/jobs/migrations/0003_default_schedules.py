"""Create the default beat schedules (editable in the admin afterwards)."""
from django.db import migrations

from apps.jobs.migrations._schedules import create_schedules

SCHEDULES = [
    # name, task, crontab (minute, hour, day of week), kwargs
    ("nightly quality assessment", "scoring.nightly_assessment", ("0", "2", "*"), {}),
    ("clean up old task results", "jobs.cleanup_results", ("30", "3", "*"), {}),
]


class Migration(migrations.Migration):
    dependencies = [
        ("jobs", "0002_jobchunk"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [create_schedules(SCHEDULES, "0003")]
