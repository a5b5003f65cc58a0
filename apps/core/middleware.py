import contextvars
import uuid

from django.conf import settings
from django.contrib.messages import middleware as messages_middleware
from django.utils.translation import gettext as _

from .responses import error_response

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


class RequestIdMiddleware:
    """Tag every log line of a request with an id (taken from ``X-Request-ID`` or made up)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        rid = request.headers.get("X-Request-ID", "")[:64] or uuid.uuid4().hex
        # Kept on the request too: Django logs 4xx/5xx (django.request) after the middleware
        # chain has returned, when the context variable is already reset.
        request.request_id = rid
        token = request_id_var.set(rid)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = rid
        return response


class BodySizeLimitMiddleware:
    """Answer 413 before reading a body larger than ``API_MAX_BODY_BYTES``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return error_response(_("Invalid Content-Length header."), 400, {"code": "invalid_content_length"})
        limit = settings.API_MAX_BODY_BYTES
        if length > limit:
            return error_response(
                _("Request body of %(length)d bytes exceeds the limit of %(limit)d bytes.")
                % {"length": length, "limit": limit},
                413,
                {"code": "request_too_large", "limit": limit},
            )
        return self.get_response(request)


class MessageMiddleware(messages_middleware.MessageMiddleware):
    """Django's flash messages for the console and the admin only.

    The REST API (``/api/``) never shows or stores flash messages, so its requests skip
    building the cookie + session message storage and saving it on the response (about 2% of
    a predict request's CPU under load). A subclass, so the admin's check for the message
    middleware still passes.
    """

    def __call__(self, request):
        if request.path_info.startswith("/api/"):
            return self.get_response(request)
        return super().__call__(request)


class ApiNotFoundMiddleware:
    """Under ``/api/``, a 404 page Django rendered for an unknown URL becomes the API's JSON error.

    DRF views answer their own 404s as JSON; this covers paths no URL pattern matches (an id that
    is not a number), where Django renders its page (with ``DEBUG`` on, the technical one, which
    the URL handler ``handler404`` never sees).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code == 404
            and request.path_info.startswith("/api/")
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            return error_response(_("Not found."), 404, {"code": "not_found"})
        return response
