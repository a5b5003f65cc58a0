"""Batch scoring jobs: submit a job, plan it into chunks, score each chunk.

A chunk is one transaction: predictions, denormalised conversation fields and the chunk's
progress commit together, so a worker killed mid-chunk leaves nothing behind and the
redelivered chunk counts its conversations exactly once. A chunk checks between batches
whether its job was cancelled. A job keeps the versions it started with; the conversations'
denormalised prediction moves to its rows only while those versions are still in production.
"""
from __future__ import annotations

from django.conf import settings
from django.db import transaction

from apps.conversations.selectors import job_conversations
from apps.core import hooks
from apps.core.exceptions import ApplicationError
from apps.jobs import services as job_services
from apps.jobs.models import Job
from apps.registry.loader import ModelSet, models_for, production_models

from .predict import PREDICT_BATCH, predictions_count, conversations_predict, predictions_upsert


def job_models(job: Job) -> ModelSet:
    """The versions a job scores with: pinned in its params when it started."""
    pinned = (job.params or {}).get("versions")
    return models_for(pinned) if pinned else production_models()


def chunk_score(*, job_id: int, chunk_index: int, conversation_ids: list[int], retries: int = 0) -> dict:
    """Score one chunk of a job. Idempotent: a replay upserts the same rows and counts nothing twice."""
    if not job_services.chunk_begin(job_id=job_id, chunk_index=chunk_index, retries=retries):
        # A copy of a finished chunk: the job may still need the finish its last chunk could not do.
        job_services.job_finish(job_id=job_id, only_when_complete=True)
        return {"skipped": True}
    job = Job.objects.only("pk", "params").get(pk=job_id)
    models = job_models(job)
    ids: list[int] = []
    results: list[dict] = []
    for start in range(0, len(conversation_ids), PREDICT_BATCH):
        if start and job_services.job_is_cancelled(job_id=job_id):
            job_services.chunk_begin(job_id=job_id, chunk_index=chunk_index)  # skips it: the job is cancelled
            return {"cancelled": True}
        batch_ids, batch_results = conversations_predict(
            conversation_ids=conversation_ids[start:start + PREDICT_BATCH], models=models)
        ids += batch_ids
        results += batch_results
    n_missing = len(set(conversation_ids)) - len(ids)
    follows_production = production_models(required=False).version_key == models.version_key
    with transaction.atomic():
        predictions_upsert(conversation_ids=ids, results=results, models=models, job_id=job_id,
                           denormalise=follows_production)
        hooks.conversations_scored.send(sender=Job, conversation_ids=ids, job_id=job_id)
        counted = job_services.chunk_done(job_id=job_id, chunk_index=chunk_index, done=len(ids), failed=n_missing)
    predictions_count(results, path="batch")
    job_services.job_finish(job_id=job_id, only_when_complete=True)
    return {"done": len(ids), "failed": n_missing, "counted": counted}


# --- orchestration -------------------------------------------------------------

def score_target_queryset(params: dict, version_key: str | None = None):
    """Conversations a scoring job covers: the shared job targets, less those ``version_key``
    already scored when the job asks for ``unscored`` only."""
    qs = job_conversations(params)
    if params.get("unscored") and version_key:
        qs = qs.exclude(predictions__version_key=version_key)
    return qs


def score_job_plan(*, job_id: int) -> list[tuple[int, list[int]]]:
    """Split a scoring job into chunks (once, pinning the production versions) and return the pending ones."""

    def plan(job: Job):
        models = production_models()
        params = {**(job.params or {}), "versions": models.version_ids, "version_key": models.version_key}
        ids = score_target_queryset(params, models.version_key).order_by("pk").values_list("pk", flat=True)
        size = params.get("chunk_size") or settings.SCORE_CHUNK_SIZE
        return ids.iterator(chunk_size=10000), size, params, {"version_key": models.version_key}

    return job_services.chunks_plan(job_id=job_id, plan=plan)


def score_job_run(*, job_id: int) -> int:
    """The orchestrator: plan the job (once) and send its pending chunks. Returns how many were sent."""
    pending = score_job_plan(job_id=job_id)
    return job_services.chunks_dispatch(job_id=job_id, chunks=pending) if pending else 0


def score_job_submit(*, params: dict, created_by=None, idempotency_key: str | None = None) -> tuple[Job, bool]:
    """Validate scoring parameters and create (and dispatch) a scoring job."""
    allowed = {"since", "until", "agent", "conversations", "conversation_ids", "all", "unscored", "chunk_size"}
    unknown = set(params) - allowed
    if unknown:
        raise ApplicationError(f"Unknown parameters: {', '.join(sorted(unknown))}.")
    if not any(params.get(k) for k in ("since", "until", "agent", "conversations", "conversation_ids", "all",
                                       "unscored")):
        raise ApplicationError(
            "Say what to score: a date range (since/until), an agent, a list of conversations, or all."
        )
    production_models()  # 503 now rather than a failed job later
    return job_services.job_create(
        kind="score", params=params, created_by=created_by, idempotency_key=idempotency_key,
    )
