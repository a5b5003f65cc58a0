"""Create the missing default beat entries, among them ``weekly team reports`` (settings.BEAT_SCHEDULE)."""
from django.db import migrations

from apps.jobs.migrations._schedules import create_schedules


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0001_initial"),
        ("jobs", "0005_resume_stalled_schedule"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [create_schedules()]
