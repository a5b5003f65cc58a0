from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Task(models.TextChoices):
    INTENT = "intent", _("Intent")
    SENTIMENT = "sentiment", _("Sentiment")
    QUALITY = "quality", _("Service quality")


# Besides the three core tasks, a task may be a learned QA criterion: "qa:<criterion key>".
LEARNED_TASK_PREFIX = "qa:"
TASK_MAX_LENGTH = 80


def task_is_known(task: str) -> bool:
    """A core task, or ``qa:`` followed by a criterion key."""
    return task in Task.values or (
        isinstance(task, str) and task.startswith(LEARNED_TASK_PREFIX) and 0 < len(task) - len(LEARNED_TASK_PREFIX)
        and len(task) <= TASK_MAX_LENGTH
    )


class ModelVersion(models.Model):
    class Status(models.TextChoices):
        CANDIDATE = "candidate", _("Candidate")
        PRODUCTION = "production", _("Production")
        RETIRED = "retired", _("Retired")
        REJECTED = "rejected", _("Rejected")

    task = models.CharField(_("task"), max_length=TASK_MAX_LENGTH, choices=Task.choices)
    backend = models.CharField(_("backend"), max_length=32)
    version = models.PositiveIntegerField(_("version"))
    artifact_path = models.CharField(_("artifact location"), max_length=500)
    sha256 = models.CharField(_("manifest sha256"), max_length=64)
    training_data = models.JSONField(_("training data"), default=dict, blank=True)
    metrics = models.JSONField(_("metrics"), default=dict, blank=True)
    comparison = models.JSONField(_("held-out comparison"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.CANDIDATE)
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    promoted_at = models.DateTimeField(_("promoted"), null=True, blank=True)
    promoted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["task", "-version"]
        verbose_name = _("model version")
        verbose_name_plural = _("model versions")
        constraints = [
            models.UniqueConstraint(fields=["task", "version"], name="modelversion_task_version_unique"),
            models.UniqueConstraint(
                fields=["task"], condition=models.Q(status="production"), name="modelversion_one_production_per_task"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task} v{self.version} ({self.backend})"


class Promotion(models.Model):
    """History of production changes: answers "which version was live at time T"."""

    class Action(models.TextChoices):
        PROMOTE = "promote", _("Promote")
        ROLLBACK = "rollback", _("Roll back")

    task = models.CharField(_("task"), max_length=TASK_MAX_LENGTH, choices=Task.choices)
    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="promotions")
    previous = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    at = models.DateTimeField(_("time"), db_index=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.CharField(_("reason"), max_length=255, blank=True)

    class Meta:
        ordering = ["-at"]
        verbose_name = _("promotion")
        verbose_name_plural = _("promotion history")
        indexes = [models.Index(fields=["task", "at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.model_version}"
