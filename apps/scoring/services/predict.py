"""The prediction path shared by the real-time API and the batch queue.

``predict_texts`` turns texts (and optional conversation features) into the answer
shape; ``predictions_upsert`` stores the rows. The batch jobs that run them over
chunks of conversations live in ``batch.py``.
"""
from __future__ import annotations

import json
import logging
import math
from typing import Any, Iterable

import numpy as np
import sklearn
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from apps.conversations.features import conversation_features
from apps.conversations.models import Conversation
from apps.core.metrics import PREDICTIONS
from apps.registry.loader import ModelSet, production_models
from ml.inference import shared_analysis

from ..models import Prediction

logger = logging.getLogger(__name__)

TOP_K = 3
PREDICT_BATCH = 512
NEGATIVE = "negative"
LOW_QUALITY = 3.0


def _classify(loaded, texts: list[str], k: int, scores: bool = False) -> list[tuple[str, float, list[dict], dict]]:
    """(label, confidence, top-k list, every class's score when ``scores``) per text."""
    proba = np.asarray(loaded.estimator.predict_proba(texts), dtype=float)
    classes = [str(c) for c in loaded.estimator.classes_]
    k = min(k, len(classes))
    order = np.argsort(-proba, axis=1)[:, :k]
    out = []
    for row, top in zip(proba, order):
        top_list = [{"label": classes[j], "confidence": round(float(row[j]), 4)} for j in top]
        every = {classes[j]: round(float(row[j]), 4) for j in range(len(classes))} if scores else {}
        out.append((classes[top[0]], float(row[top[0]]), top_list, every))
    return out


def _quality(loaded, texts: list[str], features: list[dict] | None) -> list[float]:
    try:
        scores = loaded.estimator.predict(texts, features=features)
    except TypeError:  # a text-only regressor
        scores = loaded.estimator.predict(texts)
    return [float(min(5.0, max(1.0, s))) if s is not None and math.isfinite(s) else None for s in scores]


def predict_texts(
    *, texts: list[str], features: list[dict] | None = None, language: str | None = None,
    models: ModelSet | None = None, top_k: int = TOP_K, with_quality: bool = True,
) -> list[dict]:
    """Predict intent, sentiment and quality for each text with the production models.

    ``with_quality=False`` skips the quality model (the costliest of the three on one text).
    ``uncertain`` is set when the top intent confidence is below
    ``CONFIDENCE_THRESHOLD`` or the top two intents are closer than ``CONFIDENCE_MIN_GAP``.
    """
    models = models if models is not None else production_models()
    n = len(texts)
    texts = ["" if t is None else str(t) for t in texts]
    # Inference on loaded, verified estimators: scikit-learn's per-call parameter validation and
    # finiteness scans of our own feature matrices are skipped, and the models that tokenize
    # alike analyse each text once (see docs/benchmarks.md, predict).
    with sklearn.config_context(assume_finite=True, skip_parameter_validation=True), shared_analysis():
        intents = _classify(models.get("intent"), texts, top_k) if models.get("intent") else [None] * n
        sentiments = (
            _classify(models.get("sentiment"), texts, top_k, scores=True) if models.get("sentiment") else [None] * n
        )
        qualities = (
            _quality(models.get("quality"), texts, features) if with_quality and models.get("quality") else [None] * n
        )
    threshold = settings.CONFIDENCE_THRESHOLD
    min_gap = settings.CONFIDENCE_MIN_GAP
    versions = models.versions
    version_key = models.version_key
    results = []
    for intent, sentiment, quality in zip(intents, sentiments, qualities):
        flags = []
        uncertain = False
        if intent is not None:
            top = intent[2]
            gap = top[0]["confidence"] - top[1]["confidence"] if len(top) > 1 else 1.0
            uncertain = intent[1] < threshold or gap < min_gap
            if uncertain:
                flags.append("uncertain")
        if sentiment is not None and sentiment[0] == NEGATIVE:
            flags.append("negative_sentiment")
        if quality is not None and quality < LOW_QUALITY:
            flags.append("low_quality")
        results.append({
            "intent": intent[0] if intent else None,
            "intent_confidence": round(intent[1], 4) if intent else None,
            "intent_top": intent[2] if intent else [],
            "sentiment": sentiment[0] if sentiment else None,
            "sentiment_confidence": round(sentiment[1], 4) if sentiment else None,
            "sentiment_scores": sentiment[3] if sentiment else {},
            "quality_score": round(quality, 3) if quality is not None else None,
            "uncertain": uncertain,
            "flags": flags,
            "model_versions": versions,
            "version_key": version_key,
        })
    return results


def _prediction_row(conversation_id: int, result: dict, models: ModelSet, job_id: int | None, now) -> Prediction:
    ids = models.version_ids
    return Prediction(
        conversation_id=conversation_id, version_key=result["version_key"],
        intent_version_id=ids.get("intent"), sentiment_version_id=ids.get("sentiment"),
        quality_version_id=ids.get("quality"),
        intent=result["intent"] or "", intent_confidence=result["intent_confidence"],
        intent_top=result["intent_top"], sentiment=result["sentiment"] or "",
        sentiment_confidence=result["sentiment_confidence"], sentiment_scores=result["sentiment_scores"],
        quality_score=result["quality_score"], uncertain=result["uncertain"], flags=result["flags"],
        job_id=job_id, scored_at=now,
    )


PREDICTION_UPDATE_FIELDS = [
    "intent_version", "sentiment_version", "quality_version", "intent", "intent_confidence", "intent_top",
    "sentiment", "sentiment_confidence", "sentiment_scores", "quality_score", "uncertain", "flags", "job",
    "scored_at",
]


def predictions_upsert(
    *, conversation_ids: list[int], results: list[dict], models: ModelSet, job_id: int | None = None,
    denormalise: bool = True,
) -> list[Prediction]:
    """Upsert one Prediction per conversation (keyed by conversation + version key) and, with
    ``denormalise``, point each conversation's denormalised fields at it. Call inside a transaction."""
    now = timezone.now()
    rows = [_prediction_row(cid, r, models, job_id, now) for cid, r in zip(conversation_ids, results)]
    if not rows:
        return []
    if connection.vendor == "postgresql":
        saved = _predictions_upsert_postgresql(rows)
    else:
        saved = Prediction.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["conversation", "version_key"],
            update_fields=PREDICTION_UPDATE_FIELDS, batch_size=1000,
        )
    if any(p.pk is None for p in saved):  # backends without RETURNING on upsert
        pk_by_conv = dict(
            Prediction.objects.filter(conversation_id__in=conversation_ids, version_key=models.version_key)
            .values_list("conversation_id", "pk")
        )
        for p in saved:
            p.pk = pk_by_conv[p.conversation_id]
    if denormalise:
        _conversations_denormalise(saved, now)
    return saved


_PG_COLUMNS = [
    # (column, array type, attribute getter)
    ("conversation_id", "bigint[]", lambda p: p.conversation_id),
    ("version_key", "text[]", lambda p: p.version_key),
    ("intent_version_id", "bigint[]", lambda p: p.intent_version_id),
    ("sentiment_version_id", "bigint[]", lambda p: p.sentiment_version_id),
    ("quality_version_id", "bigint[]", lambda p: p.quality_version_id),
    ("intent", "text[]", lambda p: p.intent),
    ("intent_confidence", "double precision[]", lambda p: p.intent_confidence),
    ("intent_top", "jsonb[]", lambda p: json.dumps(p.intent_top)),
    ("sentiment", "text[]", lambda p: p.sentiment),
    ("sentiment_confidence", "double precision[]", lambda p: p.sentiment_confidence),
    ("sentiment_scores", "jsonb[]", lambda p: json.dumps(p.sentiment_scores)),
    ("quality_score", "double precision[]", lambda p: p.quality_score),
    ("uncertain", "boolean[]", lambda p: p.uncertain),
    ("flags", "jsonb[]", lambda p: json.dumps(p.flags)),
    ("job_id", "bigint[]", lambda p: p.job_id),
    ("scored_at", "timestamptz[]", lambda p: p.scored_at),
]


def _predictions_upsert_postgresql(rows: list[Prediction]) -> list[Prediction]:
    """The same upsert as ``bulk_create(update_conflicts=True)``, as one ``INSERT ... SELECT unnest``.

    One array parameter per column instead of one placeholder per value: the batch path's
    largest database cost (docs/benchmarks.md, "Batch scoring through the queue").
    """
    table = Prediction._meta.db_table
    columns = ", ".join(c for c, _, _ in _PG_COLUMNS)
    arrays = ", ".join(f"%s::{t}" for _, t, _ in _PG_COLUMNS)
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c, _, _ in _PG_COLUMNS[2:])
    params = [[get(p) for p in rows] for _, _, get in _PG_COLUMNS]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT * FROM unnest({arrays}) "
            f"ON CONFLICT (conversation_id, version_key) DO UPDATE SET {updates} "
            f"RETURNING conversation_id, id",
            params,
        )
        pk_by_conversation = dict(cursor.fetchall())
    for p in rows:
        p.pk = pk_by_conversation[p.conversation_id]
        p._state.adding = False
    return rows


def _conversations_denormalise(predictions: list[Prediction], now) -> None:
    if connection.vendor == "postgresql":
        # One UPDATE ... FROM (VALUES ...) instead of Django's CASE WHEN per row (the batch path's
        # hot spot; docs/benchmarks.md, "Batch scoring through the queue").
        table = Conversation._meta.db_table
        values_sql = ", ".join(["(%s, %s, %s, %s, %s::double precision, %s::boolean)"] * len(predictions))
        params: list[Any] = []
        for p in predictions:
            params += [p.conversation_id, p.pk, p.intent, p.sentiment, p.quality_score, p.uncertain]
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} AS c SET prediction_id = v.pid, predicted_intent = v.intent, "
                f"predicted_sentiment = v.sentiment, predicted_quality = v.quality, uncertain = v.uncertain, "
                f"updated_at = %s "
                f"FROM (VALUES {values_sql}) AS v(cid, pid, intent, sentiment, quality, uncertain) "
                f"WHERE c.id = v.cid",
                [now, *params],
            )
        return
    conversations = [
        Conversation(
            pk=p.conversation_id, prediction_id=p.pk, predicted_intent=p.intent, predicted_sentiment=p.sentiment,
            predicted_quality=p.quality_score, uncertain=p.uncertain, updated_at=now,
        )
        for p in predictions
    ]
    Conversation.objects.bulk_update(
        conversations,
        ["prediction", "predicted_intent", "predicted_sentiment", "predicted_quality", "uncertain", "updated_at"],
        batch_size=500,
    )


SCORE_FIELDS = ("id", "customer_text", "features", "channel", "resolved", "n_messages", "agent_id", "customer_id")


def conversations_predict(*, conversation_ids: list[int], models: ModelSet) -> tuple[list[int], list[dict]]:
    """Predict the given conversations (missing ids are left out). Returns (ids, results)."""
    rows = list(Conversation.objects.filter(pk__in=conversation_ids).order_by("pk").values(*SCORE_FIELDS))
    ids: list[int] = []
    results: list[dict] = []
    for start in range(0, len(rows), PREDICT_BATCH):
        batch = rows[start:start + PREDICT_BATCH]
        results += predict_texts(
            texts=[r["customer_text"] for r in batch], features=[conversation_features(r) for r in batch],
            models=models,
        )
        ids += [r["id"] for r in batch]
    return ids, results


_prediction_children: dict = {}  # (task, label, path) -> counter child (labels() once)


def predictions_count(results: Iterable[dict], path: str) -> None:
    """Count answered predictions in the Prometheus counter (``path``: "api" or "batch"); never raises."""
    try:
        counts: dict[tuple[str, str], int] = {}
        for r in results:
            if r.get("intent") is not None:
                key = ("intent", "uncertain" if r["uncertain"] else r["intent"])
                counts[key] = counts.get(key, 0) + 1
            if r.get("sentiment") is not None:
                counts[("sentiment", r["sentiment"])] = counts.get(("sentiment", r["sentiment"]), 0) + 1
        for (task, label), n in counts.items():
            child = _prediction_children.get((task, label, path))
            if child is None:
                child = _prediction_children[(task, label, path)] = PREDICTIONS.labels(task=task, label=label, path=path)
            child.inc(n)
    except Exception:
        logger.debug("metrics update failed", exc_info=True)


def predictions_discard(sender=None, *, conversation_ids: list[int], **kwargs) -> int:
    """``conversations_changed`` receiver: drop the predictions of conversations whose content changed."""
    return Prediction.objects.filter(conversation_id__in=conversation_ids).delete()[0]


def prediction_for_conversation(*, external_id: str, result: dict, models: ModelSet) -> Prediction | None:
    """Persist a real-time prediction for a conversation the CRM named (None when unknown)."""
    conversation_id = Conversation.objects.filter(external_id=external_id).values_list("pk", flat=True).first()
    if conversation_id is None:
        return None
    with transaction.atomic():
        return predictions_upsert(conversation_ids=[conversation_id], results=[result], models=models)[0]
