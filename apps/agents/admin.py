from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import Agent, TeamLead


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    list_display = ["external_id", "name", "team", "hired_at", "active", "user"]
    list_filter = ["team", "active"]
    search_fields = ["=external_id", "name", "team"]
    raw_id_fields = ["user"]
    actions = ["deactivate", "activate"]

    @admin.action(description=_("Mark selected agents inactive"), permissions=["change"])
    def deactivate(self, request, queryset):
        n = queryset.update(active=False)
        self.message_user(request, ngettext("%d agent deactivated.", "%d agents deactivated.", n) % n, messages.SUCCESS)

    @admin.action(description=_("Mark selected agents active"), permissions=["change"])
    def activate(self, request, queryset):
        n = queryset.update(active=True)
        self.message_user(request, ngettext("%d agent activated.", "%d agents activated.", n) % n, messages.SUCCESS)


@admin.register(TeamLead)
class TeamLeadAdmin(admin.ModelAdmin):
    list_display = ["team", "user"]
    list_filter = ["team"]
    search_fields = ["team", "user__username"]
    raw_id_fields = ["user"]
