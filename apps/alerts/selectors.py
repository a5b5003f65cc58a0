"""The values alert rules compare: one metric over a window, per agent, per team or overall.

Conversation figures come from the console's grouped reads (``apps.dashboard``), QA figures
from the QA app's daily aggregates, model agreement from the reviewed items.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.agents.models import Agent
from apps.dashboard.selectors import ConversationFilters, metrics_fold, overview_agents
from apps.dashboard.selectors_teams import metrics_by
from apps.qa.models import QaDailyAgent
from apps.scoring.services.review import agreement_stats

from .models import AlertRule, Metric, Scope

CONVERSATION_METRICS = {
    Metric.MEAN_QUALITY, Metric.NEGATIVE_SHARE, Metric.RESOLUTION_RATE, Metric.MEAN_CSAT, Metric.FIRST_RESPONSE,
    Metric.HANDLE_TIME,
}
QA_METRICS = {Metric.QA_SCORE, Metric.AUTO_FAILS}


@dataclass(frozen=True)
class MetricValue:
    key: str  # agent id, team name or "all"
    label: str
    team: str
    value: float
    n: int


def window(*, rule: AlertRule, date: dt.date) -> tuple[dt.date, dt.date]:
    return date - dt.timedelta(days=rule.window_days - 1), date


def metric_values(*, rule: AlertRule, date: dt.date) -> list[MetricValue]:
    """The rule's metric for every subject in its scope over its window ending at ``date``."""
    start, end = window(rule=rule, date=date)
    if rule.metric in CONVERSATION_METRICS:
        return _conversation_values(rule=rule, start=start, end=end)
    if rule.metric in QA_METRICS:
        return _qa_values(rule=rule, start=start, end=end)
    if rule.metric == Metric.MODEL_AGREEMENT:
        return _agreement_values(start=start, end=end)
    raise ValueError(f"unknown metric {rule.metric}")


def _conversation_values(*, rule: AlertRule, start: dt.date, end: dt.date) -> list[MetricValue]:
    filters = ConversationFilters(date_from=start, date_to=end, team=rule.team)
    if rule.scope == Scope.ALL:
        folded = metrics_fold(overview_agents(filters))
        value = folded.get(rule.metric)
        if value is None:
            return []
        return [MetricValue("all", _("the whole contact centre"), rule.team, float(value), folded["total"])]
    rows = metrics_by(filters, key="agent_id" if rule.scope == Scope.AGENT else "agent__team")
    agents = {}
    if rule.scope == Scope.AGENT:
        agents = {a.pk: a for a in Agent.objects.filter(pk__in=[r["key"] for r in rows if r["key"]])}
    out = []
    for r in rows:
        value = r.get(rule.metric)
        if value is None or not r["key"]:
            continue
        if rule.scope == Scope.AGENT:
            agent = agents.get(r["key"])
            if agent is None:
                continue
            out.append(MetricValue(str(agent.pk), f"{agent.name} ({agent.external_id})", agent.team, float(value),
                                   r["total"]))
        else:
            out.append(MetricValue(r["key"], r["key"], r["key"], float(value), r["total"]))
    return out


def _qa_values(*, rule: AlertRule, start: dt.date, end: dt.date) -> list[MetricValue]:
    qs = QaDailyAgent.objects.filter(date__gte=start, date__lte=end)
    if rule.team:
        qs = qs.filter(team=rule.team)
    group = {Scope.AGENT: ["agent_id", "agent__name", "agent__external_id", "team"], Scope.TEAM: ["team"],
             Scope.ALL: []}[rule.scope]
    rows = qs.values(*group).annotate(n_sum=Sum("n"), score_sum_sum=Sum("score_sum"), fails=Sum("auto_fails"))
    out = []
    for r in rows.order_by():
        n = r["n_sum"] or 0
        value = (r["score_sum_sum"] / n if n else None) if rule.metric == Metric.QA_SCORE else float(r["fails"] or 0)
        if value is None:
            continue
        if rule.scope == Scope.AGENT:
            out.append(MetricValue(str(r["agent_id"]), f"{r['agent__name']} ({r['agent__external_id']})", r["team"],
                                   round(value, 3), n))
        elif rule.scope == Scope.TEAM:
            if r["team"]:
                out.append(MetricValue(r["team"], r["team"], r["team"], round(value, 3), n))
        else:
            out.append(MetricValue("all", _("the whole contact centre"), rule.team, round(value, 3), n))
    return out


def _agreement_values(*, start: dt.date, end: dt.date) -> list[MetricValue]:
    """Intent accuracy of the model against the verdicts given since the window's first day."""

    since = timezone.make_aware(dt.datetime.combine(start, dt.time.min))
    overall = agreement_stats(since=since)["intent"]["overall"]
    if overall["accuracy"] is None:
        return []
    return [MetricValue("all", _("the whole contact centre"), "", float(overall["accuracy"]), overall["n"])]
