"""django-filter parts shared by the API apps."""
import django_filters
from django import forms

from .dates import check_query_date, check_query_datetime


class UtcIsoDateTimeField(django_filters.fields.IsoDateTimeField):
    """ISO 8601 with any offset, normalised to UTC, inside the query window (400 otherwise)."""

    def to_python(self, value):
        parsed = super().to_python(value)
        return check_query_datetime(parsed) if parsed is not None else None


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class QueryDateField(forms.DateField):
    """A date inside the query window (400 otherwise)."""

    def to_python(self, value):
        parsed = super().to_python(value)
        return check_query_date(parsed) if parsed is not None else None


class QueryDateFilter(django_filters.DateFilter):
    field_class = QueryDateField
