import datetime as dt

import django_filters
from django import forms

from apps.core.labels import Channel

from .models import Conversation


class UtcIsoDateTimeField(django_filters.fields.IsoDateTimeField):
    """ISO 8601 with any offset Python accepts, normalised to UTC (PostgreSQL refuses offsets beyond ±15:59)."""

    def to_python(self, value):
        parsed = super().to_python(value)
        try:
            return parsed.astimezone(dt.timezone.utc) if parsed is not None and parsed.tzinfo else parsed
        except OverflowError as exc:
            raise forms.ValidationError("Date out of range.") from exc


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class ConversationFilter(django_filters.FilterSet):
    started_after = UtcIsoDateTimeFilter(field_name="started_at", lookup_expr="gte")
    started_before = UtcIsoDateTimeFilter(field_name="started_at", lookup_expr="lt")
    date_from = django_filters.DateFilter(field_name="started_at", lookup_expr="date__gte")
    date_to = django_filters.DateFilter(field_name="started_at", lookup_expr="date__lte")
    agent = django_filters.CharFilter(field_name="agent__external_id")
    customer = django_filters.CharFilter(field_name="customer__external_id")
    channel = django_filters.ChoiceFilter(choices=Channel.choices)
    resolved = django_filters.BooleanFilter()
    intent = django_filters.CharFilter(field_name="predicted_intent")
    uncertain = django_filters.BooleanFilter()

    class Meta:
        model = Conversation
        fields = ["language"]
