"""Default alert rules (editable or removable in the admin); re-runnable: a rule that exists by name is kept."""
from django.db import migrations

DEFAULT_RULES = [
    {"name": "Agent quality below 3 (7 days)", "metric": "mean_quality", "scope": "agent", "window_days": 7,
     "comparison": "below", "threshold": 3.0, "min_volume": 5},
    {"name": "Agent QA score below 70 (7 days)", "metric": "qa_score", "scope": "agent", "window_days": 7,
     "comparison": "below", "threshold": 70.0, "min_volume": 5},
    {"name": "Team negative share above 35% (7 days)", "metric": "negative_share", "scope": "team",
     "window_days": 7, "comparison": "above", "threshold": 0.35, "min_volume": 20},
    {"name": "Team auto-fails above 10 (7 days)", "metric": "auto_fails", "scope": "team", "window_days": 7,
     "comparison": "above", "threshold": 10, "min_volume": 20},
    {"name": "Model intent agreement below 80% (30 days)", "metric": "model_agreement", "scope": "all",
     "window_days": 30, "comparison": "below", "threshold": 0.8, "min_volume": 20},
]


def create(apps, schema_editor):
    AlertRule = apps.get_model("alerts", "AlertRule")
    for rule in DEFAULT_RULES:
        if not AlertRule.objects.filter(name=rule["name"]).exists():
            AlertRule.objects.create(**rule)


class Migration(migrations.Migration):
    dependencies = [("alerts", "0002_weekly_reports_schedule")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
