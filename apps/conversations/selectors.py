"""Reads of conversations that other apps share."""
from collections.abc import Mapping
from typing import Any

from django.db.models import QuerySet

from .models import Conversation


def conversation_list() -> QuerySet[Conversation]:
    return Conversation.objects.select_related("customer", "agent").prefetch_related("messages")


def job_conversations(params: Mapping[str, Any]) -> QuerySet[Conversation]:
    """The conversations a batch job targets, from the job's parameters (each optional, combined with AND):
    ``conversations`` (external ids), ``conversation_ids``, ``agent`` (an agent's external id),
    ``since`` (inclusive) and ``until`` (exclusive) on ``started_at``."""
    qs = Conversation.objects.all()
    if params.get("conversations"):
        qs = qs.filter(external_id__in=params["conversations"])
    if params.get("conversation_ids"):
        qs = qs.filter(pk__in=params["conversation_ids"])
    if params.get("agent"):
        qs = qs.filter(agent__external_id=params["agent"])
    if params.get("since"):
        qs = qs.filter(started_at__gte=params["since"])
    if params.get("until"):
        qs = qs.filter(started_at__lt=params["until"])
    return qs
