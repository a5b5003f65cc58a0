from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from apps.core.admin_mixins import DateHierarchyWindowMixin
from apps.core.exceptions import ApplicationError

from . import services
from .models import ModelVersion, Promotion


def _confirm(modeladmin, request, queryset, *, action: str, question: str):
    return TemplateResponse(request, "registry/confirm_action.html", {
        **modeladmin.admin_site.each_context(request), "title": question, "question": question,
        "objects": list(queryset), "queryset": queryset, "action": action, "opts": modeladmin.model._meta,
    })


class PromotionInline(admin.TabularInline):
    model = Promotion
    fk_name = "model_version"
    extra = 0
    can_delete = False
    fields = ["at", "action", "previous", "by", "reason"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ["task", "version", "backend", "status", "headline_metric", "created_at", "promoted_at",
                    "promoted_by"]
    list_filter = ["task", "status", "backend"]
    readonly_fields = [f.name for f in ModelVersion._meta.fields]
    actions = ["promote_selected", "rollback_selected"]
    inlines = [PromotionInline]

    def has_add_permission(self, request):
        return False  # versions come from training jobs or bootstrap_models

    def changelist_view(self, request, extra_context=None):
        """``?production_at=2024-05-01T12:00`` answers which versions served at that moment."""
        from django.utils import timezone
        from django.utils.dateparse import parse_datetime

        raw = request.GET.get("production_at")
        if raw:
            request.GET = request.GET.copy()
            del request.GET["production_at"]
            at = parse_datetime(raw)
            if at is None:
                self.message_user(request, _("production_at must be an ISO datetime."), messages.ERROR)
            else:
                at = timezone.make_aware(at) if timezone.is_naive(at) else at
                from .selectors import production_versions_at

                answer = ", ".join(f"{task}: {mv.version if mv else '-'}"
                                   for task, mv in production_versions_at(at=at).items())
                self.message_user(request, _("In production at %(at)s: %(answer)s") % {"at": at, "answer": answer})
        return super().changelist_view(request, extra_context)

    def has_delete_permission(self, request, obj=None):
        return False  # the history must stay answerable

    @admin.display(description=_("held-out metric"))
    def headline_metric(self, obj):
        m = obj.metrics or {}
        if "macro_f1" in m:
            return f"macro-F1 {m['macro_f1']:.3f}"
        if "mae" in m:
            return f"MAE {m['mae']:.3f}"
        return "-"

    @admin.action(description=_("Promote the selected version to production"), permissions=["change"])
    def promote_selected(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("Select exactly one version to promote."), messages.ERROR)
            return None
        if request.POST.get("confirm") != "yes":
            return _confirm(self, request, queryset, action="promote_selected",
                            question=_("Promote this version to production? The current one is retired."))
        try:
            mv = services.model_version_promote(version=queryset.get(), user=request.user,
                                                reason=request.POST.get("reason", "") or "admin")
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return None
        self.message_user(request, _("%(mv)s is now in production.") % {"mv": mv}, messages.SUCCESS)
        return None

    @admin.action(description=_("Roll back the selected versions' tasks to their previous production version"),
                  permissions=["change"])
    def rollback_selected(self, request, queryset):
        tasks = sorted(set(queryset.values_list("task", flat=True)))
        if request.POST.get("confirm") != "yes":
            return _confirm(self, request, queryset, action="rollback_selected",
                            question=_("Roll back these tasks to their previous production version: %s?")
                            % ", ".join(tasks))
        for task in tasks:
            try:
                mv = services.model_version_rollback(task=task, user=request.user,
                                                     reason=request.POST.get("reason", ""))
                self.message_user(request, _("%(task)s rolled back to %(mv)s.") % {"task": task, "mv": mv},
                                  messages.SUCCESS)
            except ApplicationError as exc:
                self.message_user(request, exc.message, messages.ERROR)
        return None


@admin.register(Promotion)
class PromotionAdmin(DateHierarchyWindowMixin, admin.ModelAdmin):
    """Which version was in production when: filter by task, read the time column."""

    list_display = ["at", "task", "action", "model_version", "previous", "by", "reason"]
    list_filter = ["task", "action"]
    date_hierarchy = "at"
    readonly_fields = [f.name for f in Promotion._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False
