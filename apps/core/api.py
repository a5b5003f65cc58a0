"""Shared API building blocks: the bulk-upsert view used by customers, agents and conversations."""
from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from .exceptions import ApplicationError, Conflict, Unprocessable, only_rule_errors


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
        error = Unprocessable if only_rule_errors([e["fields"] for e in errors]) else ApplicationError
        raise error(f"{len(errors)} of {len(items)} items are invalid; nothing was written.", {"errors": errors})
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
            name=f"{item_serializer_class.__name__}Bulk",
            fields={"items": serializers.ListField(child=item_serializer_class(), min_length=1,
                                                   max_length=settings.BULK_MAX_ITEMS)}
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


class ExternalIdViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """List/retrieve by the CRM's ``external_id``; create (POST) and update (PUT) through the upsert service.

    Subclasses set ``serializer_class`` (output), ``in_serializer_class`` (input) and ``upsert``
    (the same service the bulk endpoint calls).
    """

    lookup_field = "external_id"
    lookup_value_regex = "[^/]+"
    in_serializer_class: type[serializers.Serializer]

    @staticmethod
    def upsert(items: list[dict]):  # pragma: no cover - set by subclasses
        raise NotImplementedError

    def create(self, request):
        data = self.in_serializer_class(data=request.data)
        data.is_valid(raise_exception=True)
        external_id = data.validated_data["external_id"]
        queryset = self.get_queryset()
        if queryset.filter(external_id=external_id).exists():
            raise Conflict(f"A {queryset.model._meta.model_name} with this external_id exists; use PUT to update it.")
        result = type(self).upsert([data.validated_data])
        obj = queryset.get(pk=result.ids[external_id])
        return Response(self.get_serializer(obj).data, status=status.HTTP_201_CREATED)

    def update(self, request, external_id=None):
        instance = self.get_object()
        if not isinstance(request.data, dict):
            raise serializers.ValidationError(
                {"non_field_errors": [_("The body must be a JSON object with the fields to store.")]})
        data = self.in_serializer_class(data={**request.data, "external_id": instance.external_id})
        data.is_valid(raise_exception=True)
        type(self).upsert([data.validated_data])
        return Response(self.get_serializer(self.get_queryset().get(pk=instance.pk)).data)


def _update_serializer(in_serializer_class):
    """The input serializer without ``external_id``: a PUT takes it from the URL."""
    name = in_serializer_class.__name__.removesuffix("Serializer").removesuffix("In") + "UpdateSerializer"
    return type(name, (in_serializer_class,), {"external_id": None, "__module__": in_serializer_class.__module__})


def upsert_schema(in_serializer_class, out_serializer_class):
    """OpenAPI for an ExternalIdViewSet subclass: create takes the input serializer, update the same
    without ``external_id`` (the URL names the object)."""
    return extend_schema_view(
        create=extend_schema(request=in_serializer_class, responses={201: out_serializer_class}),
        update=extend_schema(request=_update_serializer(in_serializer_class), responses={200: out_serializer_class}),
    )
