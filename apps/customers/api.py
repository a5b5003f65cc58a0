import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from apps.core.api import BulkUpsertApi, bulk_schema
from apps.core.exceptions import Conflict

from . import services
from .models import Customer


class CustomerInSerializer(serializers.Serializer):
    external_id = serializers.CharField(max_length=64)
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


class CustomerFilter(django_filters.FilterSet):
    updated_after = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Customer
        fields = ["segment", "vip_level", "city", "gender"]


class CustomerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Customer.objects.all()
    serializer_class = CustomerOutSerializer
    filterset_class = CustomerFilter
    lookup_field = "external_id"
    lookup_value_regex = "[^/]+"

    @extend_schema(request=CustomerInSerializer, responses={201: CustomerOutSerializer})
    def create(self, request):
        data = CustomerInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if Customer.objects.filter(external_id=data.validated_data["external_id"]).exists():
            raise Conflict("A customer with this external_id exists; use PUT to update it.")
        result = services.customers_upsert(items=[data.validated_data])
        obj = Customer.objects.get(pk=result.ids[data.validated_data["external_id"]])
        return Response(CustomerOutSerializer(obj).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CustomerInSerializer, responses={200: CustomerOutSerializer})
    def update(self, request, external_id=None):
        instance = self.get_object()
        data = CustomerInSerializer(data={**request.data, "external_id": instance.external_id})
        data.is_valid(raise_exception=True)
        services.customers_upsert(items=[data.validated_data])
        instance.refresh_from_db()
        return Response(CustomerOutSerializer(instance).data)


@bulk_schema(CustomerInSerializer)
class CustomerBulkUpsertApi(BulkUpsertApi):
    item_serializer_class = CustomerInSerializer
    upsert = staticmethod(lambda items: services.customers_upsert(items=items))
