"""How the OpenAPI schema states what the API accepts and answers (drf-spectacular extensions and
a postprocessing hook; imported in CoreConfig.ready).

The schema is the contract a client (or schemathesis) generates requests from, so every rule
an input field enforces and that JSON Schema can state is stated: strings are not blank after
trimming where the field says so and carry no NUL (PostgreSQL cannot store one), identifiers
carry no control characters, dates lie in their window (as a ``pattern``), lists that may not be
empty say ``minItems``. Every operation documents the error answers it can give.
"""
import sys

from django.core.validators import RegexValidator
from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiSerializerFieldExtension
from rest_framework import serializers

from .fields import UtcDateTimeField
from .validators import CONTROL_CHARACTERS_CLASS, reject_control_characters


class APIKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "apps.core.auth.APIKeyAuthentication"
    name = "ApiKeyAuth"
    priority = 1

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Authorization: Api-Key <key>` (or the `X-Api-Key: <key>` header).",
        }


# Error statuses every operation may answer, in the shape of ``apps.core.exceptions``.
ERROR_STATUSES = {
    "400": "Invalid input (field messages under extra.fields, or a JSON parse error).",
    "401": "No API key, or an invalid, revoked or expired one.",
    "403": "The API key (or the signed-in user) lacks the scope this operation needs.",
    "404": "Not found.",
    "405": "Method not allowed.",
    "406": "The Accept header asks for a format the API cannot answer.",
    "413": "Request body over API_MAX_BODY_BYTES.",
    "415": "Unsupported Content-Type.",
    "409": "Conflicts with the current state (an existing object, a finished job, a concurrent change).",
    "422": "Well-formed, but a rule across fields refuses it (an end before its start, nothing selected).",
    "429": "Too many requests; retry after extra.retry_after seconds (also the Retry-After header).",
    "503": "A dependency is unavailable (no model in production, the broker down); retry later.",
}
ERROR_SCHEMA = {
    "type": "object",
    "description": "Every API error: a message, and details in extra.",
    "properties": {
        "message": {"type": "string"},
        "extra": {"type": "object", "additionalProperties": True},
    },
    "required": ["message", "extra"],
}
ERROR_REF = {"$ref": "#/components/schemas/Error"}


def add_error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: document the API's error answers on every operation.

    Statuses an operation already documents keep their description and gain the error body
    when they had none.
    """
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            for status, description in ERROR_STATUSES.items():
                response = responses.setdefault(status, {"description": description})
                response.setdefault("content", {"application/json": {"schema": ERROR_REF}})
            for status, response in responses.items():
                if status.startswith(("4", "5")) and not response.get("content"):
                    response["content"] = {"application/json": {"schema": ERROR_REF}}
            for parameter in operation.get("parameters", []):
                # An empty optional query parameter (``?status=``) is read as absent: no filter.
                if parameter.get("in") == "query" and not parameter.get("required"):
                    parameter["allowEmptyValue"] = True
    return result


def _escape(char: str) -> str:
    return f"\\u{ord(char):04x}"


# What Python's str.strip() (DRF's trim_whitespace) removes, as a character-class body.
_WHITESPACE = "".join(_escape(chr(c)) for c in range(sys.maxunicode + 1) if chr(c).isspace())
_NUL = "\\u0000"


def string_pattern(*, excluded: str, blank: bool) -> str:
    """A pattern for strings without the ``excluded`` characters; with ``blank=False``, not only whitespace."""
    anything = f"[^{excluded}]*"
    if blank:
        return f"^{anything}$"
    return f"^{anything}[^{excluded}{_WHITESPACE}]{anything}$"


class CharFieldSchema(OpenApiSerializerFieldExtension):
    """Request strings: no NUL (no control characters for identifiers), not blank unless allowed."""

    target_class = "rest_framework.fields.CharField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if direction != "request" or schema.get("type") != "string" or "format" in schema or "enum" in schema:
            return schema
        field = self.target
        regexes = [v.regex.pattern for v in field.validators if isinstance(v, RegexValidator) and not v.inverse_match]
        if regexes:  # a RegexField: its own expression says it all
            schema["pattern"] = regexes[0]
            return schema
        control = any(v is reject_control_characters for v in field.validators)
        excluded = CONTROL_CHARACTERS_CLASS if control else _NUL
        blank = field.allow_blank or not field.trim_whitespace
        schema.setdefault("pattern", string_pattern(excluded=excluded, blank=blank))
        return schema


class UtcDateTimeFieldSchema(OpenApiSerializerFieldExtension):
    """A date-time whose written date lies in the field's window."""

    target_class = UtcDateTimeField

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if direction == "request":
            schema["pattern"] = self.target.window().datetime_pattern
        return schema


class ListFieldSchema(OpenApiSerializerFieldExtension):
    """``allow_empty=False`` on a list is ``minItems: 1``."""

    target_class = "rest_framework.fields.ListField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if not self.target.allow_empty and schema.get("type") == "array":
            schema["minItems"] = max(schema.get("minItems", 0), 1)
        return schema


class ListSerializerSchema(OpenApiSerializerFieldExtension):
    """A nested ``many=True`` serializer's ``allow_empty``, ``min_length`` and ``max_length``."""

    target_class = serializers.ListSerializer
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if schema is None or schema.get("type") != "array":
            return schema
        field = self.target
        low = max(field.min_length or 0, 0 if field.allow_empty else 1)
        if low:
            schema["minItems"] = low
        if field.max_length is not None:
            schema["maxItems"] = field.max_length
        return schema
