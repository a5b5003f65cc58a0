"""Serializer fields shared by the API apps."""
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .dates import check_conversation_datetime, check_query_datetime
from .validators import NO_CONTROL_CHARACTERS_PATTERN, reject_control_characters


class UtcDateTimeField(serializers.DateTimeField):
    """ISO 8601 with any offset, stored as UTC, inside the window ``check`` enforces.

    The default window is the conversation one (``CONVERSATION_DATE_MIN`` to
    ``CONVERSATION_DATE_MAX_FUTURE_DAYS`` ahead); ``check=check_query_datetime`` gives the wider
    query window.
    """

    def __init__(self, *, check=check_conversation_datetime, **kwargs):
        self.check = check
        super().__init__(**kwargs)

    def to_internal_value(self, value):
        try:
            parsed = super().to_internal_value(value)
        except OverflowError as exc:  # DRF's time-zone check converts to UTC
            raise serializers.ValidationError(_("Date out of range."), code="date_range") from exc
        try:
            return self.check(parsed)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages, code="date_range") from exc


@extend_schema_field({"type": "string", "maxLength": 64, "pattern": NO_CONTROL_CHARACTERS_PATTERN})
class IdentifierField(serializers.CharField):
    """A CRM identifier: at most 64 characters, trimmed, no control characters."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 64)
        super().__init__(**kwargs)
        self.validators.append(reject_control_characters)
