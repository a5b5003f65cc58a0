import tempfile
from pathlib import Path

from django import forms
from django.contrib import admin, messages
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from apps.core.admin_mixins import DateHierarchyWindowMixin

from .imports import FORMATS, ImportFileError, conversations_import
from .models import Conversation, Message


class MessageInline(admin.TabularInline):
    model = Message
    extra = 0
    can_delete = False
    fields = ["seq", "speaker", "text", "sent_at"]
    readonly_fields = fields  # masked on ingest; never edited by hand

    def has_add_permission(self, request, obj=None):
        return False


class ImportForm(forms.Form):
    file = forms.FileField(label=_("File (CSV, JSON, JSONL or XLSX)"))
    dry_run = forms.BooleanField(label=_("Dry run (validate only)"), required=False)


@admin.register(Conversation)
class ConversationAdmin(DateHierarchyWindowMixin, admin.ModelAdmin):
    list_display = [
        "external_id", "started_at", "agent", "channel", "resolved", "csat", "label_intent", "predicted_intent",
        "predicted_sentiment", "predicted_quality", "uncertain",
    ]
    list_filter = ["channel", "resolved", "language", "uncertain", "predicted_sentiment", "agent__team"]
    search_fields = ["=external_id", "=customer__external_id", "=agent__external_id"]
    date_hierarchy = "started_at"
    list_select_related = ["agent"]
    raw_id_fields = ["customer", "agent", "prediction"]
    inlines = [MessageInline]
    show_full_result_count = False
    readonly_fields = [
        "customer_text", "n_messages", "features", "prediction", "predicted_intent", "predicted_sentiment",
        "predicted_quality", "uncertain", "created_at", "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["external_id", "customer", "agent", "channel", "language", "started_at", "ended_at",
                           "resolved", "csat"]}),
        (_("CRM labels"), {"fields": ["label_intent", "label_sentiment", "label_quality"]}),
        (_("Model output"), {"fields": ["prediction", "predicted_intent", "predicted_sentiment", "predicted_quality",
                                        "uncertain"]}),
        (_("Derived"), {"fields": ["customer_text", "n_messages", "features", "created_at", "updated_at"],
                        "classes": ["collapse"]}),
    ]
    change_list_template = "admin/conversations/conversation/change_list.html"

    def get_urls(self):
        return [
            path("import/", self.admin_site.admin_view(self.import_view), name="conversations_conversation_import"),
            *super().get_urls(),
        ]

    def import_view(self, request):
        if not self.has_add_permission(request):
            return redirect("admin:conversations_conversation_changelist")
        form = ImportForm(request.POST or None, request.FILES or None)
        report = None
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            suffix = Path(upload.name).suffix.lower()
            if suffix not in FORMATS:
                form.add_error("file", _("Unsupported file type."))
            else:
                with tempfile.NamedTemporaryFile(suffix=suffix) as tmp:
                    for chunk in upload.chunks():
                        tmp.write(chunk)
                    tmp.flush()
                    try:
                        report = conversations_import(path=tmp.name, dry_run=form.cleaned_data["dry_run"])
                    except ImportFileError as exc:
                        form.add_error("file", str(exc))
                if report is not None and report.ok and not report.dry_run:
                    c = report.conversations
                    self.message_user(
                        request,
                        _("Imported: %(created)d created, %(updated)d updated, %(unchanged)d unchanged.") % c.as_dict(),
                        messages.SUCCESS,
                    )
                    return redirect(reverse("admin:conversations_conversation_changelist"))
        context = {**self.admin_site.each_context(request), "form": form, "report": report,
                   "opts": self.model._meta, "title": _("Import conversations")}
        return render(request, "admin/conversations/conversation/import.html", context)
