"""The base of every API input serializer: JSON types are checked, not coerced.

DRF converts what it can: ``0`` becomes the string ``"0"``, ``"5"`` the integer 5, ``"yes"`` and
``1`` the boolean ``True``. The OpenAPI schema promises a JSON type for each field, so an input
serializer refuses a value of another type with the field's own "invalid" message, before DRF
sees it. Nested input serializers and list items are checked the same way. An importer of
text files passes ``context={"from_text": True}`` to keep DRF's conversions.
"""
from collections.abc import Mapping

from rest_framework import serializers
from rest_framework.fields import empty


def _choice_types(field: serializers.ChoiceField) -> tuple[type, ...]:
    keys = list(field.choices)
    if keys and all(isinstance(key, str) for key in keys):
        return (str,)
    if keys and all(isinstance(key, int) and not isinstance(key, bool) for key in keys):
        return (int,)
    return ()


def json_types(field: serializers.Field) -> tuple[type, ...]:
    """The Python types of the JSON values ``field`` accepts; () when it accepts any."""
    if isinstance(field, serializers.BooleanField):
        return (bool,)
    if isinstance(field, serializers.ChoiceField):  # before CharField: MultipleChoiceField etc.
        return _choice_types(field)
    if isinstance(field, (serializers.CharField, serializers.DateTimeField, serializers.DateField,
                          serializers.TimeField, serializers.DurationField, serializers.UUIDField)):
        return (str,)
    if isinstance(field, (serializers.IntegerField, serializers.FloatField, serializers.DecimalField)):
        return (int, float)
    return ()


def _type_error(field: serializers.Field, value) -> str | None:
    types = json_types(field)
    if not types or value is None:
        return None
    if isinstance(value, types) and (bool in types or not isinstance(value, bool)):
        return None
    if isinstance(field, serializers.ChoiceField):
        return field.error_messages["invalid_choice"].format(input=value)
    message = str(field.error_messages.get("invalid", "Incorrect type."))
    return message.format(format="ISO 8601", input=value, data_type=type(value).__name__)


class InputSerializer(serializers.Serializer):
    # A serializer for request data whose scalar fields take only their own JSON type. (A comment,
    # not a docstring: the OpenAPI schema would show it as every subclass's description.)

    def to_internal_value(self, data):
        # Files (CSV, XLSX) carry every value as text: their importer asks for DRF's conversions.
        if isinstance(data, Mapping) and not self.context.get("from_text"):
            errors = {}
            for field in self._writable_fields:
                value = data.get(field.field_name, empty)
                if value is empty:
                    continue
                if isinstance(field, serializers.ListField) and isinstance(value, list):
                    item_errors = {i: [msg] for i, item in enumerate(value)
                                   if (msg := _type_error(field.child, item)) is not None}
                    if item_errors:
                        errors[field.field_name] = item_errors
                elif (message := _type_error(field, value)) is not None:
                    errors[field.field_name] = [message]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)
