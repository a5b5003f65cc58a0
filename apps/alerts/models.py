from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class Metric(models.TextChoices):
    MEAN_QUALITY = "mean_quality", _("Mean predicted quality (1–5)")
    QA_SCORE = "qa_score", _("Mean QA score (0–100)")
    AUTO_FAILS = "auto_fails", _("QA auto-fails (count)")
    NEGATIVE_SHARE = "negative_share", _("Negative-sentiment share (0–1)")
    RESOLUTION_RATE = "resolution_rate", _("Resolution rate (0–1)")
    MEAN_CSAT = "mean_csat", _("Mean CSAT (1–5)")
    FIRST_RESPONSE = "first_response_s", _("First response time (seconds)")
    HANDLE_TIME = "handle_time_s", _("Average handle time (seconds)")
    MODEL_AGREEMENT = "model_agreement", _("Model agreement with reviewers, intent accuracy (0–1)")


class Scope(models.TextChoices):
    AGENT = "agent", _("Each agent")
    TEAM = "team", _("Each team")
    ALL = "all", _("The whole contact centre")


class Comparison(models.TextChoices):
    BELOW = "below", _("below")
    ABOVE = "above", _("above")


class AlertRule(models.Model):
    """A threshold on one metric over a rolling window, checked after every nightly assessment."""

    name = models.CharField(_("name"), max_length=120)
    metric = models.CharField(_("metric"), max_length=32, choices=Metric.choices)
    scope = models.CharField(_("scope"), max_length=8, choices=Scope.choices, default=Scope.AGENT)
    team = models.CharField(_("only team"), max_length=64, blank=True,
                            help_text=_("Limit the rule to one team; empty for every team."))
    window_days = models.PositiveSmallIntegerField(
        _("window (days)"), default=7, validators=[MinValueValidator(1), MaxValueValidator(90)],
        help_text=_("The days up to and including the assessed day."),
    )
    comparison = models.CharField(_("comparison"), max_length=8, choices=Comparison.choices, default=Comparison.BELOW)
    threshold = models.FloatField(_("threshold"))
    min_volume = models.PositiveIntegerField(
        _("minimum conversations"), default=5,
        help_text=_("Subjects with fewer conversations (or reviews, QA results) in the window are not judged."),
    )
    email_to = models.TextField(
        _("e-mail to"), blank=True,
        help_text=_("Addresses separated by commas or new lines; the leads of the subject's team are added."),
    )
    send_webhook = models.BooleanField(_("send webhook event"), default=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("alert rule")
        verbose_name_plural = _("alert rules")
        constraints = [
            models.CheckConstraint(condition=models.Q(window_days__gte=1, window_days__lte=90),
                                   name="alertrule_window_1_90"),
        ]

    def __str__(self) -> str:
        return self.name


class Alert(models.Model):
    """One subject (agent, team or the whole centre) past a rule's threshold on one assessed day."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="alerts", verbose_name=_("rule"))
    date = models.DateField(_("assessed day"), db_index=True)
    subject_key = models.CharField(_("subject"), max_length=64, help_text=_("Agent id, team name, or 'all'."))
    subject_label = models.CharField(_("subject name"), max_length=160)
    team = models.CharField(_("team"), max_length=64, blank=True)
    metric = models.CharField(_("metric"), max_length=32, choices=Metric.choices)
    value = models.FloatField(_("value"))
    threshold = models.FloatField(_("threshold"))
    comparison = models.CharField(_("comparison"), max_length=8, choices=Comparison.choices)
    n = models.PositiveIntegerField(_("volume"), default=0)
    window_start = models.DateField(_("window start"))
    window_end = models.DateField(_("window end"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN, db_index=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="+", verbose_name=_("acknowledged by"))
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    emailed_to = models.TextField(_("e-mailed to"), blank=True)
    emailed_at = models.DateTimeField(_("e-mailed"), null=True, blank=True)
    webhook_deliveries = models.PositiveIntegerField(_("webhook deliveries"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        constraints = [
            models.UniqueConstraint(fields=["rule", "date", "subject_key"], name="alert_rule_date_subject_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.rule}: {self.subject_label} {self.value:g}"


class TeamReport(models.Model):
    """A weekly e-mail with one team's figures and worst QA criteria; sent by the beat entry
    ``weekly team reports`` (its day and hour are edited in the admin's periodic tasks)."""

    team = models.CharField(_("team"), max_length=64, unique=True)
    recipients = models.TextField(
        _("extra recipients"), blank=True,
        help_text=_("Addresses separated by commas or new lines; the team's leads always receive it."),
    )
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default="zh-hans")
    active = models.BooleanField(_("active"), default=True)
    last_sent_at = models.DateTimeField(_("last sent"), null=True, blank=True)
    last_sent_to = models.TextField(_("last sent to"), blank=True)

    class Meta:
        ordering = ["team"]
        verbose_name = _("weekly team report")
        verbose_name_plural = _("weekly team reports")

    def __str__(self) -> str:
        return self.team
