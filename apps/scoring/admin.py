from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from apps.conversations.admin import ConversationAdmin
from apps.conversations.models import Conversation
from apps.core.admin_mixins import DateHierarchyWindowMixin
from apps.core.exceptions import ApplicationError

from . import suggestions_admin  # noqa: F401  (registers SuggestionRule's admin)
from .models import AgentDailyQuality, AssessmentRun, Prediction, ReviewItem
from .services.assessment import assessment_rerun
from .services.suggestions import suggest


@admin.register(Prediction)
class PredictionAdmin(admin.ModelAdmin):
    list_display = ["conversation", "intent", "intent_confidence", "sentiment", "quality_score", "uncertain",
                    "version_key", "scored_at"]
    list_filter = ["uncertain", "sentiment", "version_key"]
    search_fields = ["conversation__external_id"]
    raw_id_fields = ["conversation", "job"]
    list_select_related = ["conversation"]
    readonly_fields = [f.name for f in Prediction._meta.fields]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False


@admin.register(ReviewItem)
class ReviewItemAdmin(admin.ModelAdmin):
    list_display = ["conversation", "reasons", "status", "intent", "sentiment", "quality", "reviewer", "created_at"]
    list_filter = ["status"]
    search_fields = ["conversation__external_id"]
    raw_id_fields = ["conversation", "prediction"]
    list_select_related = ["conversation", "reviewer"]


@admin.register(AgentDailyQuality)
class AgentDailyQualityAdmin(DateHierarchyWindowMixin, admin.ModelAdmin):
    list_display = ["date", "agent", "volume", "mean_quality", "negative_share", "resolution_rate", "flagged_count"]
    list_filter = ["date"]
    date_hierarchy = "date"
    list_select_related = ["agent"]
    readonly_fields = [f.name for f in AgentDailyQuality._meta.fields]


@admin.register(AssessmentRun)
class AssessmentRunAdmin(admin.ModelAdmin):
    list_display = ["date", "job", "created_at"]
    readonly_fields = ["date", "job", "created_at"]
    verbose_name = _("assessment run")
    actions = ["rerun_selected"]

    @admin.action(description=_("Run the selected dates' failed assessments again"))
    def rerun_selected(self, request, queryset):
        for run in queryset:
            try:
                job = assessment_rerun(date=run.date, created_by=request.user)
            except ApplicationError as exc:
                self.message_user(request, f"{run.date}: {exc.message}", messages.WARNING)
            else:
                self.message_user(request, _("%(date)s: job %(job)d queued.") % {"date": run.date, "job": job.pk},
                                  messages.SUCCESS)


class ScoredConversationAdmin(ConversationAdmin):
    """The conversations' admin with the reply suggestions for a scored conversation."""

    readonly_fields = [*ConversationAdmin.readonly_fields, "suggestions"]
    fieldsets = [
        (title, {**options, "fields": [*options["fields"], "suggestions"]}) if title == _("Model output")
        else (title, options)
        for title, options in ConversationAdmin.fieldsets
    ]

    @admin.display(description=_("Suggestions for the agent"))
    def suggestions(self, obj):
        if not obj.pk or not obj.predicted_intent:
            return _("(scored conversations only)")
        last_customer = obj.messages.filter(speaker="customer").order_by("-seq").values_list("text", flat=True).first()
        found = suggest(intent=obj.predicted_intent, sentiment=obj.predicted_sentiment, quality=obj.predicted_quality,
                        text=last_customer or obj.customer_text, language=obj.language)
        rules = format_html_join("", "<li>{}</li>", ((text,) for text in found["suggestions"]))
        replies = format_html_join(
            "", "<li>{} <small>({} · {:.1f})</small></li>",
            ((r["text"], r["conversation_external_id"], r["quality"] or 0) for r in found["replies"]),
        )
        return format_html("<ul>{}</ul><p>{}</p><ul>{}</ul>", rules, _("Best past replies:"), replies)


admin.site.unregister(Conversation)
admin.site.register(Conversation, ScoredConversationAdmin)
