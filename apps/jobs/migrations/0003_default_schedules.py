"""Create the default beat schedules (editable in the admin afterwards)."""
from django.db import migrations

from apps.jobs.migrations._schedules import create_schedules


class Migration(migrations.Migration):
    dependencies = [
        ("jobs", "0002_jobchunk"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [create_schedules()]
