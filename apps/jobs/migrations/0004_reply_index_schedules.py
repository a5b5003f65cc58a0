"""Schedule the reply-suggestion index: incremental every night, a full rebuild on Sundays."""
from django.db import migrations

from apps.jobs.migrations._schedules import create_schedules

SCHEDULES = [
    # name, task, crontab (minute, hour, day of week), kwargs
    ("reply index, incremental", "scoring.rebuild_reply_index", ("0", "4", "*"), {"full": False}),
    ("reply index, full rebuild", "scoring.rebuild_reply_index", ("30", "4", "0"), {"full": True}),
]


class Migration(migrations.Migration):
    dependencies = [("jobs", "0003_default_schedules")]

    operations = [create_schedules(SCHEDULES, "0004")]
