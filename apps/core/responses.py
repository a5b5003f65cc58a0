"""The API's error shape, ``{"message": str, "extra": {...}}``, for code outside DRF views.

Kept free of DRF and model imports: the logging configuration imports the middleware that uses it.
"""
from typing import Any

from django.http import JsonResponse


def error_body(message: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The API's error shape."""
    return {"message": message, "extra": extra or {}}


def error_response(message: str, status_code: int, extra: dict[str, Any] | None = None) -> JsonResponse:
    """An error in the API's shape from plain Django code (middleware, URL-level handlers)."""
    return JsonResponse(error_body(message, extra), status=status_code)
