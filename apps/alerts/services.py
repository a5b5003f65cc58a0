"""Alert rules: evaluated after each nightly assessment; new alerts are sent as signed webhook
events (through ``apps.core.hooks.event_published``) and by e-mail (Django's e-mail backend).

Evaluation is idempotent: an alert is unique per rule, assessed day and subject, so a replayed
assessment finds the alerts it raised before and sends nothing twice.
"""
from __future__ import annotations

import datetime as dt
import logging
import re

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from apps.agents.models import TeamLead
from apps.core.exceptions import ApplicationError
from apps.core.hooks import event_published
from apps.core.services import audit_record

from . import selectors
from .models import Alert, AlertRule, Comparison

logger = logging.getLogger(__name__)
ALERT_EVENT = "alert.raised"


def addresses_parse(text: str) -> list[str]:
    """E-mail addresses from a comma / whitespace separated text, in order, without repeats."""
    seen: list[str] = []
    for part in re.split(r"[,;\s]+", text or ""):
        if part and part not in seen:
            seen.append(part)
    return seen


def team_lead_emails(*, team: str) -> list[str]:
    """The e-mail addresses of the users who lead ``team``."""

    if not team:
        return []
    return sorted({e for e in TeamLead.objects.filter(team=team).values_list("user__email", flat=True) if e})


def _breaches(rule: AlertRule, value: float) -> bool:
    return value < rule.threshold if rule.comparison == Comparison.BELOW else value > rule.threshold


def alert_rules_evaluate(*, date: dt.date) -> list[Alert]:
    """Check every active rule over its window ending at ``date``; create and send the new alerts."""
    created: list[Alert] = []
    for rule in AlertRule.objects.filter(active=True).order_by("id"):
        start, end = selectors.window(rule=rule, date=date)
        for v in selectors.metric_values(rule=rule, date=date):
            if v.n < rule.min_volume or not _breaches(rule, v.value):
                continue
            try:
                with transaction.atomic():
                    alert = Alert.objects.create(
                        rule=rule, date=date, subject_key=v.key, subject_label=v.label[:160], team=v.team or "",
                        metric=rule.metric, value=round(v.value, 4), threshold=rule.threshold,
                        comparison=rule.comparison, n=v.n, window_start=start, window_end=end,
                    )
            except IntegrityError:  # raised by an earlier run of the same day
                continue
            created.append(alert)
    for alert in created:
        alert_notify(alert=alert)
    return created


def alert_payload(*, alert: Alert) -> dict:
    """The webhook event's data: ids, labels and figures, never conversation text."""
    return {
        "alert_id": alert.pk, "rule_id": alert.rule_id, "rule": alert.rule.name, "metric": alert.metric,
        "scope": alert.rule.scope, "subject": alert.subject_key, "subject_label": alert.subject_label,
        "team_name": alert.team, "value": alert.value, "threshold": alert.threshold, "comparison": alert.comparison,
        "volume": alert.n, "date": alert.date.isoformat(), "window_start": alert.window_start.isoformat(),
        "window_end": alert.window_end.isoformat(),
    }


def alert_notify(*, alert: Alert) -> Alert:
    """Send one alert's webhook event and e-mail, and record what went out on the alert."""

    rule = alert.rule
    if rule.send_webhook:
        for _receiver, result in event_published.send_robust(sender=Alert, event=ALERT_EVENT,
                                                             payload=alert_payload(alert=alert)):
            if isinstance(result, Exception):
                logger.warning("alert %s: webhook event not recorded: %s", alert.pk, result)
            elif isinstance(result, int):
                alert.webhook_deliveries += result
    recipients = addresses_parse(rule.email_to)
    recipients += [e for e in team_lead_emails(team=alert.team) if e not in recipients]
    if recipients:
        try:
            alert_email_send(alert=alert, recipients=recipients)
        except Exception:  # an unreachable mail server must not lose the alert itself
            logger.exception("alert %s: e-mail to %s failed", alert.pk, recipients)
        else:
            alert.emailed_to = ", ".join(recipients)
            alert.emailed_at = timezone.now()
    alert.save(update_fields=["webhook_deliveries", "emailed_to", "emailed_at"])
    return alert


def alert_email_send(*, alert: Alert, recipients: list[str], language: str | None = None) -> None:
    with translation.override(language or settings.LANGUAGE_CODE):
        context = {"alert": alert, "rule": alert.rule, "console_url": settings.CONSOLE_URL.rstrip("/")}
        subject = _("Alert: %(rule)s — %(subject)s") % {"rule": alert.rule.name, "subject": alert.subject_label}
        text = render_to_string("alerts/email/alert.txt", context)
        html = render_to_string("alerts/email/alert.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=recipients)
    message.attach_alternative(html, "text/html")
    message.send()


@transaction.atomic
def alert_acknowledge(*, alert: Alert, user) -> Alert:
    if alert.status == Alert.Status.ACKNOWLEDGED:
        raise ApplicationError(_("This alert is already acknowledged."))
    alert.status = Alert.Status.ACKNOWLEDGED
    alert.acknowledged_by = user
    alert.acknowledged_at = timezone.now()
    alert.save(update_fields=["status", "acknowledged_by", "acknowledged_at"])
    audit_record(action="alert.acknowledge", actor=user, target=alert, data={"rule": alert.rule_id})
    return alert


def assessment_finished_receiver(sender, *, date, job_id=None, **kwargs) -> list[Alert]:
    """``apps.core.hooks.assessment_finished`` receiver: evaluate the alert rules for that day."""
    if isinstance(date, str):
        date = dt.date.fromisoformat(date)
    alerts = alert_rules_evaluate(date=date)
    logger.info("alerts for %s (assessment job %s): %d new", date, job_id, len(alerts))
    return alerts
