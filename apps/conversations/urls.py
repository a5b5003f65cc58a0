from django.urls import path
from rest_framework.routers import SimpleRouter

from .api import ConversationBulkUpsertApi, ConversationViewSet

router = SimpleRouter()
router.trailing_slash = "/?"  # CRMs call with and without the slash
router.register("conversations", ConversationViewSet, basename="conversation")

urlpatterns = [
    path("conversations/bulk", ConversationBulkUpsertApi.as_view(), name="conversation-bulk"),
    *router.urls,
]
