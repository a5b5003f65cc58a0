"""Validators shared by serializers and forms."""
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# Control characters, as the body of a character class both Python and ECMA 262 (the OpenAPI
# schema's patterns) read the same way.
CONTROL_CHARACTERS_CLASS = r"\u0000-\u001f\u007f-\u009f\u2028\u2029"
_CONTROL = re.compile(f"[{CONTROL_CHARACTERS_CLASS}]")
NO_CONTROL_CHARACTERS_PATTERN = f"^[^{CONTROL_CHARACTERS_CLASS}]*$"


def reject_control_characters(value: str) -> None:
    """Refuse identifiers with control characters (CR/LF, tabs, NUL, line separators)."""
    if isinstance(value, str) and _CONTROL.search(value):
        raise ValidationError(_("Control characters (such as line breaks or tabs) are not allowed here."),
                              code="control_characters")
