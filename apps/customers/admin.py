from django.contrib import admin

from apps.core.admin_mixins import DateHierarchyWindowMixin

from .models import Customer


@admin.register(Customer)
class CustomerAdmin(DateHierarchyWindowMixin, admin.ModelAdmin):
    list_display = ["external_id", "display_name", "age", "gender", "city", "segment", "vip_level", "created_at"]
    list_filter = ["segment", "vip_level", "gender", "city"]
    search_fields = ["=external_id", "display_name"]
    readonly_fields = ["display_name", "created_at", "updated_at"]
    date_hierarchy = "created_at"
    show_full_result_count = False
