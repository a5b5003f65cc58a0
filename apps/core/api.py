"""Shared API building blocks: the bulk-upsert view used by customers, agents and conversations."""
from django.conf import settings
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from .exceptions import ApplicationError


class BulkInSerializer(serializers.Serializer):
    items = serializers.ListField(child=serializers.DictField(), allow_empty=False)

    def validate_items(self, items):
        limit = settings.BULK_MAX_ITEMS
        if len(items) > limit:
            raise serializers.ValidationError(f"At most {limit} items per request; got {len(items)}.")
        return items


def validate_items(item_serializer_class, items: list) -> list[dict]:
    """Validate every item; report all errors by index and field, or return the clean items."""
    errors, clean = [], []
    for index, item in enumerate(items):
        serializer = item_serializer_class(data=item)
        if serializer.is_valid():
            clean.append(serializer.validated_data)
        else:
            errors.append({"index": index, "fields": serializer.errors})
    if errors:
        raise ApplicationError(
            f"{len(errors)} of {len(items)} items are invalid; nothing was written.", {"errors": errors}
        )
    return clean


class BulkUpsertApi(APIView):
    """``POST {"items": [...]}`` → ``{"created", "updated", "unchanged"}``; all or nothing."""

    item_serializer_class: type[serializers.Serializer]
    throttle_scope = "bulk"
    required_scope = "write"

    @staticmethod
    def upsert(items: list[dict]):  # pragma: no cover - set by subclasses
        raise NotImplementedError

    def post(self, request):
        data = request.data
        if isinstance(data, list):  # a bare JSON array is accepted too
            data = {"items": data}
        envelope = BulkInSerializer(data=data)
        envelope.is_valid(raise_exception=True)
        items = validate_items(self.item_serializer_class, envelope.validated_data["items"])
        result = type(self).upsert(items)
        return Response({**result.as_dict(), "n": len(items)}, status=status.HTTP_200_OK)


def bulk_schema(item_serializer_class):
    return extend_schema(
        request=inline_serializer(
            name=f"{item_serializer_class.__name__}Bulk", fields={"items": item_serializer_class(many=True)}
        ),
        responses={
            200: inline_serializer(
                name=f"{item_serializer_class.__name__}BulkResult",
                fields={
                    "created": serializers.IntegerField(),
                    "updated": serializers.IntegerField(),
                    "unchanged": serializers.IntegerField(),
                    "n": serializers.IntegerField(),
                },
            )
        },
    )
