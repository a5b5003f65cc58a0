"""Idempotent bulk upserts keyed by a natural key (the CRM's ``external_id``).

One round trip to read what exists, one ``bulk_create`` for the new rows and one
``bulk_update`` for the changed ones; rows whose fields are all equal are left
alone and counted as unchanged, so sending the same batch twice writes nothing.
"""
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db import models
from django.utils import timezone


@dataclass
class UpsertResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    ids: dict[str, int] = field(default_factory=dict, repr=False)

    def as_dict(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}

    def __iadd__(self, other: "UpsertResult") -> "UpsertResult":
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.ids.update(other.ids)
        return self


def bulk_upsert(
    model: type[models.Model],
    rows: Sequence[dict],
    *,
    fields: Iterable[str],
    key: str = "external_id",
    batch_size: int = 1000,
) -> UpsertResult:
    """Create or update ``rows`` (dicts holding ``key`` and ``fields``). Caller owns the transaction."""
    fields = list(fields)
    result = UpsertResult()
    by_key = {row[key]: row for row in rows}  # the last occurrence of a key wins
    existing = {
        getattr(obj, key): obj
        for obj in model.objects.filter(**{f"{key}__in": list(by_key)}).only(key, *fields)
    }
    to_create, to_update = [], []
    for value, row in by_key.items():
        obj = existing.get(value)
        if obj is None:
            to_create.append(model(**{key: value, **{f: row[f] for f in fields if f in row}}))
            continue
        changed = False
        for f in fields:
            if f in row and getattr(obj, f) != row[f]:
                setattr(obj, f, row[f])
                changed = True
        if changed:
            to_update.append(obj)
        else:
            result.unchanged += 1
    if to_create:
        model.objects.bulk_create(to_create, batch_size=batch_size)
        result.created = len(to_create)
    if to_update:
        stamp = [f.name for f in model._meta.concrete_fields if getattr(f, "auto_now", False)]
        now = timezone.now()
        for obj in to_update:  # bulk_update skips auto_now fields
            for name in stamp:
                setattr(obj, name, now)
        model.objects.bulk_update(to_update, [*fields, *stamp], batch_size=batch_size)
        result.updated = len(to_update)
    result.ids = dict(model.objects.filter(**{f"{key}__in": list(by_key)}).values_list(key, "pk"))
    return result
