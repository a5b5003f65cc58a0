"""Create the default beat schedules that are missing (settings.BEAT_SCHEDULE)."""
from django.db import migrations

from apps.jobs.migrations._schedules import create_schedules


class Migration(migrations.Migration):
    dependencies = [("jobs", "0004_reply_index_schedules")]

    operations = [create_schedules()]
