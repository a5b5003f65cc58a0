from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .kinds import job_kind_choices


class Job(models.Model):
    """One batch of work; its ``kind`` is one registered by an app (``apps.jobs.kinds``)."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    kind = models.CharField(_("kind"), max_length=16, choices=job_kind_choices)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=128, null=True, blank=True, unique=True)
    total = models.PositiveIntegerField(_("total"), default=0)
    done = models.PositiveIntegerField(_("done"), default=0)
    failed = models.PositiveIntegerField(_("failed"), default=0)
    result = models.JSONField(_("result"), default=dict, blank=True)
    steps = models.JSONField(_("steps"), default=list, blank=True)
    error = models.TextField(_("error"), blank=True)
    task_id = models.CharField(
        _("task id"), max_length=64, blank=True,
        help_text=_("The Celery message that started the job; a copy with another id does not run it again."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    dispatched_at = models.DateTimeField(
        _("dispatched"), null=True, blank=True,
        help_text=_("When the broker took the job's message; empty: not sent yet (the watchdog sends it)."),
    )
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("job")
        verbose_name_plural = _("jobs")

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.status}"

    @property
    def progress(self) -> float:
        return round(100.0 * (self.done + self.failed) / self.total, 1) if self.total else 0.0


class JobChunk(models.Model):
    """One slice of a batch job, planned up front by the orchestrator.

    The conditional ``pending -> done`` update on this row is the guard that makes
    progress counting idempotent: a redelivered chunk upserts its predictions again
    (harmless) but counts them only once.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped")

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField(_("index"))
    conversation_ids = models.JSONField(_("conversation ids"), default=list)
    n = models.PositiveIntegerField(_("size"), default=0)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.PENDING)
    done = models.PositiveIntegerField(_("done"), default=0)
    failed = models.PositiveIntegerField(_("failed"), default=0)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    error = models.TextField(_("error"), blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["job_id", "index"]
        verbose_name = _("job chunk")
        verbose_name_plural = _("job chunks")
        constraints = [models.UniqueConstraint(fields=["job", "index"], name="jobchunk_job_index_unique")]

    def __str__(self) -> str:
        return f"job {self.job_id} chunk {self.index} ({self.state})"
