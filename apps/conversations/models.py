from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.labels import Channel, Sentiment


class Conversation(models.Model):
    """One customer contact, as the CRM sent it (text already PII-masked)."""

    external_id = models.CharField(_("external id"), max_length=64, unique=True)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="conversations", verbose_name=_("customer")
    )
    agent = models.ForeignKey(
        "agents.Agent", null=True, blank=True, on_delete=models.PROTECT, related_name="conversations",
        verbose_name=_("agent"),
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, default=Channel.WEB)
    language = models.CharField(_("language"), max_length=8, default="zh")
    started_at = models.DateTimeField(_("started"))
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    resolved = models.BooleanField(_("resolved"), null=True, blank=True)
    csat = models.PositiveSmallIntegerField(_("CSAT"), null=True, blank=True)
    # Ground-truth labels the CRM may send (imported labels; reviewed labels live on ReviewItem).
    label_intent = models.CharField(_("intent (CRM label)"), max_length=64, blank=True)
    label_sentiment = models.CharField(
        _("sentiment (CRM label)"), max_length=16, choices=Sentiment.choices, blank=True
    )
    label_quality = models.FloatField(_("quality (CRM label)"), null=True, blank=True)
    # Derived on ingest from the messages, for scoring without joins.
    customer_text = models.TextField(_("customer text (masked)"), blank=True)
    n_messages = models.PositiveIntegerField(_("messages"), default=0)
    features = models.JSONField(_("conversation features"), default=dict, blank=True)
    content_hash = models.CharField(max_length=64, blank=True, editable=False)
    # The newest prediction of the production models, denormalised for reports.
    prediction = models.ForeignKey(
        "scoring.Prediction", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("latest prediction"),
    )
    predicted_intent = models.CharField(_("predicted intent"), max_length=64, blank=True, db_index=True)
    predicted_sentiment = models.CharField(
        _("predicted sentiment"), max_length=16, choices=Sentiment.choices, blank=True
    )
    predicted_quality = models.FloatField(_("predicted quality"), null=True, blank=True)
    uncertain = models.BooleanField(_("uncertain"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        indexes = [
            models.Index(fields=["agent", "started_at"], name="conv_agent_started"),
            models.Index(fields=["channel", "started_at"], name="conv_channel_started"),
            models.Index(fields=["started_at", "id"], name="conv_started"),
            models.Index(fields=["customer", "started_at"], name="conv_customer_started"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(csat__isnull=True) | models.Q(csat__gte=1, csat__lte=5), name="conv_csat_1_5"
            ),
            models.CheckConstraint(
                condition=models.Q(label_quality__isnull=True) | models.Q(label_quality__gte=1, label_quality__lte=5),
                name="conv_label_quality_1_5",
            ),
            models.CheckConstraint(
                condition=models.Q(predicted_quality__isnull=True)
                | models.Q(predicted_quality__gte=1, predicted_quality__lte=5),
                name="conv_predicted_quality_1_5",
            ),
        ]

    def __str__(self) -> str:
        return self.external_id


class Message(models.Model):
    class Speaker(models.TextChoices):
        CUSTOMER = "customer", _("Customer")
        AGENT = "agent", _("Agent")
        SYSTEM = "system", _("System")

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    seq = models.PositiveIntegerField(_("sequence"))
    speaker = models.CharField(_("speaker"), max_length=16, choices=Speaker.choices)
    text = models.TextField(_("text (masked)"))
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        ordering = ["conversation_id", "seq"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        constraints = [models.UniqueConstraint(fields=["conversation", "seq"], name="message_conv_seq_unique")]

    def __str__(self) -> str:
        return f"{self.conversation_id}#{self.seq} {self.speaker}"
