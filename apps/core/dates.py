"""Date windows for what the platform accepts.

Stored conversation dates lie between ``CONVERSATION_DATE_MIN`` and
``CONVERSATION_DATE_MAX_FUTURE_DAYS`` days after now (a CRM clock that is a little ahead is
fine; year 1 or 1900 is an export bug). Dates in queries and filters lie between
``QUERY_DATE_MIN`` and ``QUERY_DATE_MAX``: wide enough for any real question, and far from the
edges where converting between time zones overflows or a zone's pre-1901 local mean time
(``+08:05:43``) would be rendered.

The API checks the date as the client wrote it (before any time-zone conversion) against a
regular expression, and the OpenAPI schema publishes the same expression as the field's
``pattern``, so every date the schema calls valid is accepted, and no date outside the window is.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

QUERY_DATE_MIN = dt.date(1970, 1, 1)
QUERY_DATE_MAX = dt.date(2100, 12, 31)
# What follows the date in an RFC 3339 date-time: ``T``, the time, an offset.
_RFC3339_TIME = r"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,6})?(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])$"


def as_utc(value: dt.datetime) -> dt.datetime:
    """``value`` in UTC (naive values are read in the current time zone); ValidationError on overflow."""
    try:
        if timezone.is_naive(value):
            value = timezone.make_aware(value)
        return value.astimezone(dt.timezone.utc)
    except (OverflowError, ValueError) as exc:
        raise ValidationError(_("Date out of range."), code="date_range") from exc


def _alternatives(values) -> str:
    return "(?:" + "|".join(values) + ")"


def _days(first: int, last: int) -> str:
    if (first, last) == (1, 31):
        return "(?:0[1-9]|[12][0-9]|3[01])"
    return _alternatives(f"{day:02d}" for day in range(first, last + 1))


def _months(first: int, last: int) -> str:
    if (first, last) == (1, 12):
        return "(?:0[1-9]|1[0-2])"
    return _alternatives(f"{month:02d}" for month in range(first, last + 1))


def _year_span(year: int, first: dt.date | None, last: dt.date | None) -> list[str]:
    """Alternatives for the days of ``year`` from ``first`` (or Jan 1) to ``last`` (or Dec 31)."""
    start = first or dt.date(year, 1, 1)
    end = last or dt.date(year, 12, 31)
    if start.month == end.month:
        return [f"{year}-{start.month:02d}-{_days(start.day, end.day)}"]
    parts = [f"{year}-{start.month:02d}-{_days(start.day, 31)}"]
    if end.month - start.month > 1:
        parts.append(f"{year}-{_months(start.month + 1, end.month - 1)}-{_days(1, 31)}")
    parts.append(f"{year}-{end.month:02d}-{_days(1, end.day)}")
    return parts


def date_range_pattern(first: dt.date, last: dt.date) -> str:
    """A regular expression (ECMA 262 and Python) for text starting with a date from ``first`` to ``last``.

    It constrains only the leading ``YYYY-MM-DD``; the rest (a time, an offset) is left to the
    format. Day numbers up to 31 are allowed in every month: an impossible date fails the format.
    """
    if first.year == last.year:
        parts = _year_span(first.year, first, last)
    else:
        parts = _year_span(first.year, first, None)
        if last.year - first.year > 1:
            years = _alternatives(str(year) for year in range(first.year + 1, last.year))
            parts.append(f"{years}-{_months(1, 12)}-{_days(1, 31)}")
        parts += _year_span(last.year, None, last)
    return "^" + _alternatives(parts)


@dataclass(frozen=True)
class DateWindow:
    """Dates from ``first`` to ``last`` (inclusive), as the client writes them."""

    first: dt.date
    last: dt.date

    @property
    def date_pattern(self) -> str:
        """A date (``YYYY-MM-DD``) inside the window."""
        return date_range_pattern(self.first, self.last) + "$"

    @property
    def datetime_pattern(self) -> str:
        """An RFC 3339 date-time (the schema's ``date-time``) whose date lies inside the window."""
        return date_range_pattern(self.first, self.last) + _RFC3339_TIME

    def check(self, value: str, *, with_time: bool) -> None:
        """ValidationError saying the window unless ``value`` is a date (or date-time) inside it.

        A date-time needs only its date and the ``T`` to match: the API also reads ISO 8601 times
        without seconds, which the schema's stricter ``date-time`` leaves out.
        """
        prefix = date_range_pattern(self.first, self.last)
        if not re.match(prefix + "T" if with_time else self.date_pattern, value):
            raise ValidationError(
                _("Enter a date%(time)s between %(earliest)s and %(latest)s.")
                % {"time": _(" and time") if with_time else "", "earliest": self.first.isoformat(),
                   "latest": self.last.isoformat()},
                code="date_range",
            )


def query_window() -> DateWindow:
    return DateWindow(QUERY_DATE_MIN, QUERY_DATE_MAX)


def conversation_window() -> DateWindow:
    """``CONVERSATION_DATE_MIN`` to today (UTC) plus ``CONVERSATION_DATE_MAX_FUTURE_DAYS``."""
    today = timezone.now().astimezone(dt.timezone.utc).date()
    return DateWindow(settings.CONVERSATION_DATE_MIN,
                      today + dt.timedelta(days=settings.CONVERSATION_DATE_MAX_FUTURE_DAYS))
