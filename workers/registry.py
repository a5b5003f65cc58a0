"""Registry tasks: train a candidate on ``gpu`` and promote it only when it is better."""
from __future__ import annotations

from celery import shared_task

from workers.base import PlatformTask


@shared_task(bind=True, base=PlatformTask, name="registry.train_candidate", queue_name="gpu", job_arg="job_id",
             soft_time_limit=3300, time_limit=3600)
def train_candidate(self, job_id: int) -> dict:
    from apps.registry.training import retrain_run

    return retrain_run(job_id=job_id, task_id=self.request.id)
