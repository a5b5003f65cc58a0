"""Every 10 minutes, send the pending chunks of stalled scoring jobs again (a lost broker message)."""
from django.db import migrations

from apps.jobs.migrations._schedules import create_schedules

SCHEDULES = [
    # name, task, crontab (minute, hour, day of week), kwargs
    ("resume stalled scoring jobs", "scoring.resume_stalled_jobs", ("*/10", "*", "*"), {}),
]


class Migration(migrations.Migration):
    dependencies = [("jobs", "0004_reply_index_schedules")]

    operations = [create_schedules(SCHEDULES, "0005")]
