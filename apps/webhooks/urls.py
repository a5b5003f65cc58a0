from django.urls import path

from . import api

urlpatterns = [
    path("webhooks/subscriptions", api.WebhookSubscriptionListCreateApi.as_view(), name="webhook-subscriptions"),
    path("webhooks/subscriptions/<int:subscription_id>", api.WebhookSubscriptionDetailApi.as_view(),
         name="webhook-subscription"),
    path("webhooks/subscriptions/<int:subscription_id>/deliveries", api.WebhookDeliveryListApi.as_view(),
         name="webhook-deliveries"),
    path("webhooks/deliveries/<uuid:delivery_id>/redeliver", api.WebhookDeliveryRedeliverApi.as_view(),
         name="webhook-delivery-redeliver"),
]
