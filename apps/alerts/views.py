"""The console's alerts page: open and acknowledged alerts, the rules, acknowledging one."""
from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from apps.core.exceptions import ApplicationError
from apps.dashboard.access import console_required

from .models import Alert, AlertRule
from .services import alert_acknowledge

ACK_PERMISSION = "alerts.change_alert"


@console_required
@require_GET
def alert_list(request):
    status = request.GET.get("status") or Alert.Status.OPEN
    if status not in Alert.Status.values:
        status = Alert.Status.OPEN
    qs = Alert.objects.filter(status=status).select_related("rule", "acknowledged_by").order_by("-date", "-id")
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    counts = {s: Alert.objects.filter(status=s).count() for s in Alert.Status.values}
    return render(request, "dashboard/alerts.html", {
        "page": page, "status": status, "statuses": Alert.Status.choices, "counts": counts,
        "rules": AlertRule.objects.order_by("name"), "can_acknowledge": request.user.has_perm(ACK_PERMISSION),
    })


@console_required
@require_POST
def alert_ack(request, pk: int):
    if not request.user.has_perm(ACK_PERMISSION):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied
    alert = get_object_or_404(Alert, pk=pk)
    try:
        alert_acknowledge(alert=alert, user=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Alert acknowledged."))
    return redirect("alerts:list")
