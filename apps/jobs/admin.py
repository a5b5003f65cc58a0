from django.contrib import admin, messages
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from apps.core.admin_mixins import DateHierarchyWindowMixin
from apps.core.exceptions import ApplicationError

from . import services
from .models import Job, JobChunk


@admin.register(Job)
class JobAdmin(DateHierarchyWindowMixin, admin.ModelAdmin):
    list_display = ["id", "kind", "status", "progress_bar", "total", "done", "failed", "created_at", "started_at",
                    "finished_at", "created_by"]
    list_filter = ["kind", "status"]
    date_hierarchy = "created_at"
    readonly_fields = ["kind", "status", "params", "idempotency_key", "total", "done", "failed", "progress_bar",
                       "result", "steps", "error", "task_id", "created_by", "created_at", "dispatched_at", "started_at",
                       "finished_at"]
    actions = ["cancel_selected", "resume_selected", "retrain_now"]

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("progress"))
    def progress_bar(self, obj):
        pct = obj.progress
        return format_html(
            '<progress value="{}" max="100" title="{}%"></progress> {}%', pct, pct, pct)

    @admin.action(description=_("Cancel the selected jobs"))
    def cancel_selected(self, request, queryset):
        n = 0
        for job in queryset:
            try:
                services.job_cancel(job_id=job.pk, user=request.user)
                n += 1
            except ApplicationError:
                pass
        self.message_user(request, _("%d job(s) cancelled.") % n, messages.SUCCESS)

    @admin.action(description=_("Resume the selected jobs (re-send what is pending, re-run what failed)"))
    def resume_selected(self, request, queryset):
        n = 0
        for job in queryset:
            try:
                services.job_resume(job_id=job.pk, user=request.user)
                n += 1
            except ApplicationError as exc:
                self.message_user(request, f"#{job.pk}: {exc.message}", messages.WARNING)
        self.message_user(request, _("%d job(s) resumed.") % n, messages.SUCCESS)

    @admin.action(description=_("Start a retraining job now (promotes only a better model)"))
    def retrain_now(self, request, queryset):
        job, _created = services.job_submit(kind="retrain", created_by=request.user)
        self.message_user(request, _("Retraining job %d queued.") % job.pk, messages.SUCCESS)


@admin.register(JobChunk)
class JobChunkAdmin(admin.ModelAdmin):
    list_display = ["job", "index", "n", "state", "done", "failed", "attempts", "sent_at", "started_at", "finished_at"]
    list_filter = ["state"]
    readonly_fields = [f.name for f in JobChunk._meta.fields if f.name != "conversation_ids"]
    exclude = ["conversation_ids"]

    def has_add_permission(self, request):
        return False
