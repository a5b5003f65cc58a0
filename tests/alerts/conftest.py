import pytest


@pytest.fixture(autouse=True)
def no_default_rules(db):
    """Each test states its own rules (the migration's default rules are removed)."""
    from apps.alerts.models import AlertRule

    AlertRule.objects.all().delete()
