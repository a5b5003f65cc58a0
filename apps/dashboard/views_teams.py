"""The console's team pages: the teams' leaderboard and one team's trend and agents."""
from __future__ import annotations

from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from . import selectors, selectors_teams
from .access import console_required, led_teams, team_visible_or_403
from .views import _filter_query, _read_filters


@console_required
@require_GET
def team_list(request):
    form, filters, status = _read_filters(request)
    filters = filters.with_default_range()
    rows = selectors_teams.team_leaderboard(filters)
    teams = led_teams(request.user)
    if teams is not None:
        rows = [r for r in rows if r["team"] in teams]
    return render(request, "dashboard/teams.html", {
        "form": form, "filters": filters, "rows": rows, "filter_query": _filter_query(filters),
        "intent_options": selectors.intent_choices(),
    }, status=status)


@console_required
@require_GET
def team_detail(request, team: str):
    if team not in selectors.team_choices():
        raise Http404
    team_visible_or_403(request.user, team)
    form, filters, status = _read_filters(request)
    data = selectors_teams.team_data(team=team, filters=filters)
    f = data["filters"]
    chart = {
        "labels": [r["bucket"].isoformat() for r in data["trend"]],
        "volume": [r["total"] for r in data["trend"]],
        "mean_quality": [r["mean_quality"] for r in data["trend"]],
        "negative_share": [r["negative_share"] for r in data["trend"]],
        "text": {"volume": _("Volume"), "mean_quality": _("Mean quality"), "negative_share": _("Negative share")},
    }
    return render(request, "dashboard/team_detail.html", {
        "form": form, "data": data, "filters": f, "chart_data": chart,
        "filter_query": _filter_query(f), "intent_options": selectors.intent_choices(),
        "conversations_url": reverse("dashboard:conversations"),
    }, status=status)
