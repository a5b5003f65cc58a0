import django_filters

from apps.core.filters import FilterSet, QueryDateFilter, StrictBooleanFilter, UtcIsoDateTimeFilter
from apps.core.labels import Channel

from .models import Conversation


class ConversationFilter(FilterSet):
    started_after = UtcIsoDateTimeFilter(field_name="started_at", lookup_expr="gte")
    started_before = UtcIsoDateTimeFilter(field_name="started_at", lookup_expr="lt")
    date_from = QueryDateFilter(field_name="started_at", lookup_expr="date__gte")
    date_to = QueryDateFilter(field_name="started_at", lookup_expr="date__lte")
    agent = django_filters.CharFilter(field_name="agent__external_id")
    customer = django_filters.CharFilter(field_name="customer__external_id")
    channel = django_filters.ChoiceFilter(choices=Channel.choices)
    resolved = StrictBooleanFilter()
    intent = django_filters.CharFilter(field_name="predicted_intent")
    uncertain = StrictBooleanFilter()

    class Meta:
        model = Conversation
        fields = ["language"]
