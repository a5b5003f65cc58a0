import django_filters
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.exceptions import ApplicationError
from apps.core.pagination import CreatedCursorPagination

from . import selectors
from .models import ModelVersion


class ModelVersionOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = ModelVersion
        fields = ["id", "task", "backend", "version", "status", "sha256", "training_data", "metrics", "comparison",
                  "created_at", "promoted_at"]


class ModelVersionFilter(django_filters.FilterSet):
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


class ProductionAtApi(APIView):
    @extend_schema(parameters=[OpenApiParameter("at", str, description="ISO datetime; default now")],
                   responses={200: ModelVersionOutputSerializer(many=True)},
                   summary="Which version of each task was in production at a moment")
    def get(self, request):
        raw = request.query_params.get("at")
        at = parse_datetime(raw) if raw else timezone.now()
        if at is None:
            raise ApplicationError("'at' must be an ISO datetime, e.g. 2024-05-01T12:00:00+08:00.")
        if timezone.is_naive(at):
            at = timezone.make_aware(at)
        versions = selectors.production_versions_at(at=at)
        return Response({
            "at": at.isoformat(),
            "versions": {task: ModelVersionOutputSerializer(mv).data if mv else None for task, mv in versions.items()},
        })
