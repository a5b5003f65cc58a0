"""One error type for services, one DRF handler that maps every API error to HTTP.

Every error the API answers has one shape: ``{"message": str, "extra": {...}}``. Validation
errors put the field messages under ``extra.fields``; other DRF errors (401, 403, 404, 405,
406, 415, 429, JSON parse errors) put their machine code under ``extra.code``; 429 adds
``extra.retry_after`` (seconds, also sent as ``Retry-After``).
"""
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from .responses import error_body


class ApplicationError(Exception):
    """A business rule said no. ``extra`` carries field-level details."""

    status_code = status.HTTP_400_BAD_REQUEST

    def __init__(self, message: str, extra: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


class NotFound(ApplicationError):
    status_code = status.HTTP_404_NOT_FOUND


class Conflict(ApplicationError):
    status_code = status.HTTP_409_CONFLICT


class Unprocessable(ApplicationError):
    """A well-formed request (valid by the OpenAPI schema) that a rule across its fields refuses:
    an empty time range, an end before its start. The schema cannot state such rules, so they
    answer 422, not 400 (which means "not what the schema describes")."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY


# The error code of a serializer's cross-field rule; a validation error made only of such
# errors answers 422 (see Unprocessable).
RULE = "rule"


def _codes(detail) -> list:
    if isinstance(detail, dict):
        return [code for value in detail.values() for code in _codes(value)]
    if isinstance(detail, list):
        return [code for value in detail for code in _codes(value)]
    return [getattr(detail, "code", None)]


def only_rule_errors(detail) -> bool:
    """Whether every error in ``detail`` (a ValidationError's detail or a serializer's ``errors``)
    is a cross-field rule."""
    flat = _codes(detail)
    return bool(flat) and all(code == RULE for code in flat)


class ServiceUnavailable(ApplicationError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, ApplicationError):
        return Response(error_body(exc.message, exc.extra), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = response.data if isinstance(response.data, dict) else {"non_field_errors": response.data}
        response.data = error_body(_("Validation error"), {"fields": fields})
        if only_rule_errors(exc.detail):
            response.status_code = Unprocessable.status_code
    elif isinstance(exc, exceptions.APIException):
        detail = exc.detail
        message = str(detail) if not isinstance(detail, (dict, list)) else str(exc.default_detail)
        extra: dict[str, Any] = {"code": exc.get_codes() if not isinstance(detail, (dict, list)) else exc.default_code}
        if isinstance(detail, (dict, list)):
            extra["detail"] = detail
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            extra["retry_after"] = int(exc.wait)
        response.data = error_body(message, extra)
    return response
