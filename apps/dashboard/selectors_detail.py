"""Reads for the console's detail pages: the conversation list, export and detail,
the agent report, the review queue, and the models and jobs pages.

Split from ``selectors`` (which keeps the filters, the base queryset and the overview);
the shared filter dataclass, base queryset and effective-label expressions are imported
from there.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import replace

from django.db.models import Avg, Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from apps.agents.models import Agent
from apps.conversations.models import Conversation
from apps.core.labels import Sentiment
from apps.jobs.models import Job
from apps.registry.models import ModelVersion, Promotion, Task
from apps.scoring.models import ReviewItem

from .selectors import (
    EFFECTIVE_INTENT, EFFECTIVE_QUALITY, EFFECTIVE_SENTIMENT, OPERATIONS_AGGREGATES, ConversationFilters, _seconds,
    _share, conversation_queryset,
)

# --- Conversations --------------------------------------------------------------


def conversation_list(filters: ConversationFilters) -> QuerySet[Conversation]:
    """Filtered conversations, newest first, with what the list and the export show."""
    return (
        conversation_queryset(filters)
        .select_related("agent", "customer", "review", "prediction")
        .annotate(
            effective_intent=EFFECTIVE_INTENT,
            effective_sentiment=EFFECTIVE_SENTIMENT,
            effective_quality=EFFECTIVE_QUALITY,
        )
        .order_by("-started_at", "-id")
    )


def conversation_export_rows(filters: ConversationFilters):
    """Flat rows for CSV/XLSX, streamed from the database in chunks."""
    qs = (
        conversation_queryset(filters)
        .annotate(
            effective_intent=EFFECTIVE_INTENT,
            effective_sentiment=EFFECTIVE_SENTIMENT,
            effective_quality=EFFECTIVE_QUALITY,
        )
        .order_by("started_at", "id")
        .values_list(
            "external_id", "started_at", "ended_at", "channel", "language",
            "customer__external_id", "customer__segment", "customer__vip_level",
            "agent__external_id", "agent__name", "agent__team",
            "resolved", "csat", "n_messages",
            "predicted_intent", "predicted_sentiment", "predicted_quality", "uncertain",
            "prediction__intent_confidence", "prediction__sentiment_confidence",
            "review__status", "review__intent", "review__sentiment", "review__quality", "review__reviewed_at",
            "effective_intent", "effective_sentiment", "effective_quality",
        )
    )
    return qs.iterator(chunk_size=2000)


CONVERSATION_EXPORT_HEADER = [
    "external_id", "started_at", "ended_at", "channel", "language",
    "customer_id", "customer_segment", "customer_vip_level",
    "agent_id", "agent_name", "agent_team",
    "resolved", "csat", "n_messages",
    "predicted_intent", "predicted_sentiment", "predicted_quality", "uncertain",
    "intent_confidence", "sentiment_confidence",
    "review_status", "reviewed_intent", "reviewed_sentiment", "reviewed_quality", "reviewed_at",
    "intent", "sentiment", "quality",
]


def conversation_detail(*, conversation_id: int) -> Conversation:
    return (
        Conversation.objects.select_related(
            "agent", "customer", "review", "review__reviewer", "prediction",
            "prediction__intent_version", "prediction__sentiment_version", "prediction__quality_version",
        )
        .prefetch_related("messages")
        .get(pk=conversation_id)
    )


# --- Agent report ----------------------------------------------------------------


def _agent_summary(qs: QuerySet[Conversation]) -> dict:
    agg = qs.annotate(s=EFFECTIVE_SENTIMENT, eq=EFFECTIVE_QUALITY).aggregate(
        n=Count("id"),
        q=Avg("eq"),
        neg=Count("id", filter=Q(s=Sentiment.NEGATIVE)),
        s_n=Count("s"),
        n_resolved=Count("id", filter=Q(resolved=True)),
        resolved_known=Count("resolved"),
        csat_n=Count("csat"),
        csat_mean=Avg("csat"),
        flagged=Count("review"),
        **OPERATIONS_AGGREGATES,
    )
    return {
        "csat_response_rate": _share(agg["csat_n"], agg["n"]),
        "first_response_s": _seconds(agg["frt_sum"], agg["frt_n"]),
        "handle_time_s": _seconds(agg["aht_sum"], agg["aht_n"]),
        "volume": agg["n"],
        "mean_quality": round(agg["q"], 3) if agg["q"] is not None else None,
        "negative_share": _share(agg["neg"], agg["s_n"]),
        "resolution_rate": _share(agg["n_resolved"], agg["resolved_known"]),
        "mean_csat": round(agg["csat_mean"], 2) if agg["csat_mean"] is not None else None,
        "flagged": agg["flagged"],
    }


def agent_report(*, agent: Agent, filters: ConversationFilters) -> dict:
    """One agent against a team over a date range, day by day.

    The team compared with is ``filters.team`` when given, else the agent's own team.
    """
    requested_team = filters.team
    team_name = requested_team or agent.team
    filters = replace(filters, agent_id=None, team="").with_default_range()
    base = conversation_queryset(filters)
    own = base.filter(agent=agent)
    team = base.filter(agent__team=team_name) if team_name else base.filter(agent=agent)

    def daily(qs):
        out = {}
        rows = (
            qs.alias(s=EFFECTIVE_SENTIMENT)
            .annotate(day=TruncDate("started_at"))
            .values("day")
            .annotate(
                n=Count("id"), q=Avg(EFFECTIVE_QUALITY),
                neg=Count("id", filter=Q(s=Sentiment.NEGATIVE)), s_n=Count("s"),
                n_resolved=Count("id", filter=Q(resolved=True)), resolved_known=Count("resolved"),
                flagged=Count("review"),
            )
            .order_by("day")
        )
        for r in rows:
            out[r["day"]] = r
        return out

    own_daily, team_daily = daily(own), daily(team)
    rows = []
    d = filters.date_from
    while d <= filters.date_to:
        o, t = own_daily.get(d), team_daily.get(d)
        rows.append({
            "date": d,
            "volume": o["n"] if o else 0,
            "mean_quality": round(o["q"], 3) if o and o["q"] is not None else None,
            "negative_share": _share(o["neg"], o["s_n"]) if o else None,
            "resolution_rate": _share(o["n_resolved"], o["resolved_known"]) if o else None,
            "flagged": o["flagged"] if o else 0,
            "team_mean_quality": round(t["q"], 3) if t and t["q"] is not None else None,
        })
        d += dt.timedelta(days=1)

    team_agents = (
        team.values("agent_id")
        .annotate(q=Avg(EFFECTIVE_QUALITY), n=Count("id"))
        .filter(q__isnull=False)
        .order_by("-q", "agent_id")
    )
    ranking = [r["agent_id"] for r in team_agents]
    flagged = (
        ReviewItem.objects.filter(conversation__in=own.values("id"))
        .select_related("conversation", "reviewer")
        .order_by("status", "-created_at")[:100]
    )
    return {
        "filters": replace(filters, team=requested_team),
        "agent": agent,
        "team": team_name,
        "summary": _agent_summary(own),
        "team_summary": _agent_summary(team),
        "team_size": team.values("agent_id").distinct().count(),
        "rank": ranking.index(agent.id) + 1 if agent.id in ranking else None,
        "ranked_agents": len(ranking),
        "daily": rows,
        "flagged": list(flagged),
    }


AGENT_EXPORT_HEADER = [
    "date", "volume", "mean_quality", "negative_share", "resolution_rate", "flagged", "team_mean_quality",
    "qa_score", "qa_auto_fails",
]


# --- Review queue ------------------------------------------------------------------


def review_queue(*, status: str = ReviewItem.Status.PENDING) -> QuerySet[ReviewItem]:
    return (
        ReviewItem.objects.filter(status=status)
        .select_related("conversation", "conversation__agent", "prediction", "reviewer")
        .order_by("id")
    )


def review_counts() -> dict[str, int]:
    rows = ReviewItem.objects.order_by().values("status").annotate(n=Count("id"))
    counts = {s: 0 for s in ReviewItem.Status.values}
    counts.update({r["status"]: r["n"] for r in rows})
    return counts


def review_prev(*, before_id: int) -> ReviewItem | None:
    return (
        ReviewItem.objects.filter(status=ReviewItem.Status.PENDING, id__lt=before_id).order_by("-id").first()
    )


def review_item_detail(*, item_id: int) -> ReviewItem:
    return ReviewItem.objects.select_related(
        "conversation", "conversation__agent", "conversation__customer", "conversation__prediction",
        "prediction", "prediction__intent_version", "prediction__sentiment_version",
        "prediction__quality_version", "reviewer",
    ).prefetch_related("conversation__messages").get(pk=item_id)


# --- Models and jobs -----------------------------------------------------------------


def model_versions_by_task() -> list[dict]:
    versions = list(ModelVersion.objects.select_related("promoted_by").order_by("task", "-version"))
    history = list(
        Promotion.objects.select_related("model_version", "previous", "by").order_by("-at")[:200]
    )
    out = []
    for value, label in Task.choices:
        task_versions = [v for v in versions if v.task == value]
        out.append({
            "task": value,
            "label": label,
            "versions": task_versions,
            "production": next((v for v in task_versions if v.status == ModelVersion.Status.PRODUCTION), None),
            "history": [p for p in history if p.task == value][:20],
        })
    return out


def job_list(*, limit: int = 50):
    # The scoring step an assessment starts for itself is shown on the assessment; listed alone it is
    # noise once it has found nothing to score.
    empty_chained = Q(kind="score", status=Job.Status.SUCCEEDED, total=0, params__has_key="then_assess_job")
    return Job.objects.select_related("created_by").exclude(empty_chained).order_by("-created_at")[:limit]


def job_status(*, ids: list[int]) -> list[dict]:
    rows = Job.objects.filter(id__in=ids[:100]).values(
        "id", "kind", "status", "total", "done", "failed", "error", "started_at", "finished_at", "steps",
    )
    out = []
    for r in rows:
        total = r["total"]
        r["progress"] = round(100.0 * (r["done"] + r["failed"]) / total, 1) if total else 0.0
        r["error"] = (r["error"] or "")[:500]
        r["steps"] = (r["steps"] or [])[-5:]
        for key in ("started_at", "finished_at"):
            value = r[key]
            r[key] = value.isoformat() if value else None
            # What the page prints: local time (``TIME_ZONE``), as the server-rendered rows do.
            r[key.replace("_at", "_local")] = timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else None
        out.append(r)
    return out
