"""Registry tasks: train a candidate on ``gpu`` and promote it only when it is better."""
from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.db import InterfaceError, OperationalError, close_old_connections

logger = logging.getLogger(__name__)


@shared_task(
    bind=True, name="registry.train_candidate", acks_late=True, reject_on_worker_lost=True,
    soft_time_limit=3300, time_limit=3600, max_retries=3, ignore_result=True,
)
def train_candidate(self, job_id: int) -> None:
    from apps.jobs import services as job_services
    from apps.registry import training

    try:
        training.retrain_run(job_id=job_id, task_id=self.request.id)
    except (OperationalError, InterfaceError) as exc:
        close_old_connections()
        if self.request.retries >= self.max_retries:
            job_services.job_finish(job_id=job_id, status="failed", error=f"{type(exc).__name__}: {exc}")
            raise
        raise self.retry(exc=exc, countdown=min(300, 2 ** (self.request.retries + 2)))
    except SoftTimeLimitExceeded:
        job_services.job_finish(job_id=job_id, status="failed", error="training exceeded its time limit")
        raise
    except Exception as exc:
        logger.exception("retraining job %s failed", job_id)
        job_services.job_step(job_id=job_id, step="failed", error=f"{type(exc).__name__}: {exc}")
        job_services.job_finish(job_id=job_id, status="failed", error=f"{type(exc).__name__}: {exc}")
        raise
