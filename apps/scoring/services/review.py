"""Review queue services: managers confirm or correct what the models said.

A ``ReviewItem`` keeps the manager's verdict (intent, sentiment, quality, reviewer,
time). Reports read the verdict in place of the model output, and retraining reads
items with status ``reviewed`` as labels that win over imported ones.
"""
from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict

from django.db import transaction
from django.utils import timezone
from sklearn.metrics import cohen_kappa_score

from apps.conversations.models import Conversation
from apps.core.exceptions import ApplicationError
from apps.core.labels import Sentiment
from apps.core.services import audit_record
from apps.registry.models import ModelVersion

from ..models import ReviewItem


class ReviewError(ApplicationError):
    pass


def _clean_verdict(*, intent: str, sentiment: str, quality) -> tuple[str, str, float]:
    errors = {}
    intent = (intent or "").strip()
    if not intent:
        errors["intent"] = "required"
    elif len(intent) > 64:
        errors["intent"] = "at most 64 characters"
    if sentiment not in Sentiment.values:
        errors["sentiment"] = f"one of {', '.join(Sentiment.values)}"
    try:
        quality = float(quality)
        if math.isnan(quality) or not 1.0 <= quality <= 5.0:
            raise ValueError
    except (TypeError, ValueError):
        errors["quality"] = "a number from 1 to 5"
    if errors:
        raise ReviewError("Invalid review verdict", {"fields": errors})
    return intent, sentiment, quality


@transaction.atomic
def review_submit(*, item: ReviewItem, intent: str, sentiment: str, quality, reviewer) -> ReviewItem:
    """Store the reviewer's verdict on ``item`` and mark it reviewed (audit-logged).

    Confirming the model is a verdict too: all three values are stored, so the
    item is a complete label for retraining and for the agreement statistics.
    """
    intent, sentiment, quality = _clean_verdict(intent=intent, sentiment=sentiment, quality=quality)
    item = ReviewItem.objects.select_for_update().select_related("conversation").get(pk=item.pk)
    conversation = item.conversation
    if item.prediction_id is None:
        # Freeze what the model said when the human judged it.
        item.prediction_id = conversation.prediction_id
    before = {
        "status": item.status,
        "intent": item.intent, "sentiment": item.sentiment, "quality": item.quality,
    }
    model = {
        "intent": conversation.predicted_intent,
        "sentiment": conversation.predicted_sentiment,
        "quality": conversation.predicted_quality,
    }
    item.intent, item.sentiment, item.quality = intent, sentiment, quality
    item.status = ReviewItem.Status.REVIEWED
    item.reviewer = reviewer
    item.reviewed_at = timezone.now()
    item.save(update_fields=["intent", "sentiment", "quality", "status", "reviewer", "reviewed_at", "prediction"])
    audit_record(
        action="review.submit", actor=reviewer, target=item,
        data={
            "conversation": conversation.external_id,
            "before": before,
            "model": model,
            "verdict": {"intent": intent, "sentiment": sentiment, "quality": quality},
            "corrected": sorted(
                k for k, v in {"intent": intent, "sentiment": sentiment}.items() if v != model[k]
            ) + (["quality"] if model["quality"] is None or abs(quality - model["quality"]) >= 0.5 else []),
        },
    )
    return item


@transaction.atomic
def review_pick(*, conversation: Conversation, user, reason: str = "manual") -> ReviewItem:
    """Put ``conversation`` into the queue (again); earlier verdicts stay until re-reviewed."""
    item, created = ReviewItem.objects.select_for_update().get_or_create(
        conversation=conversation,
        defaults={"reasons": [reason], "prediction_id": conversation.prediction_id},
    )
    if not created:
        changed = []
        if reason not in item.reasons:
            item.reasons = [*item.reasons, reason]
            changed.append("reasons")
        if item.status != ReviewItem.Status.PENDING:
            item.status = ReviewItem.Status.PENDING
            changed.append("status")
        if conversation.prediction_id and item.prediction_id != conversation.prediction_id:
            item.prediction_id = conversation.prediction_id
            changed.append("prediction")
        if changed:
            item.save(update_fields=changed)
    audit_record(
        action="review.pick", actor=user, target=item,
        data={"conversation": conversation.external_id, "reason": reason, "created": created},
    )
    return item


@transaction.atomic
def review_skip(*, item: ReviewItem, user) -> ReviewItem:
    """Take ``item`` out of the queue without a verdict."""
    item = ReviewItem.objects.select_for_update().get(pk=item.pk)
    if item.status == ReviewItem.Status.PENDING:
        item.status = ReviewItem.Status.SKIPPED
        item.save(update_fields=["status"])
        audit_record(action="review.skip", actor=user, target=item, data={})
    return item


def review_next(*, user, after_id: int | None = None) -> ReviewItem | None:
    """The next pending item after ``after_id`` in queue order, wrapping to the start."""
    pending = ReviewItem.objects.filter(status=ReviewItem.Status.PENDING).order_by("id")
    if after_id is not None:
        item = pending.filter(id__gt=after_id).first()
        if item is not None:
            return item
        return pending.exclude(id=after_id).first()
    return pending.first()


def _kappa(a: list, b: list) -> float | None:

    if not a:
        return None
    if len(set(a) | set(b)) < 2:
        # Both raters used one label throughout: kappa is undefined (0/0).
        return None
    value = cohen_kappa_score(a, b)
    return None if math.isnan(value) else round(float(value), 4)


def _categorical(pairs: list[tuple]) -> dict:
    model = [m for m, _ in pairs]
    human = [h for _, h in pairs]
    n = len(pairs)
    return {
        "n": n,
        "accuracy": round(sum(m == h for m, h in pairs) / n, 4) if n else None,
        "kappa": _kappa(model, human),
    }


def _quality(pairs: list[tuple]) -> dict:
    n = len(pairs)
    return {
        "n": n,
        "mad": round(sum(abs(m - h) for m, h in pairs) / n, 4) if n else None,
        "within_half": round(sum(abs(m - h) <= 0.5 for m, h in pairs) / n, 4) if n else None,
    }


def agreement_stats(*, since: dt.datetime | None = None) -> dict:
    """Model-vs-reviewer agreement, overall and per model version.

    Compares the prediction frozen on each reviewed item (or the conversation's
    latest one) with the reviewer's verdict: accuracy and Cohen's kappa for
    intent and sentiment, mean absolute difference for quality.
    """

    items = ReviewItem.objects.filter(status=ReviewItem.Status.REVIEWED)
    if since is not None:
        items = items.filter(reviewed_at__gte=since)
    rows = items.order_by().values_list(
        "intent", "sentiment", "quality",
        "prediction__intent", "prediction__sentiment", "prediction__quality_score",
        "prediction__intent_version_id", "prediction__sentiment_version_id", "prediction__quality_version_id",
        "conversation__prediction__intent", "conversation__prediction__sentiment",
        "conversation__prediction__quality_score",
        "conversation__prediction__intent_version_id", "conversation__prediction__sentiment_version_id",
        "conversation__prediction__quality_version_id",
    )
    pairs: dict[str, dict] = {t: defaultdict(list) for t in ("intent", "sentiment", "quality")}
    for r in rows.iterator(chunk_size=2000):
        (h_i, h_s, h_q, p_i, p_s, p_q, v_i, v_s, v_q, c_i, c_s, c_q, cv_i, cv_s, cv_q) = r
        if p_i is None and p_s is None and p_q is None:
            p_i, p_s, p_q, v_i, v_s, v_q = c_i, c_s, c_q, cv_i, cv_s, cv_q
        if h_i and p_i:
            pairs["intent"][v_i].append((p_i, h_i))
        if h_s and p_s:
            pairs["sentiment"][v_s].append((p_s, h_s))
        if h_q is not None and p_q is not None:
            pairs["quality"][v_q].append((p_q, h_q))

    version_ids = {v for task in pairs.values() for v in task if v is not None}
    versions = {v.id: v for v in ModelVersion.objects.filter(id__in=version_ids)}
    out = {}
    for task, by_version in pairs.items():
        summarise = _quality if task == "quality" else _categorical
        everything = [p for ps in by_version.values() for p in ps]
        per_version = []
        for vid, ps in sorted(by_version.items(), key=lambda kv: (kv[0] is None, -(kv[0] or 0))):
            v = versions.get(vid)
            per_version.append({
                "version_id": vid,
                "version": v.version if v else None,
                "backend": v.backend if v else "",
                "status": v.status if v else "",
                **summarise(ps),
            })
        out[task] = {"overall": summarise(everything), "by_version": per_version}
    return out
