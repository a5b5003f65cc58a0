"""Housekeeping tasks."""
from __future__ import annotations

from celery import shared_task


@shared_task(name="jobs.cleanup_results", soft_time_limit=1700, time_limit=1800)
def cleanup_results(days: int | None = None, batch_size: int = 5000) -> int:
    """Delete Celery results older than ``days`` in id-range batches (never loads the table)."""
    from apps.jobs.services import task_results_cleanup

    return task_results_cleanup(days=days, batch_size=batch_size)
