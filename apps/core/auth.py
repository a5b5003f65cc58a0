"""API-key authentication: ``Authorization: Api-Key <key>`` (hashed keys, djangorestframework-api-key).

Verified keys are cached in the process for ``API_KEY_CACHE_SECONDS`` (default 30 s), keyed by
the sha256 of the presented key (the plain key is never kept), so a busy integration costs no
database query and no hash check per request. Saving or deleting any API key (revoking it in
the admin, ``api_key_revoke``) invalidates the cache of every web process at once through the
shared cache (``apps.core.cache.TTLCache``; needs a shared ``CACHE_URL`` such as Redis when
there are several processes). On Redis the invalidation is pushed to every process over pub/sub
(``push=True``), so a request reads nothing from Redis to check for revocations; with the
subscription down, each request reads the shared generation instead. Expiry dates are still
checked on every request. A key that
fails verification is never cached; ``API_KEY_CACHE_SECONDS=0`` turns the cache off.
"""
from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from rest_framework import authentication, exceptions

from .cache import TTLCache
from .models import APIKey

KEYWORD = "Api-Key"
MAX_CACHED_KEYS = 1024


def _cache_seconds() -> float:
    return float(settings.API_KEY_CACHE_SECONDS or 0)


# sha256(presented key) -> APIKey
_verified = TTLCache(ttl=_cache_seconds, maxsize=MAX_CACHED_KEYS, shared_key="api_keys", push=True)


def clear_api_key_cache() -> None:
    """Forget every verified key, in this process and (through the shared cache) in all others."""
    _verified.invalidate()


def _on_key_change(sender, instance, **kwargs) -> None:
    clear_api_key_cache()
    # Again after the commit: a process that read the key in between must not keep it.
    transaction.on_commit(clear_api_key_cache)


post_save.connect(_on_key_change, sender=APIKey, dispatch_uid="core.auth.api_key_cache.save")
post_delete.connect(_on_key_change, sender=APIKey, dispatch_uid="core.auth.api_key_cache.delete")


def _lookup(key: str) -> APIKey | None:
    try:
        return APIKey.objects.get_from_key(key)  # usable (not revoked) and hash verified
    except APIKey.DoesNotExist:
        return None


def verified_key(key: str) -> APIKey | None:
    """The usable APIKey for ``key`` (cached when verified), or None."""
    if _cache_seconds() > 0:
        digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
        api_key = _verified.get_or_set(digest, lambda: _lookup(key))
    else:
        api_key = _lookup(key)
    if api_key is None or api_key.has_expired:
        return None
    return api_key


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
        api_key = verified_key(key)
        if api_key is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        return APIKeyUser(api_key), api_key

    def authenticate_header(self, request) -> str:
        return KEYWORD
