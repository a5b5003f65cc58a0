"""API-key authentication: ``Authorization: Api-Key <key>`` (hashed keys, djangorestframework-api-key).

Verified keys are cached in the process for ``API_KEY_CACHE_SECONDS`` (default 30 s), keyed by
the sha256 of the presented key (the plain key is never kept), so a busy integration costs no
database query and no hash check per request. Consequence: **revoking a key takes effect
within that many seconds** in every web process (at once in the process that saved the
revocation, which drops its entry). Expiry dates are still checked on every request. A key
that fails verification is never cached; ``API_KEY_CACHE_SECONDS=0`` turns the cache off.
"""
from __future__ import annotations

import hashlib
import threading
import time

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db.models.signals import post_delete, post_save
from rest_framework import authentication, exceptions

from .models import APIKey

KEYWORD = "Api-Key"
DEFAULT_CACHE_SECONDS = 30.0
MAX_CACHED_KEYS = 1024

# sha256(presented key) -> (monotonic expiry, APIKey)
_verified: dict[str, tuple[float, APIKey]] = {}
_lock = threading.Lock()


def clear_api_key_cache(api_key_pk=None) -> None:
    """Forget cached keys: all of them, or the entries of one API key (by primary key)."""
    with _lock:
        if api_key_pk is None:
            _verified.clear()
            return
        for digest in [d for d, (_, k) in _verified.items() if k.pk == api_key_pk]:
            _verified.pop(digest, None)


def _on_key_change(sender, instance, **kwargs) -> None:
    clear_api_key_cache(instance.pk)


post_save.connect(_on_key_change, sender=APIKey, dispatch_uid="core.auth.api_key_cache.save")
post_delete.connect(_on_key_change, sender=APIKey, dispatch_uid="core.auth.api_key_cache.delete")


def _cache_seconds() -> float:
    return float(getattr(settings, "API_KEY_CACHE_SECONDS", DEFAULT_CACHE_SECONDS) or 0)


def verified_key(key: str) -> APIKey | None:
    """The usable APIKey for ``key`` (cached when verified), or None."""
    ttl = _cache_seconds()
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest() if ttl > 0 else ""
    if ttl > 0:
        entry = _verified.get(digest)
        if entry is not None:
            expires, api_key = entry
            if time.monotonic() < expires and not api_key.has_expired:
                return api_key
            _verified.pop(digest, None)
    try:
        api_key = APIKey.objects.get_from_key(key)  # usable (not revoked) and hash verified
    except APIKey.DoesNotExist:
        return None
    if api_key.has_expired:
        return None
    if ttl > 0:
        with _lock:
            if len(_verified) >= MAX_CACHED_KEYS:
                now = time.monotonic()
                for d in [d for d, (exp, _) in _verified.items() if exp <= now] or list(_verified)[: MAX_CACHED_KEYS // 4]:
                    _verified.pop(d, None)
            _verified[digest] = (time.monotonic() + ttl, api_key)
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
