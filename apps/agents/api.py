from rest_framework import serializers

from apps.core.api import BulkUpsertApi, ExternalIdViewSet, bulk_schema, upsert_schema
from apps.core.fields import IdentifierField
from apps.core.filters import FilterSet
from apps.core.serializers import InputSerializer

from . import services
from .models import Agent


class AgentInSerializer(InputSerializer):
    external_id = IdentifierField()
    name = serializers.CharField(max_length=128)
    team = serializers.CharField(max_length=64, required=False, allow_blank=True)
    hired_at = serializers.DateField(required=False, allow_null=True)
    active = serializers.BooleanField(required=False, default=True)


class AgentOutSerializer(serializers.ModelSerializer):
    class Meta:
        model = Agent
        fields = ["id", "external_id", "name", "team", "hired_at", "active", "created_at", "updated_at"]


class AgentFilter(FilterSet):
    class Meta:
        model = Agent
        fields = ["team", "active"]


@upsert_schema(AgentInSerializer, AgentOutSerializer)
class AgentViewSet(ExternalIdViewSet):
    queryset = Agent.objects.all()
    serializer_class = AgentOutSerializer
    in_serializer_class = AgentInSerializer
    filterset_class = AgentFilter
    upsert = staticmethod(lambda items: services.agents_upsert(items=items))


@bulk_schema(AgentInSerializer)
class AgentBulkUpsertApi(BulkUpsertApi):
    item_serializer_class = AgentInSerializer
    upsert = staticmethod(lambda items: services.agents_upsert(items=items))
