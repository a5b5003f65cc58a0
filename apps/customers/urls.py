from django.urls import path
from rest_framework.routers import SimpleRouter

from .api import CustomerBulkUpsertApi, CustomerViewSet

router = SimpleRouter()
router.trailing_slash = "/?"  # CRMs call with and without the slash
router.register("customers", CustomerViewSet, basename="customer")

urlpatterns = [path("customers/bulk", CustomerBulkUpsertApi.as_view(), name="customer-bulk"), *router.urls]
