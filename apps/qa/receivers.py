"""Receivers of the core hooks: QA scoring of scored chunks and the nightly QA step."""
from __future__ import annotations
from apps.jobs.services import job_step


def on_conversations_scored(sender, *, conversation_ids: list[int], job_id: int | None = None, **kwargs) -> None:
    from .services import qa_results_upsert

    qa_results_upsert(conversation_ids=conversation_ids)


def on_assessment_aggregating(sender, *, date, job_id: int | None = None, **kwargs) -> None:
    from .assessment import qa_assessment_run

    result = qa_assessment_run(date=date)
    if job_id is not None:
        job_step(job_id=job_id, step="qa", **result)
