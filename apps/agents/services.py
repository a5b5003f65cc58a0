from django.db import transaction

from apps.core.bulk import UpsertResult, bulk_upsert

from .models import Agent

AGENT_FIELDS = ("name", "team", "hired_at", "active")


@transaction.atomic
def agents_upsert(*, items: list[dict]) -> UpsertResult:
    """Create or update agents by ``external_id`` (an unknown agent's name defaults to its id)."""
    rows = []
    for item in items:
        row = {"external_id": item["external_id"]}
        for f in AGENT_FIELDS:
            if f in item and item[f] is not None:
                row[f] = item[f]
        rows.append(row)
    result = bulk_upsert(Agent, rows, fields=AGENT_FIELDS)
    return result
