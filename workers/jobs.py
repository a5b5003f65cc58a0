"""Jobs housekeeping: the watchdog and the task-result cleanup (queue ``default``)."""
from __future__ import annotations

from celery import shared_task

from workers.base import PlatformTask


@shared_task(base=PlatformTask, name="jobs.watchdog", queue_name="default", soft_time_limit=240, time_limit=300)
def watchdog() -> dict:
    """Finish complete jobs and re-send stalled chunks and unsent jobs (beat: ``JOB_WATCHDOG_SECONDS``)."""
    from apps.jobs.services import jobs_watchdog

    return {str(k): v for k, v in jobs_watchdog().items()}


@shared_task(base=PlatformTask, name="jobs.cleanup_results", queue_name="default", soft_time_limit=1700,
             time_limit=1800)
def cleanup_results(days: int | None = None, batch_size: int = 5000) -> int:
    """Delete Celery results older than ``days`` in id-range batches (never loads the table)."""
    from apps.jobs.services import task_results_cleanup

    return task_results_cleanup(days=days, batch_size=batch_size)
