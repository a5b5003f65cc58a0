"""Login throttling: django-axes' backend for sign-ins that come with a request.

A web sign-in (admin or console login form) counts failures per username and client address
and is refused for ``LOGIN_LOCKOUT_MINUTES`` after ``LOGIN_FAILURE_LIMIT`` failures in a row.
``authenticate()`` called without a request (management commands, scripts) is not throttled
here and goes on to Django's model backend.
"""
from axes.backends import AxesStandaloneBackend


class LoginThrottleBackend(AxesStandaloneBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
