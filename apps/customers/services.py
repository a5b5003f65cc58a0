import re

from django.db import transaction

from apps.core.bulk import UpsertResult, bulk_upsert
from ml.pii import mask_pii

from .models import Customer

CUSTOMER_FIELDS = ("display_name", "age", "gender", "city", "segment", "vip_level")
_CJK = re.compile(r"[\u4e00-\u9fff]")


def mask_name(name: str) -> str:
    """Keep a name recognisable to the agent without storing it: 张三丰 → 张**, John Smith → J*** S****."""
    name = mask_pii((name or "").strip())
    if not name or name.startswith("["):
        return name
    if _CJK.search(name):
        return name[0] + "*" * (len(name) - 1)
    return " ".join(part[0] + "*" * (len(part) - 1) for part in name.split())


@transaction.atomic
def customers_upsert(*, items: list[dict]) -> UpsertResult:
    """Create or update customers by ``external_id``; names are masked before storage."""
    rows = []
    for item in items:
        row = {"external_id": item["external_id"]}
        for f in CUSTOMER_FIELDS:
            if f in item and item[f] is not None:
                row[f] = item[f]
        if "display_name" in row:
            row["display_name"] = mask_name(row["display_name"])
        rows.append(row)
    return bulk_upsert(Customer, rows, fields=CUSTOMER_FIELDS)
