from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from apps.core.admin_mixins import DateHierarchyWindowMixin

from .models import Alert, AlertRule, TeamReport


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    list_display = ("name", "metric", "scope", "team", "comparison", "threshold", "window_days", "min_volume",
                    "send_webhook", "active")
    list_filter = ("metric", "scope", "active")
    list_editable = ("active",)
    search_fields = ("name", "team")
    fieldsets = (
        (None, {"fields": ("name", "active")}),
        (_("Condition"), {"fields": ("metric", "scope", "team", "comparison", "threshold", "window_days",
                                     "min_volume")}),
        (_("Notification"), {"fields": ("email_to", "send_webhook")}),
    )


@admin.register(Alert)
class AlertAdmin(DateHierarchyWindowMixin, admin.ModelAdmin):
    list_display = ("date", "rule", "subject_label", "team", "metric", "value", "threshold", "n", "status",
                    "emailed_at", "webhook_deliveries")
    list_filter = ("status", "metric", "date")
    search_fields = ("subject_label", "team", "rule__name")
    date_hierarchy = "date"
    readonly_fields = [f.name for f in Alert._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False  # alerts are raised by the nightly assessment only


@admin.register(TeamReport)
class TeamReportAdmin(admin.ModelAdmin):
    list_display = ("team", "language", "active", "recipients", "last_sent_at")
    list_editable = ("active",)
    readonly_fields = ("last_sent_at", "last_sent_to")
