from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Agent(models.Model):
    external_id = models.CharField(_("external id"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=128)
    team = models.CharField(_("team"), max_length=64, blank=True, db_index=True)
    hired_at = models.DateField(_("hired"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="agent"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("agent")
        verbose_name_plural = _("agents")

    def __str__(self) -> str:
        return f"{self.name} ({self.external_id})"


class TeamLead(models.Model):
    """A user who leads a team: their console pages and QA work are limited to it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="led_teams", verbose_name=_("user")
    )
    team = models.CharField(_("team"), max_length=64, db_index=True)

    class Meta:
        ordering = ["team", "user_id"]
        verbose_name = _("team lead")
        verbose_name_plural = _("team leads")
        constraints = [models.UniqueConstraint(fields=["user", "team"], name="teamlead_user_team_unique")]

    def __str__(self) -> str:
        return f"{self.user} → {self.team}"
