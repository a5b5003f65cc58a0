from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey as LibraryAPIKey

from .admin_mixins import DateHierarchyWindowMixin
from .models import APIKey, AuditEvent, Scope
from .services import api_key_create

# djangorestframework-api-key registers its own concrete model; ours (with scopes) replaces it.
if admin.site.is_registered(LibraryAPIKey):
    admin.site.unregister(LibraryAPIKey)


class APIKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        label=_("scopes"), choices=Scope.choices, widget=forms.CheckboxSelectMultiple, required=True
    )

    class Meta:
        model = APIKey
        fields = ("name", "scopes", "expiry_date", "revoked")


@admin.register(APIKey)
class APIKeyAdmin(APIKeyModelAdmin):
    form = APIKeyForm
    list_display = ("prefix", "name", "scopes", "created", "expiry_date", "_has_expired", "revoked", "created_by")
    list_filter = ("revoked", "created")
    search_fields = ("name", "prefix")
    fields = ("name", "scopes", "expiry_date", "revoked", "prefix", "created_by")

    def get_readonly_fields(self, request, obj=None):
        return tuple(super().get_readonly_fields(request, obj)) + ("created_by",)

    def save_model(self, request, obj, form, change):
        if change:
            obj.save()
            return
        # Creation goes through the service so that it is audited like every other key.
        created, key = api_key_create(name=obj.name, scopes=list(obj.scopes or []), created_by=request.user)
        if obj.expiry_date:
            created.expiry_date = obj.expiry_date
            created.save(update_fields=["expiry_date"])
        obj.pk, obj.id = created.pk, created.pk
        obj.prefix, obj.hashed_key = created.prefix, created.hashed_key
        obj._state.adding = False
        messages.warning(
            request,
            _("The API key for %(name)s is: %(key)s — store it now, it will not be shown again.")
            % {"name": created.name, "key": key},
        )


@admin.register(AuditEvent)
class AuditEventAdmin(DateHierarchyWindowMixin, admin.ModelAdmin):
    """Read-only: the audit trail is append-only, even for superusers."""

    list_display = ("at", "actor_label", "action", "target_type", "target_id")
    list_filter = ("action", "target_type")
    search_fields = ("actor_label", "action", "target_id")
    date_hierarchy = "at"
    readonly_fields = ("at", "actor", "actor_label", "action", "target_type", "target_id", "data")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
