"""Input serializers validate what a CRM sends; output serializers render what we store."""
from rest_framework import serializers

from apps.core.exceptions import RULE
from apps.core.fields import IdentifierField, UtcDateTimeField
from apps.core.labels import CHANNEL_ALIASES, SENTIMENT_ALIASES, Channel, Sentiment
from apps.core.serializers import InputSerializer

from .models import Conversation, Message

EXTERNAL_ID = {"allow_blank": False, "trim_whitespace": True}


class AliasChoiceField(serializers.ChoiceField):
    """A choice field that also accepts the CRM's spellings (``微信`` → ``wechat``)."""

    def __init__(self, *, aliases: dict[str, str], **kwargs):
        self.aliases = aliases
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, str):
            data = self.aliases.get(data.strip(), self.aliases.get(data.strip().lower(), data.strip().lower()))
        return super().to_internal_value(data)


class MessageInSerializer(InputSerializer):
    seq = serializers.IntegerField(min_value=0, max_value=100_000, required=False)
    speaker = serializers.ChoiceField(choices=Message.Speaker.choices)
    text = serializers.CharField(max_length=20_000, trim_whitespace=True)
    sent_at = UtcDateTimeField(required=False, allow_null=True)


class ConversationInSerializer(InputSerializer):
    external_id = IdentifierField(**EXTERNAL_ID)
    customer = IdentifierField(help_text="The customer's external id (created if unknown).", **EXTERNAL_ID)
    agent = IdentifierField(
        required=False, allow_null=True, help_text="The agent's external id (created if unknown).",
        allow_blank=True,
    )
    channel = AliasChoiceField(choices=Channel.choices, aliases=CHANNEL_ALIASES, required=False, default=Channel.WEB)
    language = serializers.CharField(max_length=8, required=False, default="zh")
    started_at = UtcDateTimeField()
    ended_at = UtcDateTimeField(required=False, allow_null=True)
    resolved = serializers.BooleanField(required=False, allow_null=True, default=None)
    csat = serializers.IntegerField(min_value=1, max_value=5, required=False, allow_null=True)
    label_intent = serializers.CharField(max_length=64, required=False, allow_blank=True)
    label_sentiment = AliasChoiceField(
        choices=Sentiment.choices, aliases=SENTIMENT_ALIASES, required=False, allow_blank=True
    )
    label_quality = serializers.FloatField(min_value=1, max_value=5, required=False, allow_null=True)
    messages = MessageInSerializer(many=True, min_length=1, max_length=1000)

    def validate(self, attrs):
        if attrs.get("ended_at") and attrs.get("started_at") and attrs["ended_at"] < attrs["started_at"]:
            raise serializers.ValidationError({"ended_at": "ended_at is before started_at."}, code=RULE)
        messages = attrs.get("messages", [])
        seqs = [m["seq"] for m in messages if m.get("seq") is not None]
        if len(seqs) != len(set(seqs)):
            raise serializers.ValidationError({"messages": "Message sequence numbers must be unique."}, code=RULE)
        if seqs and len(seqs) != len(messages):  # a missing seq is the message's position, which may collide
            raise serializers.ValidationError({"messages": "Give a seq for every message or for none."}, code=RULE)
        return attrs


class UpsertResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()


class MessageOutSerializer(serializers.ModelSerializer):
    class Meta:
        model = Message
        fields = ["seq", "speaker", "text", "sent_at"]


class ConversationOutSerializer(serializers.ModelSerializer):
    customer = serializers.CharField(source="customer.external_id")
    agent = serializers.CharField(source="agent.external_id", allow_null=True, default=None)
    messages = MessageOutSerializer(many=True, read_only=True)

    class Meta:
        model = Conversation
        fields = [
            "id", "external_id", "customer", "agent", "channel", "language", "started_at", "ended_at", "resolved",
            "csat", "label_intent", "label_sentiment", "label_quality", "predicted_intent", "predicted_sentiment",
            "predicted_quality", "uncertain", "n_messages", "messages", "created_at", "updated_at",
        ]
