"""End to end through a real ``celery worker`` process: emit → commit → queue → worker → receiver."""
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from apps.webhooks import services
from apps.webhooks.models import WebhookDelivery

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def worker():
    if connection.vendor != "postgresql" or not settings.CELERY_BROKER_URL.startswith("redis"):
        pytest.skip("needs PostgreSQL and Redis shared with a worker process")
    env = {**os.environ, "DATABASE_URL": _database_url(), "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
           "WEBHOOK_ALLOW_PRIVATE": "true"}  # the receiver listens on 127.0.0.1
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "csplatform", "worker", "-Q", "default", "-P", "solo",
         "--without-gossip", "--without-mingle", "--loglevel", "WARNING"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    yield proc
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_emitted_event_is_delivered_by_a_worker(worker, receiver):
    subscription = services.subscription_create(name="crm", url=receiver.url, events=["conversation.flagged"])
    receiver.secret = subscription.secret
    receiver.statuses = [500]  # first attempt fails; the retry waits 15–30 s (backoff), so keep the deadline generous

    assert services.event_emit(event="conversation.flagged", payload={"conversation_id": 5, "reasons": ["x"]}) == 1
    delivery = WebhookDelivery.objects.get()

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and worker.poll() is None:
        delivery.refresh_from_db()
        if delivery.status != WebhookDelivery.Status.PENDING:
            break
        time.sleep(0.5)
    if worker.poll() is not None:
        pytest.fail(f"worker exited: {worker.stdout.read()[-3000:]}")
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    assert delivery.attempts == 2
    assert len(receiver.requests) == 2 and all(r.verified for r in receiver.requests)
