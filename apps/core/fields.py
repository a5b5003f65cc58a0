import datetime as dt

from rest_framework import serializers


class UtcDateTimeField(serializers.DateTimeField):
    """ISO 8601 with any offset Python accepts, stored as UTC (PostgreSQL refuses offsets beyond ±15:59)."""

    def to_internal_value(self, value):
        parsed = super().to_internal_value(value)
        try:
            return parsed.astimezone(dt.timezone.utc)
        except OverflowError as exc:
            raise serializers.ValidationError("Date out of range.") from exc
