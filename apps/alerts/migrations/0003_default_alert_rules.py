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


# The rules' names are data, written once in the installation's language.
NAMES_ZH = {
    "Agent quality below 3 (7 days)": "坐席质量低于 3（7 天）",
    "Agent QA score below 70 (7 days)": "坐席质检得分低于 70（7 天）",
    "Team negative share above 35% (7 days)": "团队负面占比高于 35%（7 天）",
    "Team auto-fails above 10 (7 days)": "团队一票否决超过 10 次（7 天）",
    "Model intent agreement below 80% (30 days)": "模型意图一致率低于 80%（30 天）",
}


def create(apps, schema_editor):
    from django.conf import settings

    AlertRule = apps.get_model("alerts", "AlertRule")
    chinese = settings.LANGUAGE_CODE.startswith("zh")
    for rule in DEFAULT_RULES:
        name = NAMES_ZH[rule["name"]] if chinese else rule["name"]
        if not AlertRule.objects.filter(name=name).exists():
            AlertRule.objects.create(**{**rule, "name": name})


class Migration(migrations.Migration):
    dependencies = [("alerts", "0002_weekly_reports_schedule")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
