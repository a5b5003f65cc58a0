"""Ingest: the one code path behind the bulk API, the import command and the demo seeder."""
import hashlib
import math
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.agents.models import Agent
from apps.core.bulk import UpsertResult
from apps.core.exceptions import Conflict
from apps.core.pgcopy import allocate_ids, copy_insert, is_postgres
from apps.customers.models import Customer
from ml.features import conversation_features, customer_text
from ml.pii import mask_pii

from .models import Conversation, Message
from .signals import conversations_changed

CONVERSATION_FIELDS = (
    "customer_id", "agent_id", "channel", "language", "started_at", "ended_at", "resolved", "csat",
    "label_intent", "label_sentiment", "label_quality", "customer_text", "n_messages", "features", "content_hash",
)
MESSAGE_FIELDS = ("conversation_id", "seq", "speaker", "text", "sent_at")
# A changed conversation's old model output no longer describes it.
PREDICTION_RESET = {
    "prediction": None, "predicted_intent": "", "predicted_sentiment": "", "predicted_quality": None, "uncertain": False,
}


def _json_safe(features: dict) -> dict:
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in features.items()}


def _ensure_exist(model, keys: Iterable[str], defaults: dict) -> dict[str, int]:
    """Create referenced rows that the CRM has not sent yet (``name`` etc. from ``defaults``), return id map."""
    keys = {k for k in keys if k}
    if not keys:
        return {}
    ids = dict(model.objects.filter(external_id__in=keys).values_list("external_id", "pk"))
    missing = keys - set(ids)
    if missing:
        model.objects.bulk_create(
            [model(external_id=k, **{f: (k if v is ... else v) for f, v in defaults.items()}) for k in missing],
            ignore_conflicts=True,
        )
        ids.update(model.objects.filter(external_id__in=missing).values_list("external_id", "pk"))
    return ids


def _prepare(item: dict, customer_ids: dict, agent_ids: dict) -> tuple[dict, list[dict]]:
    messages = sorted(item.get("messages") or [], key=lambda m: m.get("seq") or 0)
    masked = [
        {"seq": m.get("seq") if m.get("seq") is not None else i, "speaker": m["speaker"],
         "text": mask_pii(m["text"]), "sent_at": m.get("sent_at")}
        for i, m in enumerate(messages)
    ]
    row = {
        "customer_id": customer_ids[item["customer"]],
        "agent_id": agent_ids.get(item.get("agent")) if item.get("agent") else None,
        "channel": item.get("channel") or "web",
        "language": item.get("language") or "zh",
        "started_at": item["started_at"],
        "ended_at": item.get("ended_at"),
        "resolved": item.get("resolved"),
        "csat": item.get("csat"),
        "label_intent": item.get("label_intent") or "",
        "label_sentiment": item.get("label_sentiment") or "",
        "label_quality": item.get("label_quality"),
        "customer_text": customer_text(masked),
        "n_messages": len(masked),
        "features": _json_safe(conversation_features(masked, channel=item.get("channel"), resolved=item.get("resolved"))),
    }
    # Everything the CRM sent (features derive from it), in a fixed order.
    digest = repr((item["external_id"], sorted((k, v) for k, v in row.items() if k != "features"),
                   [sorted(m.items()) for m in masked]))
    row["content_hash"] = hashlib.sha256(digest.encode()).hexdigest()
    return row, masked


@transaction.atomic
def conversations_upsert(*, items: list[dict], batch_size: int = 1000) -> UpsertResult:
    """Create or update conversations (with their messages) by ``external_id``.

    Text is PII-masked before it reaches the database. A conversation whose content is
    identical to what is stored is left untouched, so replaying a batch writes nothing.
    Unknown customers and agents are created with only their external id.
    """
    items = list({item["external_id"]: item for item in items}.values())  # the last duplicate wins
    customer_ids = _ensure_exist(Customer, (i["customer"] for i in items), {})
    agent_ids = _ensure_exist(Agent, (i.get("agent") for i in items), {"name": ...})
    existing = dict(
        Conversation.objects.filter(external_id__in=[i["external_id"] for i in items]).values_list(
            "external_id", "content_hash"
        )
    )
    result = UpsertResult()
    new_rows, changed_rows, messages_by_key = [], [], {}
    for item in items:
        key = item["external_id"]
        row, masked = _prepare(item, customer_ids, agent_ids)
        if key not in existing:
            new_rows.append(Conversation(external_id=key, **row))
        elif existing[key] != row["content_hash"]:
            changed_rows.append((key, row))
        else:
            result.unchanged += 1
            continue
        messages_by_key[key] = masked
    try:
        if new_rows:
            _insert_conversations(new_rows, batch_size)
            result.created = len(new_rows)
        if changed_rows:
            objs = {c.external_id: c for c in Conversation.objects.filter(external_id__in=[k for k, _ in changed_rows])}
            now = timezone.now()  # bulk_update skips auto_now; the reply index reads updated_at
            for key, row in changed_rows:
                for f, v in {**row, **PREDICTION_RESET, "updated_at": now}.items():
                    setattr(objs[key], f, v)
            Conversation.objects.bulk_update(
                objs.values(), [*CONVERSATION_FIELDS, *PREDICTION_RESET, "updated_at"], batch_size=batch_size
            )
            changed_ids = [c.pk for c in objs.values()]
            Message.objects.filter(conversation_id__in=changed_ids).delete()
            conversations_changed.send(sender=Conversation, conversation_ids=changed_ids)
            result.updated = len(changed_rows)
    except IntegrityError as exc:  # a concurrent request created the same external ids first
        raise Conflict("A concurrent request changed the same conversations; retry the batch.") from exc
    result.ids = dict(
        Conversation.objects.filter(external_id__in=[i["external_id"] for i in items]).values_list("external_id", "pk")
    )
    if messages_by_key:
        rows = [
            (result.ids[key], m["seq"], m["speaker"], m["text"], m["sent_at"])
            for key, masked in messages_by_key.items()
            for m in masked
        ]
        if is_postgres():
            copy_insert(Message, MESSAGE_FIELDS, rows)
        else:
            Message.objects.bulk_create(
                [Message(**dict(zip(MESSAGE_FIELDS, row))) for row in rows], batch_size=batch_size * 4
            )
    return result


def _insert_conversations(objs: list[Conversation], batch_size: int) -> None:
    if not is_postgres():
        Conversation.objects.bulk_create(objs, batch_size=batch_size)
        return
    now = timezone.now()
    fields = ["id", "external_id", *CONVERSATION_FIELDS, "predicted_intent", "predicted_sentiment", "uncertain",
              "created_at", "updated_at"]
    for obj, pk in zip(objs, allocate_ids(Conversation, len(objs))):
        obj.pk, obj.created_at, obj.updated_at = pk, now, now
    copy_insert(Conversation, fields, [[getattr(obj, f) for f in fields] for obj in objs])
