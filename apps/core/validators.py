"""Validators shared by serializers and forms."""
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# The same rule as a JSON Schema (ECMA 262) pattern, for the OpenAPI schema.
NO_CONTROL_CHARACTERS_PATTERN = r"^[^\u0000-\u001f\u007f-\u009f\u2028\u2029]*$"


def reject_control_characters(value: str) -> None:
    """Refuse identifiers with control characters (CR/LF, tabs, NUL, line separators)."""
    if isinstance(value, str) and _CONTROL.search(value):
        raise ValidationError(_("Control characters (such as line breaks or tabs) are not allowed here."),
                              code="control_characters")
