"""Scopes: safe methods need ``read``, others ``write``; a view may name its own ``required_scope``.

API keys have the scopes they were created with. A signed-in user has a scope only through
the matching Django permission (``core.api_read``, ``core.api_write``, ``core.api_predict``;
``core.api_admin`` implies all), given by a role group or directly; a superuser has them all.
A staff flag alone grants nothing.
"""
from rest_framework import permissions

from .auth import APIKeyUser


def required_scope(request, view) -> str:
    scope = getattr(view, "required_scope", None)
    if scope:
        return scope
    return "read" if request.method in permissions.SAFE_METHODS else "write"


def request_has_scope(request, scope: str) -> bool:
    """Whether the caller (an API key or a signed-in staff user) holds ``scope``."""
    user = request.user
    if isinstance(user, APIKeyUser):
        return user.api_key.has_scope(scope)
    if not (user and user.is_authenticated and user.is_active):
        return False
    return user.has_perm(f"core.api_{scope}") or user.has_perm("core.api_admin")


class HasScope(permissions.BasePermission):
    message = "This API key lacks the scope this endpoint needs."

    def has_permission(self, request, view) -> bool:
        return request_has_scope(request, required_scope(request, view))
