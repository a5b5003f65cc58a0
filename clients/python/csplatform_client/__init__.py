"""Python client for the customer-service intelligence platform API."""
from .breaker import CLOSED, HALF_OPEN, OPEN, CircuitBreaker
from .client import CSPlatformClient, Job, Prediction, UpsertResult, parse_retry_after
from .errors import (
    APIError,
    AuthenticationError,
    CircuitOpenError,
    Conflict,
    CSPlatformError,
    JobFailed,
    JobTimeout,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    RateLimited,
    RequestTimeout,
    ServerError,
    TransportError,
    ValidationError,
)

__version__ = "1.0.0"
__all__ = [
    "CSPlatformClient", "CircuitBreaker", "UpsertResult", "Prediction", "Job", "parse_retry_after",
    "CLOSED", "OPEN", "HALF_OPEN",
    "CSPlatformError", "TransportError", "RequestTimeout", "CircuitOpenError", "APIError", "ValidationError",
    "AuthenticationError", "PermissionDenied", "NotFound", "Conflict", "PayloadTooLarge", "RateLimited",
    "ServerError", "JobFailed", "JobTimeout",
]
