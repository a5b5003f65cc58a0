"""Covering index for the console's date-range aggregations (PostgreSQL only).

The overview groups the conversations of a date range by day, sentiment, intent, channel,
quality, hour and agent. With these columns INCLUDEd in a ``started_at`` index PostgreSQL
answers from the index alone (index-only scan) instead of visiting every heap page of the
range. Other databases keep the plain ``conv_started`` index. Created outside the model
state on purpose: ``Index(include=...)`` is PostgreSQL-only and the model stays portable.
"""
from django.db import migrations

INDEX = "conv_dash_started_cover"
CREATE = f"""
CREATE INDEX IF NOT EXISTS {INDEX} ON conversations_conversation (started_at)
INCLUDE (id, agent_id, channel, predicted_intent, predicted_sentiment, predicted_quality, resolved, csat, uncertain)
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("conversations", "0002_initial")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
