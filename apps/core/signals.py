"""Audit trail of sign-ins: successful and failed logins via django.contrib.auth signals.

The password never reaches the audit row: Django cleanses ``credentials`` before sending
``user_login_failed``, and we keep only the user name and the client address.
"""
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from .services import audit_record


def _client_ip(request) -> str:
    if request is None:
        return ""
    return (request.META.get("REMOTE_ADDR") or "")[:64]


@receiver(user_logged_in, dispatch_uid="core.audit_login")
def audit_login(sender, request, user, **kwargs):
    audit_record(action="auth.login", actor=user, target=user, data={"ip": _client_ip(request)})


@receiver(user_logged_out, dispatch_uid="core.audit_logout")
def audit_logout(sender, request, user, **kwargs):
    if user is not None:
        audit_record(action="auth.logout", actor=user, target=user, data={"ip": _client_ip(request)})


@receiver(user_login_failed, dispatch_uid="core.audit_login_failed")
def audit_login_failed(sender, credentials, request=None, **kwargs):
    username = str(credentials.get("username", "") or "")[:150]
    audit_record(
        action="auth.login_failed",
        actor_label=f"anonymous:{username}" if username else "anonymous",
        data={"username": username, "ip": _client_ip(request)},
    )
