from django.db.models import QuerySet

from .models import Conversation


def conversation_list() -> QuerySet[Conversation]:
    return Conversation.objects.select_related("customer", "agent").prefetch_related("messages")
