"""Retraining with gated promotion.

The training set is every labelled conversation; a manager's reviewed label wins over
the label the CRM imported. The held-out split is fixed by the conversation's
external id (crc32 mod 5 == 0), so candidate and production are always measured on the
same rows, run after run. A candidate is promoted only when it beats production by
``PROMOTION_MARGIN`` (macro-F1 for intent/sentiment, MAE for quality).
"""
from __future__ import annotations

import logging
import time
import zlib
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings

from apps.conversations.features import conversation_features
from apps.conversations.models import Conversation
from apps.core.exceptions import ApplicationError
from apps.jobs import services as job_services
from apps.jobs.models import Job

from . import services
from .loader import ModelsUnavailable, models_for
from .models import ModelVersion, Task

logger = logging.getLogger(__name__)

# A conversation's review (the scoring app's ``ReviewItem``, reached through the ``review``
# relation) with this status carries labels that win over the imported ones.
REVIEWED = "reviewed"
HELDOUT_MOD = 5
MIN_TRAIN = 10
SHADOW_SAMPLE = 500


def is_heldout(external_id: str) -> bool:
    """Fixed split: the same conversation is always held out, for every model and run."""
    return zlib.crc32(external_id.encode("utf-8")) % HELDOUT_MOD == 0


@dataclass
class Dataset:
    texts: list = field(default_factory=list)
    labels: list = field(default_factory=list)
    features: list = field(default_factory=list)
    n_reviewed: int = 0


def training_data(*, task: str) -> tuple[Dataset, Dataset]:
    """(train, held-out) for ``task`` from labelled conversations; reviewed labels win."""
    label_field = {"intent": "label_intent", "sentiment": "label_sentiment", "quality": "label_quality"}[task]
    review_field = {"intent": "review__intent", "sentiment": "review__sentiment", "quality": "review__quality"}[task]
    rows = (
        Conversation.objects.values(
            "id", "external_id", "customer_text", "features", "channel", "resolved", "n_messages",
            label_field, review_field, "review__status",
        ).order_by("id")
    )
    train, heldout = Dataset(), Dataset()
    for row in rows.iterator(chunk_size=5000):
        label, reviewed = row[label_field], False
        review_label = row[review_field]
        if row["review__status"] == REVIEWED and review_label not in (None, ""):
            label, reviewed = review_label, True
        if label in (None, ""):
            continue
        target = heldout if is_heldout(row["external_id"]) else train
        target.texts.append(row["customer_text"])
        target.labels.append(float(label) if task == Task.QUALITY else str(label))
        target.features.append(conversation_features(row))
        target.n_reviewed += int(reviewed)
    return train, heldout


def evaluate(*, task: str, estimator, data: Dataset) -> dict:
    if not data.texts:
        return {}
    if task == Task.QUALITY:
        try:
            pred = np.asarray(estimator.predict(data.texts, features=data.features), dtype=float)
        except TypeError:
            pred = np.asarray(estimator.predict(data.texts), dtype=float)
        y = np.asarray(data.labels, dtype=float)
        return {"mae": round(float(np.mean(np.abs(pred - y))), 4), "n": len(y)}
    from sklearn.metrics import accuracy_score, f1_score

    pred = [str(p) for p in estimator.predict(data.texts)]
    return {
        "macro_f1": round(float(f1_score(data.labels, pred, average="macro", zero_division=0)), 4),
        "accuracy": round(float(accuracy_score(data.labels, pred)), 4),
        "n": len(pred),
    }


def is_better(*, task: str, candidate: dict, production: dict | None, margin: float) -> tuple[bool, str]:
    if not production:
        return True, "no production version to compare with"
    if task == Task.QUALITY:
        gain = production["mae"] - candidate["mae"]
        text = f"MAE {production['mae']:.4f} -> {candidate['mae']:.4f} (needs -{margin})"
    else:
        gain = candidate["macro_f1"] - production["macro_f1"]
        text = f"macro-F1 {production['macro_f1']:.4f} -> {candidate['macro_f1']:.4f} (needs +{margin})"
    return gain >= margin, text


def _default_backend(task: str, backend: str) -> str:
    return "quality" if task == Task.QUALITY and backend in ("linear", "quality") else backend


def candidate_train(*, job: Job, task: str, backend: str, hyperparams: dict, promote: str) -> dict:
    """Train, evaluate against production, register, and promote or reject one task's candidate."""
    import ml

    train, heldout = training_data(task=task)
    job_services.job_step(job_id=job.pk, step="dataset", task=task, n_train=len(train.texts),
                          n_heldout=len(heldout.texts), n_reviewed=train.n_reviewed + heldout.n_reviewed)
    if len(train.texts) < MIN_TRAIN or (task != Task.QUALITY and len(set(train.labels)) < 2):
        job_services.job_step(job_id=job.pk, step="skipped", task=task, reason="not enough labelled data")
        return {"decision": "skipped", "reason": "not enough labelled data"}
    backend = _default_backend(task, backend)
    started = time.monotonic()
    estimator = ml.build(task, backend, **hyperparams).fit(train.texts, train.labels, features=train.features)
    train_s = round(time.monotonic() - started, 2)
    candidate_metrics = evaluate(task=task, estimator=estimator, data=heldout)
    job_services.job_step(job_id=job.pk, step="trained", task=task, seconds=train_s, heldout=candidate_metrics)

    production = ModelVersion.objects.filter(task=task, status=ModelVersion.Status.PRODUCTION).first()
    production_metrics = None
    production_refused = ""
    if production is not None:
        try:
            production_est = models_for([production.pk]).get(task).estimator  # sha256-verified load
        except ModelsUnavailable as exc:
            # A production artifact that cannot be verified serves nobody: a working candidate replaces it.
            production_refused = exc.message
            job_services.job_step(job_id=job.pk, step="production refused", task=task,
                                  version=production.version, error=exc.message)
        else:
            production_metrics = evaluate(task=task, estimator=production_est, data=heldout)
            job_services.job_step(job_id=job.pk, step="evaluated production", task=task,
                                  version=production.version, heldout=production_metrics)
    margin = float(settings.PROMOTION_MARGIN)
    if promote == "always":
        better, reason = True, "promotion forced (bootstrap)"
    elif production_refused:
        better, reason = True, f"production v{production.version} refused: {production_refused}"
    elif not heldout.texts and production is not None:
        better, reason = False, "empty held-out set: cannot compare"
    else:
        better, reason = is_better(task=task, candidate=candidate_metrics, production=production_metrics,
                                   margin=margin)
    comparison = {
        "heldout": {"rule": f"crc32(external_id) % {HELDOUT_MOD} == 0", "n": len(heldout.texts)},
        "candidate": candidate_metrics, "production": production_metrics,
        "production_version": production.version if production else None, "margin": margin,
        "reason": reason,
    }
    mv = services.model_version_register(
        task=task, backend=backend, estimator=estimator, job=job,
        training_data={"n_train": len(train.texts), "n_reviewed": train.n_reviewed,
                       "labels": "reviewed over imported", "fingerprint": getattr(estimator, "fingerprint_", "")},
        metrics={**candidate_metrics, "train_seconds": train_s}, comparison=comparison,
    )
    job_services.job_step(job_id=job.pk, step="registered", task=task, version=mv.version, sha256=mv.sha256)
    decision = "rejected"
    if better and promote != "never":
        try:
            # Compared with ``production`` above: promoted only if that is still the production version.
            services.model_version_promote(version=mv, reason=f"retrain job {job.pk}: {reason}",
                                           expected_production=production.pk if production else None)
            decision = "promoted"
        except services.ProductionChanged as exc:
            reason = exc.message
    if decision == "rejected":
        if job.params.get("shadow") and production is not None:
            comparison["shadow"] = shadow_compare(task=task, candidate=estimator, production=production)
            mv.comparison = comparison
            mv.save(update_fields=["comparison"])
        services.model_version_reject(version=mv, reason=reason)
    job_services.job_step(job_id=job.pk, step=decision, task=task, version=mv.version, reason=reason)
    return {"decision": decision, "version": mv.version, "model_version_id": mv.pk, "reason": reason,
            "candidate": candidate_metrics, "production": production_metrics}


def shadow_compare(*, task: str, candidate, production: ModelVersion) -> dict:
    """Shadow mode: the candidate scores a sample of recent conversations; record agreement."""
    texts = list(Conversation.objects.order_by("-started_at").values_list("customer_text", flat=True)[:SHADOW_SAMPLE])
    if not texts or task == Task.QUALITY:
        return {"n": 0}
    prod = models_for([production.pk]).get(task).estimator
    a, b = candidate.predict(texts), prod.predict(texts)
    agreement = float(np.mean([str(x) == str(y) for x, y in zip(a, b)]))
    return {"n": len(texts), "agreement": round(agreement, 4)}


def retrain_run(*, job_id: int, task_id: str | None = None) -> dict:
    """Run a retraining job: one candidate per task, every step recorded on the job.

    ``task_id``: the Celery message running it, which claims the job (``job_start``); a cancelled
    job, or one another message runs, is left alone.
    """
    job = Job.objects.get(pk=job_id)
    if job.status in job_services.TERMINAL or not job_services.job_start(job_id=job_id, total=0, task_id=task_id):
        return job.result or {}
    params = job.params or {}
    tasks = params.get("tasks") or list(Task.values)
    backend = params.get("backend") or settings.RETRAIN_BACKEND
    hyper = params.get("hyperparams") or {}
    promote = params.get("promote", "if_better")
    Job.objects.filter(pk=job_id).update(total=len(tasks))
    results = {}
    for task in tasks:
        results[task] = candidate_train(job=job, task=task, backend=backend, hyperparams=hyper.get(task, {}),
                                        promote=promote)
        job_services.job_progress(job_id=job_id, done=1)
    job_services.job_finish(job_id=job_id, result={"tasks": results})
    return results


def retrain_submit(*, params: dict | None = None, created_by=None, idempotency_key: str | None = None):
    params = dict(params or {})
    unknown = set(params.get("tasks") or []) - set(Task.values)
    if unknown:
        raise ApplicationError(f"Unknown tasks: {', '.join(sorted(unknown))}.", {"tasks": Task.values})
    return job_services.job_create(kind="retrain", params=params, created_by=created_by,
                                   idempotency_key=idempotency_key)
