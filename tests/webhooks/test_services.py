import json
import socket
import time

import pytest

from apps.core.exceptions import ApplicationError, Conflict
from apps.core.models import AuditEvent
from apps.webhooks import services
from apps.webhooks.models import Event, WebhookDelivery, WebhookSubscription
from workers.webhooks import deliver as deliver_task

pytestmark = pytest.mark.django_db


def _delivery(subscription, payload=None) -> WebhookDelivery:
    return WebhookDelivery.objects.create(
        subscription=subscription, event=Event.JOB_FINISHED, payload=payload or {"job_id": 7, "n_done": 3},
    )


# --- signatures --------------------------------------------------------------

def test_signature_round_trip_and_rejections():
    body = b'{"id":"x","data":{"job_id":1}}'
    ts = int(time.time())
    sig = services.signature_compute(secret="s3cret", timestamp=ts, body=body)
    assert sig.startswith("sha256=")
    assert services.signature_verify(secret="s3cret", timestamp=ts, body=body, signature=sig)
    assert services.signature_verify(secret="s3cret", timestamp=str(ts), body=body.decode(), signature=sig[7:])
    # tampered body, wrong secret, garbage
    assert not services.signature_verify(secret="s3cret", timestamp=ts, body=body + b" ", signature=sig)
    assert not services.signature_verify(secret="other", timestamp=ts, body=body, signature=sig)
    assert not services.signature_verify(secret="s3cret", timestamp=ts, body=body, signature="")
    assert not services.signature_verify(secret="s3cret", timestamp="soon", body=body, signature=sig)
    # the timestamp is signed too: changing it breaks the signature
    assert not services.signature_verify(secret="s3cret", timestamp=ts - 1, body=body, signature=sig)


def test_signature_refuses_old_and_future_timestamps():
    body = b"{}"
    old = int(time.time()) - 301
    sig = services.signature_compute(secret="k", timestamp=old, body=body)
    assert not services.signature_verify(secret="k", timestamp=old, body=body, signature=sig)
    assert services.signature_verify(secret="k", timestamp=old, body=body, signature=sig, tolerance=3600)
    future = int(time.time()) + 301
    sig = services.signature_compute(secret="k", timestamp=future, body=body)
    assert not services.signature_verify(secret="k", timestamp=future, body=body, signature=sig)


# --- subscriptions -----------------------------------------------------------

def test_subscription_create_generates_secret_and_audits():
    sub = services.subscription_create(name="crm", url="https://crm.example.com/hook",
                                       events=["conversation.flagged", "job.finished", "job.finished"])
    assert len(sub.secret) >= 32
    assert sub.events == ["job.finished", "conversation.flagged"]
    event = AuditEvent.objects.get(action="webhook_subscription.create")
    assert event.target_id == str(sub.pk)
    assert sub.secret not in json.dumps(event.data)
    other = services.subscription_create(name="b", url="http://10.0.0.5:8080/x", events=["job.finished"],
                                         secret="given-secret-0123456789")
    assert other.secret == "given-secret-0123456789"


@pytest.mark.parametrize("url", ["ftp://crm.example.com/x", "javascript:alert(1)", "file:///etc/passwd",
                                 "https:///nohost", "crm.example.com/hook", ""])
def test_subscription_create_refuses_non_http_urls(url):
    with pytest.raises(ApplicationError):
        services.subscription_create(name="bad", url=url, events=["job.finished"])
    assert not WebhookSubscription.objects.exists()


@pytest.mark.parametrize("events", [[], ["job.started"], ["job.finished", "nope"]])
def test_subscription_create_refuses_unknown_events(events):
    with pytest.raises(ApplicationError):
        services.subscription_create(name="bad", url="https://crm.example.com", events=events)


def test_subscription_update_keeps_secret_and_delete_cascades(subscription):
    secret = subscription.secret
    services.subscription_update(subscription=subscription, events=["conversation.flagged"], active=False)
    subscription.refresh_from_db()
    assert subscription.secret == secret and subscription.events == ["conversation.flagged"]
    _delivery(subscription)
    services.subscription_delete(subscription=subscription)
    assert not WebhookDelivery.objects.exists()
    assert AuditEvent.objects.filter(action="webhook_subscription.delete").count() == 1


# --- event_emit --------------------------------------------------------------

def test_event_emit_creates_deliveries_for_matching_active_subscriptions(django_capture_on_commit_callbacks):
    both = services.subscription_create(name="both", url="https://a.example.com",
                                        events=["job.finished", "conversation.flagged"])
    jobs = services.subscription_create(name="jobs", url="https://b.example.com", events=["job.finished"])
    services.subscription_create(name="flags", url="https://c.example.com", events=["conversation.flagged"])
    services.subscription_create(name="off", url="https://d.example.com", events=["job.finished"], active=False)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        n = services.event_emit(event="job.finished", payload={"job_id": 12, "status": "done", "n_done": 40})
    assert n == 2
    assert {d.subscription_id for d in WebhookDelivery.objects.all()} == {both.pk, jobs.pk}
    # delivery is enqueued after commit, one task per delivery
    assert len(callbacks) == 2
    delivery = WebhookDelivery.objects.first()
    assert delivery.status == WebhookDelivery.Status.PENDING and delivery.attempts == 0
    assert delivery.payload == {"job_id": 12, "status": "done", "n_done": 40}


def test_event_emit_without_subscribers_returns_zero():
    assert services.event_emit(event="conversation.flagged", payload={"conversation_id": 1}) == 0
    assert not WebhookDelivery.objects.exists()


@pytest.mark.parametrize("payload", [{"text": "我的手机号是13800138000"}, {"conversation": {"messages": []}},
                                     {"items": [{"email": "a@b.c"}]}])
def test_event_emit_refuses_payloads_with_text_or_contact_keys(subscription, payload):
    with pytest.raises(ApplicationError):
        services.event_emit(event="job.finished", payload=payload)
    assert not WebhookDelivery.objects.exists()


def test_event_emit_refuses_unknown_event():
    with pytest.raises(ApplicationError):
        services.event_emit(event="job.exploded", payload={})


# --- delivery against a real receiver ----------------------------------------

def test_delivery_succeeds_and_receiver_verifies_signature(subscription, receiver):
    delivery = _delivery(subscription)
    result = services.delivery_attempt(delivery_id=delivery.pk)

    assert result.status == WebhookDelivery.Status.DELIVERED
    assert result.attempts == 1 and result.response_code == 200 and result.delivered_at is not None
    (request,) = receiver.requests
    assert request.verified
    assert request.headers["X-CSP-Event"] == "job.finished"
    assert request.headers["X-CSP-Delivery"] == str(delivery.delivery_id)
    assert request.headers["X-CSP-Signature"].startswith("sha256=")
    body = json.loads(request.body)
    assert body == {"id": str(delivery.delivery_id), "event": "job.finished",
                    "created": delivery.created_at.isoformat(), "data": {"job_id": 7, "n_done": 3}}


def test_receiver_with_wrong_secret_rejects(subscription, receiver):
    receiver.secret = "not-the-subscription-secret"
    services.delivery_attempt(delivery_id=_delivery(subscription).pk)
    assert not receiver.requests[0].verified


def test_replayed_task_does_not_post_a_delivered_delivery_again(subscription, receiver):
    delivery = _delivery(subscription)
    services.delivery_attempt(delivery_id=delivery.pk)
    deliver_task.apply(args=[delivery.pk])
    assert len(receiver.requests) == 1
    delivery.refresh_from_db()
    assert delivery.attempts == 1 and delivery.status == WebhookDelivery.Status.DELIVERED


def test_non_2xx_raises_transient_error_and_records_it(subscription, receiver):
    receiver.statuses = [503]
    delivery = _delivery(subscription)
    with pytest.raises(services.DeliveryTransientError):
        services.delivery_attempt(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.PENDING
    assert delivery.attempts == 1 and delivery.response_code == 503 and "503" in delivery.last_error


def test_connection_refused_is_transient(subscription):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    subscription.url = f"http://127.0.0.1:{port}/gone"
    subscription.save()
    delivery = _delivery(subscription)
    with pytest.raises(services.DeliveryTransientError):
        services.delivery_attempt(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.attempts == 1 and delivery.response_code is None and "ConnectionError" in delivery.last_error


def test_task_retries_500_then_delivers(subscription, receiver):
    receiver.statuses = [500, 200]
    delivery = _delivery(subscription)
    deliver_task.apply(args=[delivery.pk])  # runs here, retries included; no broker, no eager setting

    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    assert delivery.attempts == 2 and delivery.response_code == 200 and delivery.last_error == ""
    assert len(receiver.requests) == 2 and all(r.verified for r in receiver.requests)
    # same delivery id on every attempt, so the receiver can deduplicate
    assert {r.headers["X-CSP-Delivery"] for r in receiver.requests} == {str(delivery.delivery_id)}


def test_task_records_final_failure_after_last_retry(subscription, receiver):
    receiver.statuses = [500] * 100
    delivery = _delivery(subscription)
    deliver_task.apply(args=[delivery.pk])

    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert delivery.attempts == deliver_task.max_retries + 1 == len(receiver.requests)
    assert delivery.response_code == 500 and "HTTP 500" in delivery.last_error
    assert delivery.delivered_at is None


def test_inactive_subscription_fails_without_posting(subscription, receiver):
    delivery = _delivery(subscription)
    services.subscription_update(subscription=subscription, active=False)
    result = services.delivery_attempt(delivery_id=delivery.pk)
    assert result.status == WebhookDelivery.Status.FAILED and result.attempts == 0
    assert receiver.requests == []


def test_backoff_grows_exponentially_with_jitter_and_is_capped():
    for retries in range(10):
        ceiling = min(services.BACKOFF_CAP_S, services.BACKOFF_BASE_S * 2**retries)
        samples = [services.delivery_backoff(retries=retries) for _ in range(50)]
        assert all(ceiling / 2 <= s <= ceiling for s in samples)
    assert len({services.delivery_backoff(retries=3) for _ in range(20)}) > 1


def test_redeliver_failed_delivery_sends_it_again(subscription, receiver, django_capture_on_commit_callbacks):
    receiver.statuses = [500] * 100
    delivery = _delivery(subscription)
    deliver_task.apply(args=[delivery.pk])
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.FAILED

    receiver.statuses = []
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.delivery_redeliver(delivery=delivery)
    assert len(callbacks) == 1
    deliver_task.apply(args=[delivery.pk])  # what the enqueued task does
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    assert AuditEvent.objects.filter(action="webhook_delivery.redeliver").exists()


def test_redeliver_refuses_pending_delivery(subscription):
    with pytest.raises(Conflict):
        services.delivery_redeliver(delivery=_delivery(subscription))
