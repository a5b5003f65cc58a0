"""Serializer fields shared by the API apps."""
from collections.abc import Callable

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from .dates import DateWindow, as_utc, conversation_window
from .validators import reject_control_characters


class UtcDateTimeField(serializers.DateTimeField):
    """ISO 8601 with any offset, stored as UTC, with a written date inside ``window()``.

    The default window is the conversation one (``CONVERSATION_DATE_MIN`` to
    ``CONVERSATION_DATE_MAX_FUTURE_DAYS`` ahead); ``window=query_window`` gives the wider query
    window. The OpenAPI schema states the window as the field's ``pattern`` (apps/core/schema.py).
    """

    def __init__(self, *, window: Callable[[], DateWindow] = conversation_window, **kwargs):
        self.window = window
        super().__init__(**kwargs)

    def to_internal_value(self, value):
        if isinstance(value, str):
            try:
                self.window().check(value, with_time=True)
            except DjangoValidationError as exc:
                raise serializers.ValidationError(exc.messages, code="date_range") from exc
        parsed = super().to_internal_value(value)
        try:
            return as_utc(parsed)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages, code="date_range") from exc


class IdentifierField(serializers.CharField):
    """A CRM identifier: at most 64 characters, trimmed, no control characters."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 64)
        super().__init__(**kwargs)
        self.validators.append(reject_control_characters)
