from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import AgentDailyQuality, AssessmentRun, Prediction, ReviewItem


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
class AgentDailyQualityAdmin(admin.ModelAdmin):
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


try:
    from . import suggestions_admin  # noqa: F401,E402  (registers SuggestionRule's admin)
except ImportError:
    pass
