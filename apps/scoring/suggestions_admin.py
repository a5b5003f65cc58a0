"""Admin for suggestion rules (imported by ``apps/scoring/admin.py``).

Every write path of this admin (form save, list edits, delete, bulk actions) calls
``suggestion_rules_invalidate`` so that web processes pick the change up at once.
"""
from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from apps.core.labels import INTENTS_ZH
from apps.scoring.models import SuggestionRule
from apps.scoring.services.suggestions import suggestion_rules_invalidate


class IntentInput(forms.TextInput):
    """Free text (each CRM has its own taxonomy) with the 20 demo intents offered in a ``<datalist>``."""

    def render(self, name, value, attrs=None, renderer=None):
        list_id = f"{(attrs or {}).get('id') or name}-choices"
        html = super().render(name, value, {**(attrs or {}), "list": list_id}, renderer)
        options = format_html_join("", '<option value="{}">', ((intent,) for intent in INTENTS_ZH))
        return html + format_html('<datalist id="{}">{}</datalist>', list_id, options)


class SuggestionRuleForm(forms.ModelForm):
    class Meta:
        model = SuggestionRule
        fields = ["intent", "sentiment", "min_quality", "max_quality", "text_zh", "text_en", "priority", "active"]
        widgets = {"intent": IntentInput}
        help_texts = {
            "intent": _("Blank = any intent. Use the Chinese intent name (e.g. 投诉建议); the English demo "
                        "name (complaint) matches the same intent."),
            "min_quality": _("Matches when quality >= this value (blank = no lower bound)."),
            "max_quality": _("Matches when quality < this value (blank = no upper bound)."),
        }

    def clean(self):
        data = super().clean()
        low, high = data.get("min_quality"), data.get("max_quality")
        for name in ("min_quality", "max_quality"):
            value = data.get(name)
            if value is not None and not 1 <= value <= 5:
                self.add_error(name, _("Quality is on a 1-5 scale."))
        if low is not None and high is not None and low >= high:
            self.add_error("max_quality", _("The maximum quality must be above the minimum quality."))
        return data


@admin.register(SuggestionRule)
class SuggestionRuleAdmin(admin.ModelAdmin):
    form = SuggestionRuleForm
    list_display = ["priority", "intent_display", "sentiment", "min_quality", "max_quality", "text_zh", "text_en",
                    "active"]
    list_display_links = ["text_zh"]
    list_editable = ["priority", "active"]
    list_filter = ["active", "sentiment", "intent"]
    search_fields = ["intent", "text_zh", "text_en"]
    ordering = ["priority", "id"]
    actions = ["activate", "deactivate"]
    fieldsets = [
        (_("When"), {
            "fields": ["intent", "sentiment", ("min_quality", "max_quality")],
            "description": _("A rule applies when every condition set here holds; blank conditions match "
                             "anything. Quality bounds are half-open: min <= quality < max."),
        }),
        (_("Suggest"), {"fields": ["text_zh", "text_en", "priority", "active"]}),
    ]

    @admin.display(description=_("intent"), ordering="intent")
    def intent_display(self, obj):
        return obj.intent or _("(any)")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        suggestion_rules_invalidate()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        suggestion_rules_invalidate()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        suggestion_rules_invalidate()

    @admin.action(description=_("Activate selected rules"), permissions=["change"])
    def activate(self, request, queryset):
        self._set_active(request, queryset, True)

    @admin.action(description=_("Deactivate selected rules"), permissions=["change"])
    def deactivate(self, request, queryset):
        self._set_active(request, queryset, False)

    def _set_active(self, request, queryset, active):
        n = queryset.update(active=active)
        suggestion_rules_invalidate()
        self.message_user(
            request, ngettext("%(n)d rule updated.", "%(n)d rules updated.", n) % {"n": n}, messages.SUCCESS
        )
