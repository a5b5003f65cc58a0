"""API-key authentication: ``Authorization: Api-Key <key>`` (hashed keys, djangorestframework-api-key)."""
from django.contrib.auth.models import AnonymousUser
from rest_framework import authentication, exceptions
from rest_framework_api_key.crypto import KeyGenerator  # noqa: F401  (documents the hashing scheme used)

from .models import APIKey

KEYWORD = "Api-Key"


class APIKeyUser(AnonymousUser):
    """The request's user when an integration calls with an API key."""

    def __init__(self, api_key: APIKey):
        self.api_key = api_key

    @property
    def is_authenticated(self) -> bool:  # type: ignore[override]
        return True

    def __str__(self) -> str:
        return f"api-key:{self.api_key.prefix}"


class APIKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header.startswith(f"{KEYWORD} "):
            header = ""
        key = header[len(KEYWORD) + 1 :].strip() if header else request.META.get("HTTP_X_API_KEY", "")
        if not key:
            return None
        try:
            api_key = APIKey.objects.get_from_key(key)
        except APIKey.DoesNotExist:
            api_key = None
        if api_key is None or not api_key.is_valid(key):
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        return APIKeyUser(api_key), api_key

    def authenticate_header(self, request) -> str:
        return KEYWORD
