"""Typed exceptions: catch ``CSPlatformError`` for everything, or a subclass for one case."""
from __future__ import annotations

from typing import Any, Optional


class CSPlatformError(Exception):
    """Base class of every error the client raises."""


class TransportError(CSPlatformError):
    """The server could not be reached, or dropped the connection (after all retries)."""


class RequestTimeout(TransportError):
    """The server did not answer within ``timeout`` seconds (after all retries)."""


class CircuitOpenError(CSPlatformError):
    """The circuit breaker is open: recent calls failed, so this one was not sent."""

    def __init__(self, message: str, retry_in: float):
        super().__init__(message)
        self.retry_in = retry_in


class APIError(CSPlatformError):
    """The server answered with an error status."""

    def __init__(self, status: int, message: str, body: Any = None, request_id: Optional[str] = None):
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.message = message
        self.body = body
        self.request_id = request_id


class ValidationError(APIError):
    """400: the request was invalid; ``body["extra"]`` holds field-level details."""


class AuthenticationError(APIError):
    """401: missing, invalid or revoked API key."""


class PermissionDenied(APIError):
    """403: the API key lacks the scope this endpoint needs."""


class NotFound(APIError):
    """404."""


class Conflict(APIError):
    """409."""


class PayloadTooLarge(APIError):
    """413: the request body exceeds the server's limit; send smaller batches."""


class RateLimited(APIError):
    """429 after all retries; ``retry_after`` is the server's hint in seconds (if any)."""

    def __init__(self, status: int, message: str, body: Any = None, request_id: Optional[str] = None,
                 retry_after: Optional[float] = None):
        super().__init__(status, message, body, request_id)
        self.retry_after = retry_after


class ServerError(APIError):
    """5xx after all retries (500 is not retried: it is a server bug, not a transient state)."""


class JobFailed(CSPlatformError):
    """A waited-for job ended ``failed`` or ``cancelled``; ``job`` is its last state."""

    def __init__(self, job: dict):
        super().__init__(f"job {job.get('id')} ended {job.get('status')}: {job.get('error') or ''}".strip())
        self.job = job


class JobTimeout(CSPlatformError):
    """A waited-for job did not finish in time; ``job`` is its last state."""

    def __init__(self, job: dict, waited: float):
        super().__init__(f"job {job.get('id')} still {job.get('status')} after {waited:.0f} s")
        self.job = job


_BY_STATUS = {400: ValidationError, 401: AuthenticationError, 403: PermissionDenied, 404: NotFound,
              409: Conflict, 413: PayloadTooLarge, 422: ValidationError}


def error_for_status(status: int, message: str, body: Any, request_id: Optional[str],
                     retry_after: Optional[float] = None) -> APIError:
    if status == 429:
        return RateLimited(status, message, body, request_id, retry_after)
    if status >= 500:
        return ServerError(status, message, body, request_id)
    return _BY_STATUS.get(status, APIError)(status, message, body, request_id)
