"""Scoring tasks: orchestrator on ``default``, chunks on ``gpu``, nightly assessment on ``default``.

Arguments are ids (never texts or model instances), so nothing personal reaches the
broker, the result table or Flower.
"""
from __future__ import annotations

import logging

from celery import group, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.db import InterfaceError, OperationalError, close_old_connections

logger = logging.getLogger(__name__)

# Only these are worth retrying: the database went away or was busy. Anything else is a bug
# or bad data, and retrying would only repeat it.
TRANSIENT_ERRORS = (OperationalError, InterfaceError)
MAX_RETRIES = 5


def backoff(retries: int) -> int:
    return min(300, 2 ** (retries + 1))


@shared_task(
    bind=True, name="scoring.score_job", acks_late=True, reject_on_worker_lost=True,
    soft_time_limit=600, time_limit=660, max_retries=MAX_RETRIES, ignore_result=True,
)
def score_job(self, job_id: int) -> int:
    """Plan a scoring job into chunks and fan them out (never waits for them)."""
    from apps.jobs import services as job_services
    from apps.scoring import jobs as scoring_jobs

    try:
        pending = scoring_jobs.score_job_plan(job_id=job_id)
    except TRANSIENT_ERRORS as exc:
        close_old_connections()
        raise self.retry(exc=exc, countdown=backoff(self.request.retries))
    except Exception as exc:
        logger.exception("planning job %s failed", job_id)
        job_services.job_finish(job_id=job_id, status="failed", error=f"{type(exc).__name__}: {exc}")
        return 0
    if pending:
        group(score_chunk.si(job_id, index, ids) for index, ids in pending).apply_async()
    return len(pending)


@shared_task(
    bind=True, name="scoring.score_chunk", acks_late=True, reject_on_worker_lost=True,
    soft_time_limit=540, time_limit=600, max_retries=MAX_RETRIES, ignore_result=True,
)
def score_chunk(self, job_id: int, chunk_index: int, conversation_ids: list[int]) -> dict:
    from apps.scoring import jobs as scoring_jobs

    try:
        return scoring_jobs.chunk_score(job_id=job_id, conversation_ids=conversation_ids, chunk_index=chunk_index)
    except TRANSIENT_ERRORS as exc:
        close_old_connections()
        if self.request.retries >= self.max_retries:
            scoring_jobs.chunk_fail(job_id=job_id, chunk_index=chunk_index, error=f"{type(exc).__name__}: {exc}")
            raise
        raise self.retry(exc=exc, countdown=backoff(self.request.retries))
    except SoftTimeLimitExceeded:
        scoring_jobs.chunk_fail(job_id=job_id, chunk_index=chunk_index, error="soft time limit exceeded")
        raise
    except Exception as exc:
        logger.exception("chunk %s of job %s failed", chunk_index, job_id)
        scoring_jobs.chunk_fail(job_id=job_id, chunk_index=chunk_index, error=f"{type(exc).__name__}: {exc}")
        raise


@shared_task(
    bind=True, name="scoring.nightly_assessment", acks_late=True, soft_time_limit=300,
    time_limit=360, max_retries=MAX_RETRIES,
)
def nightly_assessment(self, date: str | None = None) -> int | None:
    """Beat entry point: score what production has not scored, then assess ``date`` (default yesterday)."""
    from apps.registry import training
    from apps.scoring import assessment

    try:
        job = assessment.assessment_start(date=assessment.parse_date(date))
        training.retrain_if_due()
    except TRANSIENT_ERRORS as exc:
        close_old_connections()
        raise self.retry(exc=exc, countdown=backoff(self.request.retries))
    return job.pk if job else None


@shared_task(
    bind=True, name="scoring.assess_aggregate", acks_late=True, reject_on_worker_lost=True,
    soft_time_limit=1700, time_limit=1800, max_retries=MAX_RETRIES, ignore_result=True,
)
def assess_aggregate(self, job_id: int) -> None:
    from apps.jobs import services as job_services
    from apps.scoring import assessment

    try:
        assessment.assessment_aggregate(job_id=job_id, task_id=self.request.id)
    except TRANSIENT_ERRORS as exc:
        close_old_connections()
        if self.request.retries >= self.max_retries:
            job_services.job_finish(job_id=job_id, status="failed", error=f"{type(exc).__name__}: {exc}")
            raise
        raise self.retry(exc=exc, countdown=backoff(self.request.retries))
    except Exception as exc:
        logger.exception("assessment job %s failed", job_id)
        job_services.job_finish(job_id=job_id, status="failed", error=f"{type(exc).__name__}: {exc}")
        raise


@shared_task(name="scoring.resume_stalled_jobs", soft_time_limit=300, time_limit=360, ignore_result=True)
def resume_stalled_jobs(stalled_after: int | None = None) -> list[int]:
    """Beat entry (every 10 minutes): send stalled jobs' lost messages again (scoring: the pending chunks)."""
    from apps.jobs import services as job_services

    return job_services.stalled_jobs_resume(stalled_after=stalled_after)
