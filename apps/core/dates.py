"""Date windows for what the platform accepts.

Stored conversation dates lie between ``CONVERSATION_DATE_MIN`` and
``CONVERSATION_DATE_MAX_FUTURE_DAYS`` days after now (a CRM clock that is a little ahead is
fine; year 1 or 1900 is an export bug). Dates in queries and filters lie between
``QUERY_DATE_MIN`` and ``QUERY_DATE_MAX``: wide enough for any real question, and far from the
edges where converting between time zones overflows or a zone's pre-1901 local mean time
(``+08:05:43``) would be rendered.
"""
from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

QUERY_DATE_MIN = dt.date(1970, 1, 1)
QUERY_DATE_MAX = dt.date(2100, 12, 31)


def _as_utc(value: dt.datetime) -> dt.datetime:
    """``value`` in UTC (naive values are read in the current time zone); ValidationError on overflow."""
    try:
        if timezone.is_naive(value):
            value = timezone.make_aware(value)
        return value.astimezone(dt.timezone.utc)
    except (OverflowError, ValueError) as exc:
        raise ValidationError(_("Date out of range."), code="date_range") from exc


def conversation_date_window() -> tuple[dt.datetime, dt.datetime]:
    """The earliest and latest ``started_at`` (and message time) accepted now, in UTC."""
    earliest = dt.datetime.combine(settings.CONVERSATION_DATE_MIN, dt.time.min, tzinfo=dt.timezone.utc)
    latest = timezone.now() + dt.timedelta(days=settings.CONVERSATION_DATE_MAX_FUTURE_DAYS)
    return earliest, latest


def check_conversation_datetime(value: dt.datetime) -> dt.datetime:
    """``value`` in UTC when it lies in the conversation window; ValidationError saying the window otherwise."""
    value = _as_utc(value)
    earliest, latest = conversation_date_window()
    if not earliest <= value <= latest:
        raise ValidationError(
            _("Date must lie between %(earliest)s and %(latest)s (UTC).")
            % {"earliest": earliest.date().isoformat(), "latest": latest.date().isoformat()},
            code="date_range",
        )
    return value


def check_query_date(value: dt.date) -> dt.date:
    """``value`` (a date or datetime) when it lies in the query window; ValidationError otherwise."""
    day = _as_utc(value).date() if isinstance(value, dt.datetime) else value
    if not QUERY_DATE_MIN <= day <= QUERY_DATE_MAX:
        raise ValidationError(
            _("Date must lie between %(earliest)s and %(latest)s.")
            % {"earliest": QUERY_DATE_MIN.isoformat(), "latest": QUERY_DATE_MAX.isoformat()},
            code="date_range",
        )
    return value


def check_query_datetime(value: dt.datetime) -> dt.datetime:
    """``value`` in UTC when it lies in the query window; ValidationError otherwise."""
    value = _as_utc(value)
    check_query_date(value)
    return value
