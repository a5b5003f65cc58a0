"""Outbound webhooks: subscriptions, event fan-out, signed delivery, signature checks.

Delivery is at least once: a receiver may see the same ``X-CSP-Delivery`` twice
(a worker lost mid-request, an admin redelivery) and should deduplicate on it.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import secrets
import time
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import requests
from celery import current_app
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.exceptions import ApplicationError, Conflict, Unprocessable
from apps.core.netguard import DisallowedAddress, guarded_session, url_check
from apps.core.services import audit_record

from .models import Event, WebhookDelivery, WebhookSubscription

logger = logging.getLogger(__name__)

REQUEST_TIMEOUT_S = 5
SIGNATURE_TOLERANCE_S = 300
BACKOFF_BASE_S = 30
BACKOFF_CAP_S = 3600
USER_AGENT = "csp-webhooks/1"
DELIVER_TASK = "webhooks.deliver"
ALLOWED_SCHEMES = frozenset({"http", "https"})
# Payloads carry ids, counts and labels. Keys that usually hold customer text or
# contact details are refused so that PII cannot leak to a CRM by accident.
FORBIDDEN_PAYLOAD_KEYS = frozenset({
    "text", "texts", "message", "messages", "body", "content", "transcript",
    "email", "phone", "address", "display_name", "customer_name",
})


class DeliveryTransientError(Exception):
    """The receiver did not accept the delivery (non-2xx, connection error, timeout); retry later."""


# --- signing -----------------------------------------------------------------

def signature_compute(*, secret: str, timestamp: int | str, body: bytes | str) -> str:
    """``sha256=<hex HMAC-SHA256(secret, "{timestamp}.{body}")>``."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    message = f"{timestamp}.".encode("ascii") + body
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def signature_verify(
    *, secret: str, timestamp: int | str, body: bytes | str, signature: str,
    tolerance: int = SIGNATURE_TOLERANCE_S, now: float | None = None,
) -> bool:
    """For receivers: True when ``signature`` matches and ``timestamp`` is within ``tolerance`` seconds of now.

    ``body`` must be the raw request body, byte for byte, not re-serialised JSON.
    """
    try:
        ts = int(timestamp)
    except (TypeError, ValueError):
        return False
    now = time.time() if now is None else now
    if abs(now - ts) > tolerance:
        return False
    if not signature:
        return False
    expected = signature_compute(secret=secret, timestamp=ts, body=body)
    given = signature if signature.startswith("sha256=") else f"sha256={signature}"
    return hmac.compare_digest(expected.encode("ascii"), given.encode("ascii", "replace"))


# --- subscriptions -----------------------------------------------------------

def _url_validate(url: str) -> str:
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme.lower() not in ALLOWED_SCHEMES or not parts.hostname:
        raise ApplicationError(_("Webhook URLs must be absolute http:// or https:// URLs."), {"url": url})
    try:
        url_check(url)
    except DisallowedAddress as exc:  # well-formed, refused by the network policy
        raise Unprocessable(str(exc), {"url": url}) from exc
    return url


def _events_validate(events: list[str]) -> list[str]:
    if not events:
        raise ApplicationError(_("Subscribe to at least one event."), {"events": sorted(Event.values)})
    unknown = sorted(set(events) - set(Event.values))
    if unknown:
        raise ApplicationError(_("Unknown events: %(events)s") % {"events": ", ".join(unknown)},
                               {"events": sorted(Event.values)})
    # Keep the order of Event, without duplicates.
    return [value for value in Event.values if value in set(events)]


def secret_generate() -> str:
    return secrets.token_urlsafe(32)


@transaction.atomic
def subscription_create(
    *, name: str, url: str, events: list[str], secret: str | None = None, active: bool = True, actor: Any = None,
) -> WebhookSubscription:
    """Create a subscription; a signing secret is generated when none is given."""
    subscription = WebhookSubscription.objects.create(
        name=name, url=_url_validate(url), events=_events_validate(events),
        secret=secret or secret_generate(), active=active,
    )
    # The secret never goes into the audit trail.
    audit_record(action="webhook_subscription.create", actor=actor, target=subscription,
                 data={"name": name, "url": subscription.url, "events": subscription.events})
    return subscription


@transaction.atomic
def subscription_update(
    *, subscription: WebhookSubscription, actor: Any = None, name: str | None = None, url: str | None = None,
    events: list[str] | None = None, active: bool | None = None, secret: str | None = None,
) -> WebhookSubscription:
    changed: dict[str, Any] = {}
    if name is not None:
        changed["name"] = name
    if url is not None:
        changed["url"] = _url_validate(url)
    if events is not None:
        changed["events"] = _events_validate(events)
    if active is not None:
        changed["active"] = active
    for field, value in changed.items():
        setattr(subscription, field, value)
    if secret:
        subscription.secret = secret
    subscription.save()
    audit_record(action="webhook_subscription.update", actor=actor, target=subscription,
                 data={**changed, "secret_rotated": bool(secret)})
    return subscription


@transaction.atomic
def subscription_delete(*, subscription: WebhookSubscription, actor: Any = None) -> None:
    audit_record(action="webhook_subscription.delete", actor=actor, target=subscription,
                 data={"name": subscription.name, "url": subscription.url})
    subscription.delete()


# --- events and deliveries ---------------------------------------------------

def _payload_check(value: Any, path: str = "data") -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if str(key).lower() in FORBIDDEN_PAYLOAD_KEYS:
                raise ApplicationError(
                    _("Webhook payloads carry ids, counts and labels, never texts or contact details."),
                    {"key": f"{path}.{key}"},
                )
            _payload_check(item, f"{path}.{key}")
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _payload_check(item, f"{path}[{index}]")


def _deliver_enqueue(delivery_pk: int) -> None:
    transaction.on_commit(partial(current_app.send_task, DELIVER_TASK, args=[delivery_pk]))


@transaction.atomic
def event_emit(*, event: str, payload: dict) -> int:
    """Record one delivery per active subscription to ``event``; each is sent after commit. Returns the count."""
    if event not in Event.values:
        raise ApplicationError(_("Unknown event: %(event)s") % {"event": event}, {"events": sorted(Event.values)})
    _payload_check(payload)
    # Round-trip through JSON now so that a payload that cannot be sent fails here, in the caller.
    payload = json.loads(json.dumps(payload, cls=DjangoJSONEncoder))
    # Filtered in Python: JSON containment lookups are not portable to SQLite, and subscriptions are few.
    subscriptions = [s for s in WebhookSubscription.objects.filter(active=True) if event in s.events]
    for subscription in subscriptions:
        delivery = WebhookDelivery.objects.create(subscription=subscription, event=event, payload=payload)
        _deliver_enqueue(delivery.pk)
    return len(subscriptions)


def delivery_body(*, delivery: WebhookDelivery) -> bytes:
    envelope = {
        "id": str(delivery.delivery_id),
        "event": delivery.event,
        "created": delivery.created_at.isoformat(),
        "data": delivery.payload,
    }
    return json.dumps(envelope, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def delivery_attempt(*, delivery_id: int) -> WebhookDelivery:
    """POST one pending delivery once. 2xx marks it delivered; otherwise raises ``DeliveryTransientError``.

    A delivery that is no longer pending (a replayed task) is returned untouched.
    """
    delivery = WebhookDelivery.objects.select_related("subscription").get(pk=delivery_id)
    if delivery.status != WebhookDelivery.Status.PENDING:
        return delivery
    subscription = delivery.subscription
    if not subscription.active:
        return delivery_fail(delivery_id=delivery.pk, error="Subscription is inactive.")
    try:
        url_check(subscription.url)
    except DisallowedAddress as exc:  # the allowed networks changed, or the name now resolves elsewhere
        return delivery_fail(delivery_id=delivery.pk, error=str(exc))

    # Count the attempt before the request, so a worker killed mid-request still leaves a trace.
    WebhookDelivery.objects.filter(pk=delivery.pk).update(attempts=F("attempts") + 1)
    delivery.refresh_from_db(fields=["attempts"])

    body = delivery_body(delivery=delivery)
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "X-CSP-Event": delivery.event,
        "X-CSP-Delivery": str(delivery.delivery_id),
        "X-CSP-Timestamp": str(timestamp),
        "X-CSP-Signature": signature_compute(secret=subscription.secret, timestamp=timestamp, body=body),
    }
    try:
        # No redirects: a 3xx would resend the signed body to a URL nobody subscribed. The session
        # connects only to allowed addresses, checked again at connect time.
        with guarded_session() as session:
            response = session.post(subscription.url, data=body, headers=headers,
                                    timeout=REQUEST_TIMEOUT_S, allow_redirects=False)
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"[:1000]
        WebhookDelivery.objects.filter(pk=delivery.pk).update(response_code=None, last_error=error)
        raise DeliveryTransientError(error) from exc

    code = response.status_code
    if 200 <= code < 300:
        delivery.status = WebhookDelivery.Status.DELIVERED
        delivery.response_code = code
        delivery.last_error = ""
        delivery.delivered_at = timezone.now()
        delivery.save(update_fields=["status", "response_code", "last_error", "delivered_at"])
        return delivery
    error = f"HTTP {code}: {response.text[:200]}"
    WebhookDelivery.objects.filter(pk=delivery.pk).update(response_code=code, last_error=error)
    raise DeliveryTransientError(error)


def delivery_fail(*, delivery_id: int, error: str) -> WebhookDelivery:
    """Record the final failure of a delivery (retries exhausted or nothing left to try)."""
    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    if delivery.status == WebhookDelivery.Status.DELIVERED:
        return delivery
    delivery.status = WebhookDelivery.Status.FAILED
    delivery.last_error = error[:1000]
    delivery.save(update_fields=["status", "last_error"])
    logger.warning("webhook delivery failed", extra={"delivery_id": str(delivery.delivery_id),
                                                     "attempts": delivery.attempts})
    return delivery


def delivery_deliver(*, delivery_id: int, retries: int, max_retries: int) -> float | None:
    """One attempt of the delivery task. Returns the seconds to wait before the next attempt,
    or None when it is finished (delivered, or failed for good after ``max_retries`` retries)."""
    try:
        delivery_attempt(delivery_id=delivery_id)
    except DeliveryTransientError as exc:
        if retries >= max_retries:
            delivery_fail(delivery_id=delivery_id, error=str(exc))
            return None
        return delivery_backoff(retries=retries)
    return None


def event_publish_receiver(sender, *, event: str, payload: dict, **kwargs) -> int:
    """``apps.core.hooks.event_published`` receiver: emit the event to its subscribers."""
    return event_emit(event=event, payload=payload)


def job_finished_receiver(sender, *, payload: dict, **kwargs) -> int:
    """``apps.jobs.signals.job_finished`` receiver: the ``job.finished`` event."""
    return event_emit(event="job.finished", payload=payload)


def delivery_backoff(*, retries: int) -> float:
    """Seconds before retry number ``retries + 1``: exponential with equal jitter, capped."""
    ceiling = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** retries)
    return ceiling / 2 + random.uniform(0, ceiling / 2)


@transaction.atomic
def delivery_redeliver(*, delivery: WebhookDelivery, actor: Any = None) -> WebhookDelivery:
    """Send a delivered or failed delivery again (same delivery id, so receivers can deduplicate).

    Attempts keep counting. A pending delivery is refused: its task is still retrying.
    """
    delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
    if delivery.status == WebhookDelivery.Status.PENDING:
        raise Conflict(_("This delivery is still pending."), {"delivery_id": str(delivery.delivery_id)})
    delivery.status = WebhookDelivery.Status.PENDING
    delivery.delivered_at = None
    delivery.save(update_fields=["status", "delivered_at"])
    audit_record(action="webhook_delivery.redeliver", actor=actor, target=delivery,
                 data={"delivery_id": str(delivery.delivery_id)})
    _deliver_enqueue(delivery.pk)
    return delivery
