from django.utils.translation import gettext as _
from rest_framework import serializers

from apps.core.dates import query_window
from apps.core.exceptions import RULE, ApplicationError, Unprocessable
from apps.core.fields import UtcDateTimeField
from apps.core.serializers import InputSerializer

from .models import CriterionAnswer, Dispute, QaResult, Scorecard, ScorecardVersion
from .rules import rule_compile
from .services import version_content

MAX_ID = 2**63 - 1


def rule_check(rule: dict, *, field_name: str = "rule") -> None:
    """The rule engine's verdict on a rule (an object the schema cannot describe further): 422."""
    try:
        rule_compile(rule, field_name=field_name)
    except ApplicationError as exc:
        raise Unprocessable(exc.message, exc.extra) from exc


def sections_rules_check(sections: list[dict]) -> None:
    """``rule_check`` on every rule-answered criterion, naming it ``sections.<i>.criteria.<j>.rule``."""
    for i, section in enumerate(sections):
        for j, criterion in enumerate(section["criteria"]):
            if criterion.get("answered_by", "rule") == "rule":
                rule_check(criterion.get("rule", {}), field_name=f"sections.{i}.criteria.{j}.rule")


class CriterionInSerializer(InputSerializer):
    """One criterion; ``rule`` is validated by the rule engine (see docs/qa.md)."""

    key = serializers.RegexField(r"^[A-Za-z0-9_-]*[A-Za-z0-9][A-Za-z0-9_-]*$", max_length=64,
                                 help_text="Letters, digits, - and _ (e.g. greeting).")
    question_zh = serializers.CharField(max_length=255)
    question_en = serializers.CharField(max_length=255)
    scale = serializers.ChoiceField(choices=["yes_no", "one_to_five"], default="yes_no")
    points = serializers.FloatField(default=1.0)
    auto_fail = serializers.BooleanField(default=False)
    answered_by = serializers.ChoiceField(choices=["rule", "model", "reviewer"], default="rule")
    rule = serializers.DictField(required=False, default=dict)
    applies_intents = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    applies_channels = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    applies_languages = serializers.ListField(child=serializers.CharField(), required=False, default=list)


class SectionInSerializer(InputSerializer):
    title_zh = serializers.CharField(max_length=128)
    title_en = serializers.CharField(max_length=128)
    criteria = CriterionInSerializer(many=True, allow_empty=False)


class ScorecardInSerializer(InputSerializer):
    name = serializers.CharField(max_length=128)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    pass_threshold = serializers.FloatField(required=False, default=70.0)
    sections = SectionInSerializer(many=True, allow_empty=False)

    def validate_sections(self, sections):
        sections_rules_check(sections)
        return sections


class VersionUpdateInSerializer(InputSerializer):
    pass_threshold = serializers.FloatField(required=False)
    sections = SectionInSerializer(many=True, required=False, allow_empty=False)

    def validate_sections(self, sections):
        sections_rules_check(sections)
        return sections


class PublishInSerializer(InputSerializer):
    activate = serializers.BooleanField(default=True)
    rescore_since = serializers.DateTimeField(required=False, allow_null=True, default=None,
                                              help_text="Re-score the conversations started since then (a qa_score job).")


class VersionOutSerializer(serializers.ModelSerializer):
    sections = serializers.SerializerMethodField()

    class Meta:
        model = ScorecardVersion
        fields = ["id", "number", "status", "pass_threshold", "published_at", "created_at", "sections"]

    def get_sections(self, obj) -> list[dict]:
        return version_content(obj)


class ScorecardOutSerializer(serializers.ModelSerializer):
    versions = serializers.SerializerMethodField()

    class Meta:
        model = Scorecard
        fields = ["id", "name", "description", "is_active", "created_at", "versions"]

    def get_versions(self, obj) -> list[dict]:
        return list(obj.versions.order_by("-number").values("id", "number", "status", "published_at"))


class AnswerOutSerializer(serializers.ModelSerializer):
    key = serializers.CharField(source="criterion.key")
    question_zh = serializers.CharField(source="criterion.question_zh")
    question_en = serializers.CharField(source="criterion.question_en")
    scale = serializers.CharField(source="criterion.scale")
    auto_fail = serializers.BooleanField(source="criterion.auto_fail")
    evidence = serializers.JSONField(help_text='[{"condition": "1", "seq": 3, "span": [start, end]}]')

    class Meta:
        model = CriterionAnswer
        fields = ["id", "key", "question_zh", "question_en", "scale", "auto_fail", "answer", "auto_answer", "source",
                  "evidence", "comment"]


class ResultOutSerializer(serializers.ModelSerializer):
    conversation = serializers.CharField(source="conversation.external_id")
    scorecard = serializers.CharField(source="scorecard_version.scorecard.name")
    version = serializers.IntegerField(source="scorecard_version.number")
    answers = serializers.SerializerMethodField()

    class Meta:
        model = QaResult
        fields = ["id", "conversation", "scorecard", "version", "score", "auto_failed", "reason", "computed_at",
                  "reviewed_at", "answers"]

    def get_answers(self, obj) -> list[dict]:
        rows = obj.answers.select_related("criterion").order_by("criterion__section__order", "criterion__order")
        return AnswerOutSerializer(rows, many=True).data


class DisputeInSerializer(InputSerializer):
    answer = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="The criterion answer's id.")
    proposed_answer = serializers.CharField(max_length=8)
    comment = serializers.CharField(max_length=2000)


class DisputeResolveInSerializer(InputSerializer):
    accept = serializers.BooleanField()
    resolution = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class DisputeOutSerializer(serializers.ModelSerializer):
    criterion = serializers.CharField(source="answer.criterion.key")
    conversation = serializers.CharField(source="answer.result.conversation.external_id")
    result = serializers.IntegerField(source="answer.result_id")
    opened_by = serializers.CharField(source="opened_by.username")

    class Meta:
        model = Dispute
        fields = ["id", "result", "conversation", "criterion", "proposed_answer", "comment", "status", "opened_by",
                  "resolution", "created_at", "resolved_at"]


class QaScoreJobInSerializer(InputSerializer):
    """What a ``qa_score`` job scores; checked again by the job service."""

    version = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID,
                                       help_text="Scorecard version id (default: the active one).")
    since = UtcDateTimeField(window=query_window, required=False)
    until = UtcDateTimeField(window=query_window, required=False)
    conversation_ids = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
                                             required=False)
    all = serializers.BooleanField(required=False)
    chunk_size = serializers.IntegerField(required=False, min_value=1, max_value=20000)

    def validate(self, attrs):
        if not any(attrs.get(key) for key in ("since", "until", "conversation_ids", "all")):
            raise serializers.ValidationError(
                {"non_field_errors": _("Say what to score: since/until, conversation_ids or all.")}, code=RULE)
        return attrs


class RuleTryInSerializer(InputSerializer):
    rule = serializers.DictField()

    def validate_rule(self, rule):
        rule_check(rule)
        return rule
    days = serializers.IntegerField(default=7)
    sample = serializers.IntegerField(default=20)
