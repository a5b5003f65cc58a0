"""Webhook delivery: one task per delivery, retried with backoff on the ``default`` queue."""
from celery import shared_task

from apps.webhooks import services as webhook_services


@shared_task(
    name="webhooks.deliver", bind=True, acks_late=True, reject_on_worker_lost=True,
    max_retries=8, soft_time_limit=30, time_limit=60, ignore_result=True,
)
def deliver(self, delivery_id: int) -> None:
    """Attempt the delivery; retry only ``DeliveryTransientError``; after the last retry record the failure."""
    try:
        webhook_services.delivery_attempt(delivery_id=delivery_id)
    except webhook_services.DeliveryTransientError as exc:
        if self.request.retries >= self.max_retries:
            webhook_services.delivery_fail(delivery_id=delivery_id, error=str(exc))
            return
        raise self.retry(exc=exc, countdown=webhook_services.delivery_backoff(retries=self.request.retries))
