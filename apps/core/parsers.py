"""A JSON parser that refuses text PostgreSQL cannot store.

JSON may spell lone UTF-16 surrogates (``"\\udbc1"``); Python keeps them in ``str`` but they
cannot be encoded as UTF-8, so the database would fail with a 500. Refuse them up front.
"""
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


def _check(value) -> None:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ParseError("JSON contains invalid Unicode (a lone surrogate).") from exc
    elif isinstance(value, dict):
        for key, item in value.items():
            _check(key)
            _check(item)
    elif isinstance(value, list):
        for item in value:
            _check(item)


class StrictJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        _check(data)
        return data
