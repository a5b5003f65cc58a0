from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.dates import query_window
from apps.core.fields import UtcDateTimeField
from apps.core.filters import FilterSet
from apps.core.pagination import CreatedCursorPagination

from . import selectors
from .models import ModelVersion


class ModelVersionOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = ModelVersion
        fields = ["id", "task", "backend", "version", "status", "sha256", "training_data", "metrics", "comparison",
                  "created_at", "promoted_at"]


class ModelVersionFilter(FilterSet):
    """``task`` and ``status`` must be one of their choices (400 with the field's message otherwise)."""

    class Meta:
        model = ModelVersion
        fields = ["task", "status"]


class ModelVersionListApi(generics.ListAPIView):
    serializer_class = ModelVersionOutputSerializer
    pagination_class = CreatedCursorPagination
    filterset_class = ModelVersionFilter

    def get_queryset(self):
        return selectors.model_version_list()


class ProductionAtQuerySerializer(serializers.Serializer):
    at = UtcDateTimeField(window=query_window, required=False,
                          help_text="ISO 8601 datetime (naive: the server's time zone); default now.")


class ProductionAtApi(APIView):
    @extend_schema(parameters=[ProductionAtQuerySerializer],
                   responses={200: inline_serializer(name="ProductionAt", fields={
                       "at": serializers.DateTimeField(),
                       "versions": serializers.DictField(child=ModelVersionOutputSerializer(allow_null=True),
                                                         help_text="task → the version in production then, or null"),
                   })},
                   summary="Which version of each task was in production at a moment")
    def get(self, request):
        query = ProductionAtQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        at = query.validated_data.get("at") or timezone.now()
        versions = selectors.production_versions_at(at=at)
        return Response({
            "at": serializers.DateTimeField().to_representation(at),
            "versions": {task: ModelVersionOutputSerializer(mv).data if mv else None for task, mv in versions.items()},
        })
