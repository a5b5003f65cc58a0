"""Admin for QA: scorecards and their versions (a published version is read-only), results,
disputes, sampling rules and calibration sessions. Writes go through the services."""
from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from apps.core.exceptions import ApplicationError

from . import services
from .learned import learned_model_summary, learned_summary_text
from .models import (
    Assignment,
    CalibrationSession,
    Criterion,
    CriterionAnswer,
    Dispute,
    QaDailyAgent,
    QaResult,
    SamplingRule,
    Scorecard,
    ScorecardVersion,
    Section,
)


class VersionInline(admin.TabularInline):
    model = ScorecardVersion
    fields = ["number", "status", "pass_threshold", "published_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Scorecard)
class ScorecardAdmin(admin.ModelAdmin):
    list_display = ["name", "is_active", "created_at"]
    readonly_fields = ["is_active", "created_by", "created_at"]
    inlines = [VersionInline]
    actions = ["new_draft"]

    @admin.action(description=_("Create a draft version (copy of the newest)"), permissions=["change"])
    def new_draft(self, request, queryset):
        for scorecard in queryset:
            draft = services.scorecard_draft_create(scorecard=scorecard, actor=request.user)
            self.message_user(request, _("Draft version %(n)d of %(s)s.") % {"n": draft.number, "s": scorecard}, messages.SUCCESS)


class SectionInline(admin.TabularInline):
    model = Section
    fields = ["order", "title_zh", "title_en"]
    extra = 0
    show_change_link = True


class CriterionForm(forms.ModelForm):
    """Checks a criterion, its rule included, with the same service the API uses."""

    class Meta:
        model = Criterion
        fields = "__all__"

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        data = {k: cleaned.get(k) for k in (
            "key", "question_zh", "question_en", "scale", "points", "auto_fail", "answered_by", "rule",
            "applies_intents", "applies_channels", "applies_languages")}
        try:
            services.criterion_validate(data, field_name="criterion")
        except ApplicationError as exc:
            raise forms.ValidationError(f"{exc.message} {exc.extra}") from exc
        return cleaned


class CriterionInline(admin.StackedInline):
    model = Criterion
    form = CriterionForm
    extra = 0
    fields = ["key", "order", "question_zh", "question_en", "scale", "points", "auto_fail", "answered_by", "rule",
              "applies_intents", "applies_channels", "applies_languages", "model_version", "learned_model"]
    readonly_fields = ["learned_model"]
    raw_id_fields = ["model_version"]

    @admin.display(description=_("learned model: agreement with reviewers"))
    def learned_model(self, obj):
        if obj is None or not obj.key:
            return "—"
        return learned_summary_text(learned_model_summary(key=obj.key))


def _draft_only(obj) -> bool:
    version = obj if isinstance(obj, ScorecardVersion) else getattr(obj, "version", None)
    return version is None or version.status == ScorecardVersion.Status.DRAFT


@admin.register(ScorecardVersion)
class ScorecardVersionAdmin(admin.ModelAdmin):
    list_display = ["scorecard", "number", "status", "pass_threshold", "published_at"]
    list_filter = ["status", "scorecard"]
    readonly_fields = ["scorecard", "number", "status", "published_at", "published_by"]
    inlines = [SectionInline]
    actions = ["publish"]

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (obj is None or _draft_only(obj))

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Publish (and activate) the selected drafts"), permissions=["change"])
    def publish(self, request, queryset):
        for version in queryset:
            try:
                services.scorecard_version_publish(version=version, actor=request.user)
                self.message_user(request, _("Published %(v)s.") % {"v": version}, messages.SUCCESS)
            except ApplicationError as exc:
                self.message_user(request, f"{version}: {exc.message} {exc.extra}", messages.ERROR)


@admin.register(Section)
class SectionAdmin(admin.ModelAdmin):
    list_display = ["title_en", "title_zh", "version", "order"]
    inlines = [CriterionInline]

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (obj is None or _draft_only(obj))

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (obj is None or _draft_only(obj))


class AnswerInline(admin.TabularInline):
    model = CriterionAnswer
    fields = ["criterion", "answer", "auto_answer", "source", "evidence", "overridden_by", "comment"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(QaResult)
class QaResultAdmin(admin.ModelAdmin):
    list_display = ["conversation", "scorecard_version", "score", "auto_failed", "computed_at", "reviewed_by"]
    list_filter = ["auto_failed", "scorecard_version"]
    search_fields = ["=conversation__external_id"]
    raw_id_fields = ["conversation"]
    readonly_fields = ["conversation", "scorecard_version", "score", "auto_failed", "reason", "computed_at",
                       "reviewed_by", "reviewed_at"]
    inlines = [AnswerInline]

    def has_add_permission(self, request):
        return False


@admin.register(Dispute)
class DisputeAdmin(admin.ModelAdmin):
    list_display = ["pk", "answer", "status", "opened_by", "created_at", "resolved_by", "resolved_at"]
    list_filter = ["status"]
    readonly_fields = ["answer", "opened_by", "comment", "proposed_answer", "status", "resolved_by", "resolution",
                       "created_at", "resolved_at"]

    def has_add_permission(self, request):
        return False


@admin.register(SamplingRule)
class SamplingRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "count", "period_days", "threshold", "reviewer", "active"]
    list_filter = ["kind", "active"]
    raw_id_fields = ["reviewer"]


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ["conversation", "reason", "reviewer", "status", "created_at", "completed_at"]
    list_filter = ["status", "reason"]
    raw_id_fields = ["conversation", "result", "reviewer"]


@admin.register(CalibrationSession)
class CalibrationSessionAdmin(admin.ModelAdmin):
    list_display = ["name", "scorecard_version", "status", "created_at"]
    raw_id_fields = ["conversations"]
    filter_horizontal = ["reviewers"]


@admin.register(QaDailyAgent)
class QaDailyAgentAdmin(admin.ModelAdmin):
    list_display = ["date", "agent", "team", "n", "avg_score", "auto_fails"]
    list_filter = ["team", "date"]
    readonly_fields = [f.name for f in QaDailyAgent._meta.fields]

    def has_add_permission(self, request):
        return False
