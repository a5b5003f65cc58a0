"""Scorecards (versioned), QA results with evidence, reviews, disputes, sampling and calibration."""
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Scale(models.TextChoices):
    YES_NO = "yes_no", _("Yes / no / not applicable")
    ONE_TO_FIVE = "one_to_five", _("1 to 5")


class Answer(models.TextChoices):
    YES = "yes", _("Yes")
    NO = "no", _("No")
    NA = "na", _("Not applicable")
    ONE = "1", "1"
    TWO = "2", "2"
    THREE = "3", "3"
    FOUR = "4", "4"
    FIVE = "5", "5"


class Scorecard(models.Model):
    """A named scorecard; its content lives in versions. One scorecard at a time is active."""

    name = models.CharField(_("name"), max_length=128, unique=True)
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(
        _("active"), default=False, help_text=_("The nightly assessment evaluates the active scorecard's published version.")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("scorecard")
        verbose_name_plural = _("scorecards")
        constraints = [
            models.UniqueConstraint(fields=["is_active"], condition=models.Q(is_active=True), name="scorecard_one_active")
        ]

    def __str__(self) -> str:
        return self.name


class ScorecardVersion(models.Model):
    """The content of a scorecard at one point. A published version is never edited."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        RETIRED = "retired", _("Retired")

    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    pass_threshold = models.FloatField(
        _("low-score threshold"), default=70.0, help_text=_("A score below this (0-100) flags the conversation.")
    )
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["scorecard_id", "-number"]
        verbose_name = _("scorecard version")
        verbose_name_plural = _("scorecard versions")
        constraints = [
            models.UniqueConstraint(fields=["scorecard", "number"], name="scorecardversion_number_unique"),
            models.UniqueConstraint(
                fields=["scorecard"], condition=models.Q(status="published"), name="scorecardversion_one_published"
            ),
            models.CheckConstraint(
                condition=models.Q(pass_threshold__gte=0, pass_threshold__lte=100), name="scorecardversion_threshold_0_100"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scorecard} v{self.number} ({self.get_status_display()})"

    @property
    def editable(self) -> bool:
        return self.status == self.Status.DRAFT


class Section(models.Model):
    version = models.ForeignKey(ScorecardVersion, on_delete=models.CASCADE, related_name="sections")
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    title_zh = models.CharField(_("title (Chinese)"), max_length=128)
    title_en = models.CharField(_("title (English)"), max_length=128)

    class Meta:
        ordering = ["version_id", "order", "id"]
        verbose_name = _("section")
        verbose_name_plural = _("sections")

    def __str__(self) -> str:
        return self.title_en


class Criterion(models.Model):
    class AnsweredBy(models.TextChoices):
        RULE = "rule", _("Rule")
        MODEL = "model", _("Learned model")
        REVIEWER = "reviewer", _("Reviewer only")

    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="criteria")
    key = models.SlugField(
        _("key"), max_length=64, help_text=_("Stable name of the criterion across versions (reports and learned models use it).")
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    question_zh = models.CharField(_("question (Chinese)"), max_length=255)
    question_en = models.CharField(_("question (English)"), max_length=255)
    scale = models.CharField(_("scale"), max_length=16, choices=Scale.choices, default=Scale.YES_NO)
    points = models.FloatField(_("points"), default=1.0)
    auto_fail = models.BooleanField(_("auto-fail"), default=False, help_text=_("A 'no' sets the conversation's score to 0."))
    applies_intents = models.JSONField(_("applies to intents"), default=list, blank=True)
    applies_channels = models.JSONField(_("applies to channels"), default=list, blank=True)
    applies_languages = models.JSONField(_("applies to languages"), default=list, blank=True)
    answered_by = models.CharField(_("answered by"), max_length=16, choices=AnsweredBy.choices, default=AnsweredBy.RULE)
    rule = models.JSONField(_("rule"), default=dict, blank=True)
    model_version = models.ForeignKey(
        "registry.ModelVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("learned model"),
    )

    class Meta:
        ordering = ["section__order", "order", "id"]
        verbose_name = _("criterion")
        verbose_name_plural = _("criteria")
        constraints = [
            models.CheckConstraint(condition=models.Q(points__gte=0), name="criterion_points_nonnegative"),
        ]

    def __str__(self) -> str:
        return self.key


class QaResult(models.Model):
    conversation = models.ForeignKey("conversations.Conversation", on_delete=models.CASCADE, related_name="qa_results")
    scorecard_version = models.ForeignKey(ScorecardVersion, on_delete=models.PROTECT, related_name="results")
    score = models.FloatField(_("score"), null=True, blank=True)
    auto_failed = models.BooleanField(_("auto-failed"), default=False)
    reason = models.TextField(_("reason"), blank=True)
    computed_at = models.DateTimeField(_("computed"))
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)

    class Meta:
        ordering = ["-computed_at", "-id"]
        verbose_name = _("QA result")
        verbose_name_plural = _("QA results")
        constraints = [
            models.UniqueConstraint(fields=["conversation", "scorecard_version"], name="qaresult_conv_version_unique"),
            models.CheckConstraint(
                condition=models.Q(score__isnull=True) | models.Q(score__gte=0, score__lte=100), name="qaresult_score_0_100"
            ),
        ]
        indexes = [models.Index(fields=["scorecard_version", "auto_failed"], name="qaresult_version_fail")]

    def __str__(self) -> str:
        return f"{self.conversation_id} @ {self.scorecard_version_id}: {self.score}"


class CriterionAnswer(models.Model):
    class Source(models.TextChoices):
        AUTO = "auto", _("Automatic")
        REVIEWER = "reviewer", _("Reviewer")

    result = models.ForeignKey(QaResult, on_delete=models.CASCADE, related_name="answers")
    criterion = models.ForeignKey(Criterion, on_delete=models.PROTECT, related_name="answers")
    answer = models.CharField(_("answer"), max_length=8, choices=Answer.choices, blank=True)
    auto_answer = models.CharField(_("automatic answer"), max_length=8, choices=Answer.choices, blank=True)
    evidence = models.JSONField(_("evidence"), default=list, blank=True)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices, default=Source.AUTO)
    overridden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    comment = models.TextField(_("comment"), blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["result_id", "criterion__section__order", "criterion__order", "criterion_id"]
        verbose_name = _("criterion answer")
        verbose_name_plural = _("criterion answers")
        constraints = [models.UniqueConstraint(fields=["result", "criterion"], name="criterionanswer_unique")]

    def __str__(self) -> str:
        return f"{self.result_id}/{self.criterion_id}={self.answer}"


class Dispute(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")

    answer = models.ForeignKey(CriterionAnswer, on_delete=models.CASCADE, related_name="disputes")
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    comment = models.TextField(_("comment"))
    proposed_answer = models.CharField(_("proposed answer"), max_length=8, choices=Answer.choices)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN, db_index=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolution = models.TextField(_("resolution"), blank=True)
    created_at = models.DateTimeField(_("opened"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("dispute")
        verbose_name_plural = _("disputes")
        constraints = [
            models.UniqueConstraint(fields=["answer"], condition=models.Q(status="open"), name="dispute_one_open_per_answer")
        ]

    def __str__(self) -> str:
        return f"dispute {self.pk} ({self.status})"


class SamplingRule(models.Model):
    """Which conversations reviewers are asked to grade."""

    class Kind(models.TextChoices):
        RANDOM_PER_AGENT = "random_per_agent", _("Random conversations per agent per period")
        AUTO_FAIL = "auto_fail", _("Every auto-fail")
        SCORE_BELOW = "score_below", _("Every score below a threshold")

    name = models.CharField(_("name"), max_length=128)
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    count = models.PositiveIntegerField(_("count"), default=5)
    period_days = models.PositiveIntegerField(_("period (days)"), default=7)
    threshold = models.FloatField(_("score threshold"), null=True, blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("reviewer"),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("sampling rule")
        verbose_name_plural = _("sampling rules")

    def __str__(self) -> str:
        return self.name


class Assignment(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")

    conversation = models.ForeignKey("conversations.Conversation", on_delete=models.CASCADE, related_name="qa_assignments")
    result = models.ForeignKey(QaResult, null=True, blank=True, on_delete=models.SET_NULL, related_name="assignments")
    sampling_rule = models.ForeignKey(SamplingRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="assignments")
    reason = models.CharField(_("reason"), max_length=24)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="qa_assignments"
    )
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.OPEN, db_index=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    class Meta:
        ordering = ["status", "-created_at"]
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        constraints = [models.UniqueConstraint(fields=["conversation", "reason"], name="assignment_conv_reason_unique")]

    def __str__(self) -> str:
        return f"{self.conversation_id} ({self.reason})"


class CalibrationSession(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    name = models.CharField(_("name"), max_length=128)
    scorecard_version = models.ForeignKey(ScorecardVersion, on_delete=models.PROTECT, related_name="calibrations")
    conversations = models.ManyToManyField("conversations.Conversation", related_name="+")
    reviewers = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="qa_calibrations")
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.OPEN)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("calibration session")
        verbose_name_plural = _("calibration sessions")

    def __str__(self) -> str:
        return self.name


class CalibrationGrade(models.Model):
    """One reviewer's blind answer to one criterion on one conversation of a session."""

    session = models.ForeignKey(CalibrationSession, on_delete=models.CASCADE, related_name="grades")
    conversation = models.ForeignKey("conversations.Conversation", on_delete=models.CASCADE, related_name="+")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    criterion = models.ForeignKey(Criterion, on_delete=models.CASCADE, related_name="+")
    answer = models.CharField(_("answer"), max_length=8, choices=Answer.choices)

    class Meta:
        verbose_name = _("calibration grade")
        verbose_name_plural = _("calibration grades")
        constraints = [
            models.UniqueConstraint(
                fields=["session", "conversation", "reviewer", "criterion"], name="calibrationgrade_unique"
            )
        ]


class QaDailyAgent(models.Model):
    """QA aggregated per agent and day (team rows are sums of these)."""

    date = models.DateField(_("date"))
    agent = models.ForeignKey("agents.Agent", on_delete=models.CASCADE, related_name="+")
    team = models.CharField(_("team"), max_length=64, blank=True, db_index=True)
    scorecard_version = models.ForeignKey(ScorecardVersion, on_delete=models.CASCADE, related_name="+")
    n = models.PositiveIntegerField(_("conversations"), default=0)
    score_sum = models.FloatField(_("score sum"), default=0.0)
    avg_score = models.FloatField(_("average score"), null=True, blank=True)
    auto_fails = models.PositiveIntegerField(_("auto-fails"), default=0)
    criterion_pass = models.JSONField(
        _("pass rate per criterion"), default=dict, blank=True, help_text=_("{key: [passed, answered]}")
    )

    class Meta:
        ordering = ["-date", "agent_id"]
        verbose_name = _("daily QA per agent")
        verbose_name_plural = _("daily QA per agent")
        constraints = [
            models.UniqueConstraint(fields=["date", "agent", "scorecard_version"], name="qadailyagent_unique")
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.agent_id}: {self.avg_score}"
