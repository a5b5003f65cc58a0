"""The API's JSON parser: orjson with a nesting limit.

orjson refuses what PostgreSQL or Python could not handle later: lone UTF-16 surrogates
(``"\\udbc1"``), ``NaN``/``Infinity`` and numbers that overflow a double, invalid UTF-8. It parses
iteratively, so a deeply nested body cannot exhaust Python's stack; the body is then refused
when it nests deeper than ``API_MAX_JSON_DEPTH`` (no endpoint needs more than a few levels, and
serializers and services walk the data recursively).
"""
import orjson
from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


def json_depth_exceeds(data, limit: int) -> bool:
    """True when ``data`` nests objects/arrays more than ``limit`` levels deep (iterative walk)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        children = value.values() if isinstance(value, dict) else value
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


class StrictJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = orjson.loads(stream.read())
        except orjson.JSONDecodeError as exc:
            raise ParseError(_("JSON parse error: %(error)s") % {"error": exc}) from exc
        if isinstance(data, (dict, list)) and json_depth_exceeds(data, settings.API_MAX_JSON_DEPTH):
            raise ParseError(
                _("JSON nests deeper than %(limit)d levels.") % {"limit": settings.API_MAX_JSON_DEPTH}
            )
        return data
