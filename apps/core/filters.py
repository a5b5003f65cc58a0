"""django-filter parts shared by the API apps: strict values, dates inside the query window.

A filter given a value it cannot read answers 400 with the field's message (DRF's filter
backend raises on an invalid form) instead of being ignored. An empty value (``?active=``)
means "no filter", as django-filter has it; the schema says so with ``allowEmptyValue``.
"""
import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_filters.filterset import FILTER_FOR_DBFIELD_DEFAULTS
from drf_spectacular.utils import extend_schema_field

from .dates import as_utc, query_window
from .validators import NO_CONTROL_CHARACTERS_PATTERN, reject_control_characters


def _check_written_date(value, *, with_time: bool) -> None:
    if isinstance(value, str) and value:
        query_window().check(value, with_time=with_time)


class UtcIsoDateTimeField(django_filters.fields.IsoDateTimeField):
    """ISO 8601 with any offset, normalised to UTC, with a written date inside the query window."""

    def to_python(self, value):
        _check_written_date(value, with_time=True)
        parsed = super().to_python(value)
        return as_utc(parsed) if parsed is not None else None


@extend_schema_field({"type": "string", "format": "date-time", "pattern": query_window().datetime_pattern})
class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class QueryDateField(forms.DateField):
    """A date inside the query window."""

    def to_python(self, value):
        _check_written_date(value, with_time=False)
        return super().to_python(value)


@extend_schema_field({"type": "string", "format": "date", "pattern": query_window().date_pattern})
class QueryDateFilter(django_filters.DateFilter):
    field_class = QueryDateField


class StrictBooleanField(forms.NullBooleanField):
    """``true`` or ``false`` (the JSON spellings, as the schema's boolean query parameters have it)."""

    widget = forms.TextInput

    def to_python(self, value):
        if value in (None, ""):
            return None
        if value in ("true", "false"):
            return value == "true"
        raise ValidationError(_("Enter true or false."), code="invalid")

    def validate(self, value):
        pass


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class FilterSet(django_filters.FilterSet):
    """A FilterSet whose generated boolean filters take only ``true``/``false``."""

    FILTER_DEFAULTS = {
        **FILTER_FOR_DBFIELD_DEFAULTS,
        models.BooleanField: {"filter_class": StrictBooleanFilter},
        models.NullBooleanField: {"filter_class": StrictBooleanFilter},
    }


@extend_schema_field({"type": "string", "pattern": NO_CONTROL_CHARACTERS_PATTERN})
class IdentifierFilter(django_filters.CharFilter):
    """An external id: control characters are refused (400), as they are when one is stored."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("validators", [reject_control_characters])
        super().__init__(*args, **kwargs)
