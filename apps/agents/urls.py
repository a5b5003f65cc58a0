from django.urls import path
from rest_framework.routers import SimpleRouter

from .api import AgentBulkUpsertApi, AgentViewSet

router = SimpleRouter()
router.trailing_slash = "/?"  # CRMs call with and without the slash
router.register("agents", AgentViewSet, basename="agent")

urlpatterns = [path("agents/bulk", AgentBulkUpsertApi.as_view(), name="agent-bulk"), *router.urls]
