from django.utils.translation import gettext as _
from rest_framework import serializers

from apps.core.dates import query_window
from apps.core.exceptions import RULE
from apps.core.fields import IdentifierField, UtcDateTimeField
from apps.core.serializers import InputSerializer

from .models import Job


class ScoreJobInputSerializer(InputSerializer):
    since = UtcDateTimeField(window=query_window, required=False,
                             help_text="Conversations started at or after this time.")
    until = UtcDateTimeField(window=query_window, required=False,
                             help_text="Conversations started before this time.")
    agent = IdentifierField(required=False, help_text="Agent external id.")
    conversations = serializers.ListField(
        child=IdentifierField(), required=False, max_length=100000,
        help_text="Conversation external ids.",
    )
    all = serializers.BooleanField(required=False, default=False, help_text="Score every conversation.")
    unscored = serializers.BooleanField(
        required=False, default=False, help_text="Only conversations the production versions have not scored.")
    chunk_size = serializers.IntegerField(required=False, min_value=1, max_value=10000)
    idempotency_key = serializers.CharField(required=False, max_length=128,
                                            help_text="Same key → same job (the header Idempotency-Key also works).")

    def validate(self, attrs):
        if not any(attrs.get(key) for key in ("since", "until", "agent", "conversations", "all", "unscored")):
            raise serializers.ValidationError(
                {"non_field_errors": _("Say what to score: a date range (since/until), an agent, a list of "
                                       "conversations, all or unscored.")}, code=RULE)
        if attrs.get("since") and attrs.get("until") and attrs["since"] >= attrs["until"]:
            raise serializers.ValidationError({"until": _("Must be after since.")}, code=RULE)
        return attrs


class RetrainJobInputSerializer(InputSerializer):
    tasks = serializers.ListField(child=serializers.ChoiceField(choices=["intent", "sentiment", "quality"]),
                                  required=False, allow_empty=False)
    backend = serializers.CharField(required=False, max_length=32)
    shadow = serializers.BooleanField(required=False, default=False,
                                      help_text="Candidate also scores a sample; agreement is recorded.")
    idempotency_key = serializers.CharField(required=False, max_length=128)


class JobOutputSerializer(serializers.ModelSerializer):
    progress = serializers.FloatField(read_only=True, help_text="Percent of items done or failed.")
    duration = serializers.SerializerMethodField(help_text="Seconds from start to finish (or to now).")
    created_by = serializers.StringRelatedField(allow_null=True, help_text="The user who submitted it (null: an API key or the schedule).")

    class Meta:
        model = Job
        fields = ["id", "kind", "status", "params", "total", "done", "failed", "progress", "created_at",
                  "started_at", "finished_at", "duration", "error", "result", "steps", "created_by"]

    def get_duration(self, job) -> float | None:
        from django.utils import timezone

        if not job.started_at:
            return None
        return round(((job.finished_at or timezone.now()) - job.started_at).total_seconds(), 3)


class JobListOutputSerializer(JobOutputSerializer):
    class Meta(JobOutputSerializer.Meta):
        fields = [f for f in JobOutputSerializer.Meta.fields if f not in ("steps", "params", "result")]
