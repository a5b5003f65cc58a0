"""Per-client throttling in the shared cache (Redis when CACHE_URL points to it).

The client is the API key (its prefix) or the signed-in user; a view picks the
rate with ``throttle_scope`` (``predict``, ``bulk``; ``default`` otherwise).
"""
from rest_framework.throttling import SimpleRateThrottle

from .auth import APIKeyUser


class ClientRateThrottle(SimpleRateThrottle):
    cache_format = "throttle_%(scope)s_%(ident)s"
    scope = "default"

    def __init__(self):
        # The rate depends on the view, so it is resolved in allow_request.
        pass

    def allow_request(self, request, view):
        self.scope = getattr(view, "throttle_scope", None) or "default"
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        user = request.user
        if isinstance(user, APIKeyUser):
            ident = f"key:{user.api_key.prefix}"
        elif user and user.is_authenticated:
            ident = f"user:{user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
