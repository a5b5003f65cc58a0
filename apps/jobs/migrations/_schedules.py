"""The data migration that creates the default beat entries (Django's loader skips modules starting with "_").

The entries are defined once, in ``settings.BEAT_SCHEDULE``, and created in ``settings.TIME_ZONE``.
Re-runnable: an entry that exists (by name) is left exactly as the admin set it.
"""
import json

from django.conf import settings
from django.db import migrations


def create_schedules():
    """A ``RunPython`` creating the missing entries of ``settings.BEAT_SCHEDULE``."""

    def create(apps, schema_editor):
        CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
        IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
        PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
        for name, entry in settings.BEAT_SCHEDULE.items():
            if PeriodicTask.objects.filter(name=name).exists():
                continue
            if "every_seconds" in entry:
                interval, _ = IntervalSchedule.objects.get_or_create(every=int(entry["every_seconds"]),
                                                                     period="seconds")
                schedule = {"interval": interval}
            else:
                minute, hour, day_of_week = entry["crontab"].split()
                crontab, _ = CrontabSchedule.objects.get_or_create(
                    minute=minute, hour=hour, day_of_week=day_of_week, day_of_month="*", month_of_year="*",
                    timezone=settings.TIME_ZONE,
                )
                schedule = {"crontab": crontab}
            PeriodicTask.objects.create(
                name=name, task=entry["task"], kwargs=json.dumps(entry.get("kwargs", {})), queue="default",
                enabled=True, description="A default schedule (settings.BEAT_SCHEDULE); edit freely.", **schedule,
            )

    return migrations.RunPython(create, migrations.RunPython.noop)
