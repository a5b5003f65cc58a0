"""Webhook subscriptions and their deliveries. Every endpoint needs the ``admin`` scope."""
from django.core.validators import RegexValidator
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.pagination import CreatedCursorPagination
from apps.core.serializers import InputSerializer

from . import selectors, services
from .models import Event, WebhookDelivery, WebhookSubscription


# The http(s) URLs a subscription takes, checked by the field and stated in the schema: a host
# name (or IPv4 address), an optional port, a path and query of unreserved or %-encoded characters.
WEBHOOK_URL_PATTERN = (
    r"^https?://(?:(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,3}[A-Za-z]{2,24}"
    r"|(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9]))"
    r"(?::[1-9][0-9]{0,4})?(?:/(?:[A-Za-z0-9._~/-]|%[0-9A-Fa-f]{2})*)?"
    r"(?:\?(?:[A-Za-z0-9._~/?=&+-]|%[0-9A-Fa-f]{2})*)?$"
)


@extend_schema_field({"type": "string", "format": "uri", "maxLength": 500, "pattern": WEBHOOK_URL_PATTERN})
class WebhookUrlField(serializers.URLField):
    """The http(s) URLs a subscription takes (``WEBHOOK_URL_PATTERN``)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators.append(RegexValidator(WEBHOOK_URL_PATTERN, _("Enter an http:// or https:// URL.")))


class SubscriptionInputSerializer(InputSerializer):
    name = serializers.CharField(max_length=100)
    url = WebhookUrlField(max_length=500, help_text=_("http:// or https:// URL that receives the POSTs."))
    events = serializers.ListField(child=serializers.ChoiceField(choices=Event.choices), allow_empty=False)
    secret = serializers.CharField(
        min_length=16, max_length=128, required=False,
        help_text=_("Signing secret; generated when omitted. Returned once, in this response."),
    )
    active = serializers.BooleanField(default=True)


class SubscriptionOutputSerializer(serializers.ModelSerializer):
    events = serializers.ListField(child=serializers.ChoiceField(choices=Event.choices))

    class Meta:
        model = WebhookSubscription
        fields = ["id", "name", "url", "events", "active", "created_at"]


class SubscriptionCreatedSerializer(SubscriptionOutputSerializer):
    secret = serializers.CharField(help_text=_("Shown only once: store it to verify X-CSP-Signature."))

    class Meta(SubscriptionOutputSerializer.Meta):
        fields = [*SubscriptionOutputSerializer.Meta.fields, "secret"]


class DeliveryOutputSerializer(serializers.ModelSerializer):
    subscription = serializers.PrimaryKeyRelatedField(read_only=True)
    payload = serializers.JSONField()

    class Meta:
        model = WebhookDelivery
        fields = ["delivery_id", "subscription", "event", "payload", "status", "attempts", "response_code",
                  "last_error", "created_at", "delivered_at"]


class WebhookSubscriptionListCreateApi(APIView):
    required_scope = "admin"

    @extend_schema(operation_id="webhook_subscriptions_list", responses=SubscriptionOutputSerializer(many=True))
    def get(self, request):
        subscriptions = selectors.subscription_list()
        return Response(SubscriptionOutputSerializer(subscriptions, many=True).data)

    @extend_schema(operation_id="webhook_subscriptions_create", request=SubscriptionInputSerializer,
                   responses={201: SubscriptionCreatedSerializer})
    def post(self, request):
        serializer = SubscriptionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        subscription = services.subscription_create(**serializer.validated_data, actor=request.user)
        return Response(SubscriptionCreatedSerializer(subscription).data, status=status.HTTP_201_CREATED)


class WebhookSubscriptionDetailApi(APIView):
    required_scope = "admin"

    @extend_schema(operation_id="webhook_subscriptions_retrieve", responses=SubscriptionOutputSerializer)
    def get(self, request, subscription_id: int):
        subscription = get_object_or_404(selectors.subscription_list(), pk=subscription_id)
        return Response(SubscriptionOutputSerializer(subscription).data)

    @extend_schema(operation_id="webhook_subscriptions_destroy", responses={204: None})
    def delete(self, request, subscription_id: int):
        subscription = get_object_or_404(selectors.subscription_list(), pk=subscription_id)
        services.subscription_delete(subscription=subscription, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookDeliveryListApi(APIView):
    required_scope = "admin"
    pagination_class = CreatedCursorPagination

    @extend_schema(operation_id="webhook_deliveries_list", responses=DeliveryOutputSerializer(many=True))
    def get(self, request, subscription_id: int):
        subscription = get_object_or_404(selectors.subscription_list(), pk=subscription_id)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(selectors.delivery_list(subscription=subscription), request, view=self)
        return paginator.get_paginated_response(DeliveryOutputSerializer(page, many=True).data)


class WebhookDeliveryRedeliverApi(APIView):
    required_scope = "admin"

    @extend_schema(operation_id="webhook_deliveries_redeliver", request=None,
                   responses={202: DeliveryOutputSerializer})
    def post(self, request, delivery_id):
        delivery = get_object_or_404(WebhookDelivery, delivery_id=delivery_id)
        delivery = services.delivery_redeliver(delivery=delivery, actor=request.user)
        return Response(DeliveryOutputSerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
