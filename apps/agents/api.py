import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from apps.core.api import BulkUpsertApi, bulk_schema
from apps.core.exceptions import Conflict

from . import services
from .models import Agent


class AgentInSerializer(serializers.Serializer):
    external_id = serializers.CharField(max_length=64)
    name = serializers.CharField(max_length=128)
    team = serializers.CharField(max_length=64, required=False, allow_blank=True)
    hired_at = serializers.DateField(required=False, allow_null=True)
    active = serializers.BooleanField(required=False, default=True)


class AgentOutSerializer(serializers.ModelSerializer):
    class Meta:
        model = Agent
        fields = ["id", "external_id", "name", "team", "hired_at", "active", "created_at", "updated_at"]


class AgentFilter(django_filters.FilterSet):
    class Meta:
        model = Agent
        fields = ["team", "active"]


class AgentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Agent.objects.all()
    serializer_class = AgentOutSerializer
    filterset_class = AgentFilter
    lookup_field = "external_id"
    lookup_value_regex = "[^/]+"

    @extend_schema(request=AgentInSerializer, responses={201: AgentOutSerializer})
    def create(self, request):
        data = AgentInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if Agent.objects.filter(external_id=data.validated_data["external_id"]).exists():
            raise Conflict("An agent with this external_id exists; use PUT to update it.")
        result = services.agents_upsert(items=[data.validated_data])
        obj = Agent.objects.get(pk=result.ids[data.validated_data["external_id"]])
        return Response(AgentOutSerializer(obj).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=AgentInSerializer, responses={200: AgentOutSerializer})
    def update(self, request, external_id=None):
        instance = self.get_object()
        data = AgentInSerializer(data={**request.data, "external_id": instance.external_id})
        data.is_valid(raise_exception=True)
        services.agents_upsert(items=[data.validated_data])
        instance.refresh_from_db()
        return Response(AgentOutSerializer(instance).data)


@bulk_schema(AgentInSerializer)
class AgentBulkUpsertApi(BulkUpsertApi):
    item_serializer_class = AgentInSerializer
    upsert = staticmethod(lambda items: services.agents_upsert(items=items))
