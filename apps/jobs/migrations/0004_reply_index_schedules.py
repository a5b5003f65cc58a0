"""Schedule the reply-suggestion index: incremental every night, a full rebuild on Sundays.

Re-runnable: an entry that exists (by name) is left exactly as the admin set it.
"""
import json

from django.db import migrations

SCHEDULES = [
    # name, task, crontab (minute, hour, day of week), kwargs
    ("reply index, incremental", "scoring.rebuild_reply_index", ("0", "4", "*"), {"full": False}),
    ("reply index, full rebuild", "scoring.rebuild_reply_index", ("30", "4", "0"), {"full": True}),
]
TIMEZONE = "Asia/Shanghai"


def create_schedules(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, (minute, hour, day_of_week), kwargs in SCHEDULES:
        if PeriodicTask.objects.filter(name=name).exists():
            continue
        crontab, _ = CrontabSchedule.objects.get_or_create(
            minute=minute, hour=hour, day_of_week=day_of_week, day_of_month="*", month_of_year="*",
            timezone=TIMEZONE,
        )
        PeriodicTask.objects.create(
            name=name, task=task, crontab=crontab, kwargs=json.dumps(kwargs), queue="default", enabled=True,
            description="Created by apps.jobs migration 0004; edit freely.",
        )


def remove_schedules(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[s[0] for s in SCHEDULES]).delete()


class Migration(migrations.Migration):
    dependencies = [("jobs", "0003_default_schedules")]

    operations = [migrations.RunPython(create_schedules, remove_schedules)]
