from rest_framework import serializers

from apps.core.api import BulkUpsertApi, ExternalIdViewSet, bulk_schema, upsert_schema
from apps.core.fields import IdentifierField
from apps.core.filters import FilterSet, UtcIsoDateTimeFilter
from apps.core.serializers import InputSerializer

from . import services
from .models import Customer


class CustomerInSerializer(InputSerializer):
    external_id = IdentifierField()
    display_name = serializers.CharField(max_length=128, required=False, allow_blank=True)
    age = serializers.IntegerField(min_value=0, max_value=130, required=False, allow_null=True)
    gender = serializers.ChoiceField(choices=Customer.Gender.choices, required=False, allow_blank=True)
    city = serializers.CharField(max_length=64, required=False, allow_blank=True)
    segment = serializers.ChoiceField(choices=Customer.Segment.choices, required=False)
    vip_level = serializers.ChoiceField(choices=Customer.VipLevel.choices, required=False)


class CustomerOutSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = ["id", "external_id", "display_name", "age", "gender", "city", "segment", "vip_level",
                  "created_at", "updated_at"]


class CustomerFilter(FilterSet):
    updated_after = UtcIsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Customer
        fields = ["segment", "vip_level", "city", "gender"]


@upsert_schema(CustomerInSerializer, CustomerOutSerializer)
class CustomerViewSet(ExternalIdViewSet):
    queryset = Customer.objects.all()
    serializer_class = CustomerOutSerializer
    in_serializer_class = CustomerInSerializer
    filterset_class = CustomerFilter
    upsert = staticmethod(lambda items: services.customers_upsert(items=items))


@bulk_schema(CustomerInSerializer)
class CustomerBulkUpsertApi(BulkUpsertApi):
    item_serializer_class = CustomerInSerializer
    upsert = staticmethod(lambda items: services.customers_upsert(items=items))
