"""Webhook delivery: one task per delivery, retried with the delivery's own backoff on ``default``."""
from __future__ import annotations

from celery import shared_task

from workers.base import PlatformTask


@shared_task(bind=True, base=PlatformTask, name="webhooks.deliver", queue_name="default", max_retries=8,
             soft_time_limit=30, time_limit=60)
def deliver(self, delivery_id: int) -> None:
    """Attempt the delivery; retry a refused one with backoff; after the last retry record the failure."""
    from apps.webhooks.services import delivery_deliver

    retry_in = delivery_deliver(delivery_id=delivery_id, retries=self.request.retries,
                                max_retries=self.max_retries)
    if retry_in is not None:
        raise self.retry(countdown=retry_in)
