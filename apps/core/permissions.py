"""Scopes: safe methods need ``read``, others ``write``; a view may name its own ``required_scope``.

API keys have the scopes they were created with. Staff users signed in to the admin/console
have every scope.
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
    return bool(user and user.is_authenticated and user.is_staff)


class HasScope(permissions.BasePermission):
    message = "This API key lacks the scope this endpoint needs."

    def has_permission(self, request, view) -> bool:
        return request_has_scope(request, required_scope(request, view))
