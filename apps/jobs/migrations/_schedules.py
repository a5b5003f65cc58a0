"""The beat entries the data migrations create (Django's loader skips modules starting with "_").

Re-runnable: an entry that exists (by name) is left exactly as the admin set it.
"""
import json

from django.db import migrations

TIMEZONE = "Asia/Shanghai"


def create_schedules(schedules, migration: str):
    """A ``RunPython`` creating ``(name, task, (minute, hour, day_of_week), kwargs)`` entries."""

    def create(apps, schema_editor):
        CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
        PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
        for name, task, (minute, hour, day_of_week), kwargs in schedules:
            if PeriodicTask.objects.filter(name=name).exists():
                continue
            crontab, _ = CrontabSchedule.objects.get_or_create(
                minute=minute, hour=hour, day_of_week=day_of_week, day_of_month="*", month_of_year="*",
                timezone=TIMEZONE,
            )
            PeriodicTask.objects.create(
                name=name, task=task, crontab=crontab, kwargs=json.dumps(kwargs), queue="default", enabled=True,
                description=f"Created by apps.jobs migration {migration}; edit freely.",
            )

    def remove(apps, schema_editor):
        PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
        PeriodicTask.objects.filter(name__in=[s[0] for s in schedules]).delete()

    return migrations.RunPython(create, remove)
