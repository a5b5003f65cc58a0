"""QA tasks on queue ``default``: the ``qa_score`` orchestrator and chunks, and a rule's dry run.

Arguments are ids; services are imported when a task runs (see ``workers.base``).
"""
from __future__ import annotations

from celery import shared_task

from workers.base import ChunkTask, PlatformTask


@shared_task(bind=True, base=PlatformTask, name="qa.score_job", queue_name="default", job_arg="job_id",
             soft_time_limit=600, time_limit=660)
def score_job(self, job_id: int) -> int:
    """Plan a ``qa_score`` job into chunks and send the pending ones."""
    from apps.qa.jobs import qa_score_run

    return qa_score_run(job_id=job_id)


@shared_task(bind=True, base=ChunkTask, name="qa.score_chunk", queue_name="default", soft_time_limit=540,
             time_limit=600)
def score_chunk(self, job_id: int, chunk_index: int, conversation_ids: list[int]) -> dict:
    from apps.qa.jobs import qa_score_chunk

    return qa_score_chunk(job_id=job_id, chunk_index=chunk_index, conversation_ids=conversation_ids,
                          retries=self.request.retries)


@shared_task(bind=True, base=PlatformTask, name="qa.try_rule", queue_name="default", job_arg="job_id",
             soft_time_limit=1700, time_limit=1800)
def try_rule(self, job_id: int) -> dict:
    from apps.qa.jobs import rule_try_job

    return rule_try_job(job_id=job_id, task_id=self.request.id)
