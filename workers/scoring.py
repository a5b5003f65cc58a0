"""Scoring tasks: orchestrator on ``default``, chunks on ``gpu``, nightly assessment on ``default``.

Arguments are ids (never texts or model instances), so nothing personal reaches the broker,
the result table or Flower. Services are imported when a task runs (see ``workers.base``).
"""
from __future__ import annotations

from celery import shared_task

from workers.base import ChunkTask, PlatformTask


@shared_task(bind=True, base=PlatformTask, name="scoring.score_job", queue_name="default", job_arg="job_id",
             soft_time_limit=600, time_limit=660)
def score_job(self, job_id: int) -> int:
    """Plan a scoring job into chunks and send the pending ones (never waits for them)."""
    from apps.scoring.services.batch import score_job_run

    return score_job_run(job_id=job_id)


@shared_task(bind=True, base=ChunkTask, name="scoring.score_chunk", queue_name="gpu", soft_time_limit=540,
             time_limit=600)
def score_chunk(self, job_id: int, chunk_index: int, conversation_ids: list[int]) -> dict:
    from apps.scoring.services.batch import chunk_score

    return chunk_score(job_id=job_id, chunk_index=chunk_index, conversation_ids=conversation_ids,
                       retries=self.request.retries)


@shared_task(bind=True, base=PlatformTask, name="scoring.nightly_assessment", queue_name="default",
             soft_time_limit=300, time_limit=360, ignore_result=False)
def nightly_assessment(self, date: str | None = None) -> int | None:
    """Beat entry point: score what production has not scored, assess ``date`` (default yesterday), retrain if due."""
    from apps.scoring.services.assessment import assessment_nightly

    return assessment_nightly(date=date)


@shared_task(bind=True, base=PlatformTask, name="scoring.assess_aggregate", queue_name="default", job_arg="job_id",
             soft_time_limit=1700, time_limit=1800)
def assess_aggregate(self, job_id: int) -> dict:
    from apps.scoring.services.assessment import assessment_aggregate

    return assessment_aggregate(job_id=job_id, task_id=self.request.id)


@shared_task(base=PlatformTask, name="scoring.rebuild_reply_index", queue_name="default", soft_time_limit=1500,
             time_limit=1800)
def rebuild_reply_index(full: bool = False) -> dict:
    """Incremental rebuild (``full=True`` refits the vocabulary); a concurrent second run returns at once."""
    from apps.scoring.services.retrieval import reply_index_rebuild

    return reply_index_rebuild(full=full)
