from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.labels import Sentiment


class Prediction(models.Model):
    """What one set of model versions said about one conversation."""

    conversation = models.ForeignKey(
        "conversations.Conversation", on_delete=models.CASCADE, related_name="predictions"
    )
    # "intent:3|sentiment:4|quality:2": unique with the conversation, so replays upsert.
    version_key = models.CharField(_("model versions"), max_length=100)
    intent_version = models.ForeignKey(
        "registry.ModelVersion", null=True, on_delete=models.PROTECT, related_name="+"
    )
    sentiment_version = models.ForeignKey(
        "registry.ModelVersion", null=True, on_delete=models.PROTECT, related_name="+"
    )
    quality_version = models.ForeignKey(
        "registry.ModelVersion", null=True, on_delete=models.PROTECT, related_name="+"
    )
    intent = models.CharField(_("intent"), max_length=64, blank=True)
    intent_confidence = models.FloatField(_("intent confidence"), null=True)
    intent_top = models.JSONField(_("top intents"), default=list, blank=True)
    sentiment = models.CharField(_("sentiment"), max_length=16, choices=Sentiment.choices, blank=True)
    sentiment_confidence = models.FloatField(_("sentiment confidence"), null=True)
    sentiment_scores = models.JSONField(_("sentiment scores"), default=dict, blank=True)
    quality_score = models.FloatField(_("quality score"), null=True)
    uncertain = models.BooleanField(_("uncertain"), default=False)
    flags = models.JSONField(_("flags"), default=list, blank=True)
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    scored_at = models.DateTimeField(_("scored"), db_index=True)

    class Meta:
        ordering = ["-scored_at"]
        verbose_name = _("prediction")
        verbose_name_plural = _("predictions")
        constraints = [
            models.UniqueConstraint(fields=["conversation", "version_key"], name="prediction_conv_versions_unique"),
            models.CheckConstraint(
                condition=models.Q(quality_score__isnull=True) | models.Q(quality_score__gte=1, quality_score__lte=5),
                name="prediction_quality_1_5",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.conversation_id} {self.intent}/{self.sentiment}/{self.quality_score}"


class ReviewItem(models.Model):
    """A conversation in the review queue, and the manager's verdict once reviewed."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        REVIEWED = "reviewed", _("Reviewed")
        SKIPPED = "skipped", _("Skipped")

    conversation = models.OneToOneField(
        "conversations.Conversation", on_delete=models.CASCADE, related_name="review"
    )
    prediction = models.ForeignKey(Prediction, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reasons = models.JSONField(_("reasons"), default=list, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    intent = models.CharField(_("reviewed intent"), max_length=64, blank=True)
    sentiment = models.CharField(_("reviewed sentiment"), max_length=16, choices=Sentiment.choices, blank=True)
    quality = models.FloatField(_("reviewed quality"), null=True, blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("flagged"), auto_now_add=True, db_index=True)
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("review item")
        verbose_name_plural = _("review queue")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quality__isnull=True) | models.Q(quality__gte=1, quality__lte=5),
                name="review_quality_1_5",
            )
        ]

    def __str__(self) -> str:
        return f"{self.conversation} ({self.status})"


class AgentDailyQuality(models.Model):
    agent = models.ForeignKey("agents.Agent", on_delete=models.CASCADE, related_name="daily_quality")
    date = models.DateField(_("date"))
    volume = models.PositiveIntegerField(_("volume"), default=0)
    mean_quality = models.FloatField(_("mean quality"), null=True)
    negative_share = models.FloatField(_("negative-sentiment share"), default=0.0)
    resolution_rate = models.FloatField(_("resolution rate"), null=True)
    flagged_count = models.PositiveIntegerField(_("flagged"), default=0)
    computed_at = models.DateTimeField(_("computed"), auto_now=True)

    class Meta:
        ordering = ["-date", "agent_id"]
        verbose_name = _("agent daily quality")
        verbose_name_plural = _("agent daily quality")
        constraints = [models.UniqueConstraint(fields=["agent", "date"], name="agentdaily_agent_date_unique")]
        indexes = [models.Index(fields=["date"])]

    def __str__(self) -> str:
        return f"{self.agent} {self.date}"


class AssessmentRun(models.Model):
    """Database guard: one nightly assessment per date, however many beats fire."""

    date = models.DateField(_("date"), unique=True)
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-date"]
        verbose_name = _("assessment run")
        verbose_name_plural = _("assessment runs")

    def __str__(self) -> str:
        return str(self.date)


class SuggestionRule(models.Model):
    intent = models.CharField(_("intent"), max_length=64, blank=True, help_text=_("blank = any intent"))
    sentiment = models.CharField(_("sentiment"), max_length=16, choices=Sentiment.choices, blank=True)
    min_quality = models.FloatField(_("minimum quality"), null=True, blank=True)
    max_quality = models.FloatField(_("maximum quality"), null=True, blank=True)
    text_zh = models.CharField(_("text (Chinese)"), max_length=255)
    text_en = models.CharField(_("text (English)"), max_length=255)
    priority = models.IntegerField(_("priority"), default=100, help_text=_("lower comes first"))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["priority", "id"]
        verbose_name = _("suggestion rule")
        verbose_name_plural = _("suggestion rules")

    def __str__(self) -> str:
        return self.text_zh
