from apps.core.api import BulkUpsertApi, ExternalIdViewSet, bulk_schema, upsert_schema
from apps.core.pagination import CreatedCursorPagination

from . import selectors, services
from .filters import ConversationFilter
from .serializers import ConversationInSerializer, ConversationOutSerializer


@upsert_schema(ConversationInSerializer, ConversationOutSerializer)
class ConversationViewSet(ExternalIdViewSet):
    """Conversations with their (masked) messages; looked up by the CRM's external id."""

    serializer_class = ConversationOutSerializer
    in_serializer_class = ConversationInSerializer
    filterset_class = ConversationFilter
    pagination_class = CreatedCursorPagination
    upsert = staticmethod(lambda items: services.conversations_upsert(items=items))

    def get_queryset(self):
        return selectors.conversation_list()


@bulk_schema(ConversationInSerializer)
class ConversationBulkUpsertApi(BulkUpsertApi):
    item_serializer_class = ConversationInSerializer
    upsert = staticmethod(lambda items: services.conversations_upsert(items=items))
