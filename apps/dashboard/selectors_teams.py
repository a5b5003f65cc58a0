"""Reads for the console's team pages: a leaderboard of teams, and one team's trend and agents.

The same aggregates as the overview (``selectors.overview_agents``), grouped by team or by
period; trends are bucketed by the database with ``TruncDay``/``TruncWeek``/``TruncMonth`` in
``TIME_ZONE``.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import replace

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDay, TruncMonth, TruncWeek
from django.utils import timezone

from apps.agents.models import Agent
from apps.core.labels import Sentiment
from apps.qa.selectors import criteria_failed_most, qa_trend

from .selectors import (
    EFFECTIVE_QUALITY, EFFECTIVE_SENTIMENT, OPERATIONS_AGGREGATES, ConversationFilters, _reporting_transaction,
    bucket_start, conversation_queryset, metrics_fold, overview_agents,
)

TRUNC = {"day": TruncDay, "week": TruncWeek, "month": TruncMonth}

# The aggregates ``metrics_fold`` reads, for any grouping.
METRIC_AGGREGATES = {
    "n": Count("id"),
    "q_sum": Sum(EFFECTIVE_QUALITY),
    "q_n": Count(EFFECTIVE_QUALITY),
    "neg": Count("id", filter=Q(s=Sentiment.NEGATIVE)),
    "s_n": Count("s"),
    "n_resolved": Count("id", filter=Q(resolved=True)),
    "resolved_known": Count("resolved"),
    "csat_sum": Sum("csat"),
    "csat_n": Count("csat"),
    **OPERATIONS_AGGREGATES,
}

FIGURES = ["total", "mean_quality", "negative_share", "resolution_rate", "mean_csat", "csat_response_rate",
           "first_response_s", "handle_time_s"]


def metrics_by(filters: ConversationFilters, *, key: str) -> list[dict]:
    """Grouped aggregates, one row per value of ``key`` (a field path), as ``{"key": …, figures…}``."""
    rows = (
        conversation_queryset(filters)
        .alias(s=EFFECTIVE_SENTIMENT)
        .values(key)
        .annotate(**METRIC_AGGREGATES)
        .order_by()
    )
    out = []
    for r in rows:
        k = r.pop(key)
        out.append({"key": k, **{f: v for f, v in metrics_fold([r]).items() if f in FIGURES}})
    return out


def metrics_trend(filters: ConversationFilters) -> list[dict]:
    """The figures per day, week (from Monday) or month of ``filters.group``, every bucket listed."""
    filters = filters.with_default_range()
    group = filters.group if filters.group in TRUNC else "day"
    tz = timezone.get_current_timezone()
    rows = (
        conversation_queryset(filters)
        .alias(s=EFFECTIVE_SENTIMENT)
        .annotate(bucket=TRUNC[group]("started_at", tzinfo=tz))
        .values("bucket")
        .annotate(**METRIC_AGGREGATES)
        .order_by("bucket")
    )
    found = {}
    for r in rows:
        b = r.pop("bucket")
        b = timezone.localtime(b, tz).date() if isinstance(b, dt.datetime) and timezone.is_aware(b) else (
            b.date() if isinstance(b, dt.datetime) else b)
        found[b] = {f: v for f, v in metrics_fold([r]).items() if f in FIGURES}
    out, d = [], filters.date_from
    empty = {f: (0 if f == "total" else None) for f in FIGURES}
    while d <= filters.date_to:
        b = bucket_start(d, group)
        if not out or out[-1]["bucket"] != b:
            out.append({"bucket": b, **found.get(b, empty)})
        d += dt.timedelta(days=1)
    return out


def team_leaderboard(filters: ConversationFilters) -> list[dict]:
    """Every team's figures over the range, best mean quality first, with the previous period's."""
    filters = filters.with_default_range()
    with _reporting_transaction():
        current = metrics_by(filters, key="agent__team")
        previous = {r["key"]: r for r in metrics_by(filters.previous_period(), key="agent__team")}
    rows = []
    for r in current:
        if not r["key"]:
            continue
        p = previous.get(r["key"], {})
        rows.append({**r, "team": r["key"], "previous_mean_quality": p.get("mean_quality"),
                     "quality_change": (round(r["mean_quality"] - p["mean_quality"], 3)
                                        if r["mean_quality"] is not None and p.get("mean_quality") is not None
                                        else None)})
    rows.sort(key=lambda r: (r["mean_quality"] is None, -(r["mean_quality"] or 0), r["team"]))
    return rows


def qa_figures(*, filters: ConversationFilters, agent=None, team: str | None = None) -> dict | None:
    """Mean QA score, auto-fails, conversations QA-scored and the criteria failed most over the
    range (the QA app's daily aggregates); None when no QA result falls in it."""

    rows = qa_trend(since=filters.date_from, until=filters.date_to, agent=agent, team=team or None)
    n = sum(r["n"] or 0 for r in rows)
    if not n:
        return None
    scored = [(r["avg_score"], r["n"]) for r in rows if r["avg_score"] is not None]
    weight = sum(k for _, k in scored)
    return {
        "n": n, "auto_fails": sum(r["auto_fails"] or 0 for r in rows),
        "avg_score": round(sum(s * k for s, k in scored) / weight, 2) if weight else None,
        "worst_criteria": criteria_failed_most(since=filters.date_from, until=filters.date_to, agent=agent,
                                               team=team or None, limit=5),
    }


def qa_days(*, filters: ConversationFilters, team: str | None = None, agent=None) -> list[dict]:
    """The QA score and auto-fails per day over the range (the QA app's daily aggregates)."""

    return qa_trend(since=filters.date_from, until=filters.date_to, agent=agent, team=team or None)


def team_data(*, team: str, filters: ConversationFilters) -> dict:
    """One team: figures against the previous period, its trend, and its agents' leaderboard."""
    filters = replace(filters, team=team).with_default_range()
    previous = filters.previous_period()
    with _reporting_transaction():
        summary = metrics_fold(overview_agents(filters))
        previous_summary = metrics_fold(overview_agents(previous))
        trend = metrics_trend(filters)
        agents = metrics_by(filters, key="agent_id")

    names = {a.pk: a for a in Agent.objects.filter(pk__in=[r["key"] for r in agents if r["key"]])}
    board = [
        {**r, "id": r["key"], "name": names[r["key"]].name, "team": team, "volume": r["total"]}
        for r in agents if r["key"] in names
    ]
    board.sort(key=lambda r: (r["mean_quality"] is None, -(r["mean_quality"] or 0), -r["volume"], r["name"]))
    changes = {
        k: {"previous": previous_summary.get(k),
            "delta": (round(summary[k] - previous_summary[k], 4)
                      if summary.get(k) is not None and previous_summary.get(k) is not None else None)}
        for k in FIGURES
    }
    return {"team": team, "filters": filters, "previous_filters": previous, "summary": summary,
            "changes": changes, "trend": trend, "agents": board,
            "qa": qa_figures(filters=filters, team=team), "previous_qa": qa_figures(filters=previous, team=team)}
