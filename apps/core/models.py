from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.models import AbstractAPIKey


class Scope(models.TextChoices):
    READ = "read", _("Read")
    WRITE = "write", _("Write")
    PREDICT = "predict", _("Predict")
    ADMIN = "admin", _("Admin")


def default_scopes() -> list[str]:
    return [Scope.READ, Scope.WRITE, Scope.PREDICT]


class APIKey(AbstractAPIKey):
    """A hashed API key for a CRM integration; only its prefix and hash are stored."""

    scopes = models.JSONField(_("scopes"), default=default_scopes)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta(AbstractAPIKey.Meta):
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        # What a signed-in staff user may do through the API (an API key carries its own scopes).
        permissions = [
            ("api_read", _("Can read through the API with a session")),
            ("api_write", _("Can write through the API with a session")),
            ("api_predict", _("Can call the predict API with a session")),
            ("api_admin", _("Can administer through the API with a session")),
        ]

    def has_scope(self, scope: str) -> bool:
        return Scope.ADMIN in self.scopes or scope in self.scopes


class AuditEvent(models.Model):
    """Append-only record of state changes that matter later."""

    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(_("actor"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=64, db_index=True)
    target_type = models.CharField(_("target type"), max_length=64, blank=True)
    target_id = models.CharField(_("target id"), max_length=255, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)

    class Meta:
        ordering = ["-at"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.target_type}:{self.target_id}"
