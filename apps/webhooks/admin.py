from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from apps.core.admin_mixins import DateHierarchyWindowMixin
from apps.core.exceptions import ApplicationError

from . import services
from .models import Event, WebhookDelivery, WebhookSubscription


class WebhookSubscriptionForm(forms.ModelForm):
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(label=_("events"), choices=Event.choices,
                                       widget=forms.CheckboxSelectMultiple)
    # Not named ``secret``: the admin would copy an empty input onto the model field.
    new_secret = forms.CharField(
        label=_("signing secret"), required=False, min_length=16, max_length=128, widget=forms.PasswordInput,
        help_text=_("Leave empty to generate one (new subscription) or to keep the current one."),
    )

    class Meta:
        model = WebhookSubscription
        fields = ["name", "url", "events", "active"]

    def clean_url(self):
        url = self.cleaned_data["url"]
        try:
            return services._url_validate(url)
        except ApplicationError as exc:
            raise ValidationError(exc.message) from exc


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    form = WebhookSubscriptionForm
    list_display = ["name", "url", "events", "active", "created_at"]
    list_filter = ["active"]
    search_fields = ["name", "url"]
    readonly_fields = ["created_at"]

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            services.subscription_update(
                subscription=obj, actor=request.user, name=data["name"], url=data["url"],
                events=list(data["events"]), active=data["active"], secret=data.get("new_secret") or None,
            )
            return
        created = services.subscription_create(
            name=data["name"], url=data["url"], events=list(data["events"]), active=data["active"],
            secret=data.get("new_secret") or None, actor=request.user,
        )
        # The admin goes on with ``obj`` (log entry, redirect): make it the saved row.
        obj.pk, obj.secret, obj.created_at, obj.events = created.pk, created.secret, created.created_at, created.events
        obj._state.adding = False
        if not data.get("new_secret"):
            self.message_user(request, _("Signing secret (shown once): %(secret)s") % {"secret": created.secret},
                              messages.WARNING)

    def delete_model(self, request, obj):
        services.subscription_delete(subscription=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for subscription in queryset:
            services.subscription_delete(subscription=subscription, actor=request.user)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(DateHierarchyWindowMixin, admin.ModelAdmin):
    list_display = ["delivery_id", "event", "subscription", "status", "attempts", "response_code", "created_at",
                    "delivered_at"]
    list_filter = ["status", "event", "subscription"]
    search_fields = ["delivery_id"]
    list_select_related = ["subscription"]
    date_hierarchy = "created_at"
    actions = ["redeliver"]
    readonly_fields = ["delivery_id", "subscription", "event", "payload", "status", "attempts", "response_code",
                       "last_error", "created_at", "delivered_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Redeliver selected deliveries"))
    def redeliver(self, request, queryset):
        n_sent, n_pending = 0, 0
        for delivery in queryset:
            try:
                services.delivery_redeliver(delivery=delivery, actor=request.user)
                n_sent += 1
            except ApplicationError:
                n_pending += 1
        self.message_user(request, _("%(n)d deliveries queued again.") % {"n": n_sent}, messages.SUCCESS)
        if n_pending:
            self.message_user(request, _("%(n)d still pending, skipped.") % {"n": n_pending}, messages.WARNING)
