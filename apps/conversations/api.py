from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from apps.core.api import BulkUpsertApi, bulk_schema
from apps.core.exceptions import Conflict
from apps.core.pagination import CreatedCursorPagination

from . import selectors, services
from .filters import ConversationFilter
from .models import Conversation
from .serializers import ConversationInSerializer, ConversationOutSerializer


class ConversationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Conversations with their (masked) messages; looked up by the CRM's external id."""

    serializer_class = ConversationOutSerializer
    filterset_class = ConversationFilter
    pagination_class = CreatedCursorPagination
    lookup_field = "external_id"
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        return selectors.conversation_list()

    @extend_schema(request=ConversationInSerializer, responses={201: ConversationOutSerializer})
    def create(self, request):
        data = ConversationInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if Conversation.objects.filter(external_id=data.validated_data["external_id"]).exists():
            raise Conflict("A conversation with this external_id exists; use PUT to update it.")
        result = services.conversations_upsert(items=[data.validated_data])
        obj = self.get_queryset().get(pk=result.ids[data.validated_data["external_id"]])
        return Response(ConversationOutSerializer(obj).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ConversationInSerializer, responses={200: ConversationOutSerializer})
    def update(self, request, external_id=None):
        instance = self.get_object()
        payload = {**request.data, "external_id": instance.external_id}
        data = ConversationInSerializer(data=payload)
        data.is_valid(raise_exception=True)
        services.conversations_upsert(items=[data.validated_data])
        return Response(ConversationOutSerializer(self.get_queryset().get(pk=instance.pk)).data)


@bulk_schema(ConversationInSerializer)
class ConversationBulkUpsertApi(BulkUpsertApi):
    item_serializer_class = ConversationInSerializer
    upsert = staticmethod(lambda items: services.conversations_upsert(items=items))
