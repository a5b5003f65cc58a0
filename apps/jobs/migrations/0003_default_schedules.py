"""Create the default beat schedules (editable in the admin afterwards).

Re-runnable: an entry that exists (by name) is left exactly as the admin set it.
"""
import json

from django.db import migrations

SCHEDULES = [
    # name, task, crontab (minute, hour), kwargs
    ("nightly quality assessment", "scoring.nightly_assessment", ("0", "2"), {}),
    ("clean up old task results", "jobs.cleanup_results", ("30", "3"), {}),
]
TIMEZONE = "Asia/Shanghai"


def create_schedules(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, (minute, hour), kwargs in SCHEDULES:
        if PeriodicTask.objects.filter(name=name).exists():
            continue
        crontab, _ = CrontabSchedule.objects.get_or_create(
            minute=minute, hour=hour, day_of_week="*", day_of_month="*", month_of_year="*", timezone=TIMEZONE,
        )
        PeriodicTask.objects.create(
            name=name, task=task, crontab=crontab, kwargs=json.dumps(kwargs), queue="default", enabled=True,
            description="Created by apps.jobs migration 0003; edit freely.",
        )


def remove_schedules(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[s[0] for s in SCHEDULES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("jobs", "0002_jobchunk"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedules, remove_schedules)]
