"""Reads for the managers' console.

Every number is computed by the database (``values()`` + ``annotate()`` group-bys);
Python only folds the grouped rows (a few hundred at most) into chart series.

Reviewed labels win over model output: the effective label of a conversation is
``Coalesce(NullIf(review.<field>, ''), conversation.predicted_<field>)`` over the
LEFT JOIN to its ``ReviewItem`` (the fields there are only filled by
``apps.scoring.services.review.review_submit``).

This module holds the filters, the base queryset and the overview; the reads for the
conversation list/export/detail, agent report, review queue and models/jobs pages are
in ``selectors_detail``.
"""
from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from django.db.models import (
    Count, DurationField, ExpressionWrapper, F, FloatField, IntegerField, Max, Q, QuerySet, Sum, Value,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import (
    Cast, Coalesce, ExtractHour, ExtractIsoWeekDay, Floor, NullIf, TruncDate, TruncHour,
)
from django.utils import timezone

from apps.agents.models import Agent
from apps.conversations.models import Conversation
from apps.core.labels import INTENTS_EN, INTENTS_ZH, Sentiment
from apps.scoring.models import ReviewItem

DEFAULT_RANGE_DAYS = 30
QUALITY_BINS = [1, 2, 3, 4, 5]
SENTIMENTS = [Sentiment.NEGATIVE.value, Sentiment.NEUTRAL.value, Sentiment.POSITIVE.value]

EFFECTIVE_INTENT = Coalesce(NullIf("review__intent", Value("")), "predicted_intent")
EFFECTIVE_SENTIMENT = Coalesce(NullIf("review__sentiment", Value("")), NullIf("predicted_sentiment", Value("")))
EFFECTIVE_QUALITY = Coalesce("review__quality", "predicted_quality")
# Operations metrics from message timestamps. First response: from the customer's first message to
# the agent's reply, in seconds, as derived from the messages on ingest (``features.first_response_s``,
# ``ml.features.conversation_features``) so that no query joins the messages; handle time: from
# the conversation's start to its end. Both are NULL where unknown and so left out of the means.
# (SQLite's text extraction gives 'null' for a JSON null, PostgreSQL's gives NULL: both become NULL.)
FIRST_RESPONSE = Cast(NullIf(KeyTextTransform("first_response_s", "features"), Value("null")), FloatField())
HANDLE_TIME = ExpressionWrapper(F("ended_at") - F("started_at"), output_field=DurationField())
# Scores are floats in [1, 5]; a bin is the nearest whole score, halves up (4.5 -> 5).
# Floor(x + 0.5) rather than Round(): PostgreSQL rounds doubles half-to-even, SQLite half-up.
QUALITY_BIN = Cast(Floor(EFFECTIVE_QUALITY + Value(0.5)), IntegerField())


@dataclass(frozen=True)
class ConversationFilters:
    """What the overview, the conversation list and the exports filter on."""

    date_from: dt.date | None = None
    date_to: dt.date | None = None
    channel: str = ""
    team: str = ""
    intent: str = ""
    sentiment: str = ""
    quality: int | None = None
    agent_id: int | None = None
    review_status: str = ""  # "", "pending", "reviewed", "skipped", "any", "none"
    uncertain: bool | None = None
    search: str = ""
    group: str = "day"  # the trend charts' bucket: "day", "week" or "month"
    extra: dict[str, Any] = field(default_factory=dict)

    def with_default_range(self) -> "ConversationFilters":
        """Fill a missing range with the 30 days ending at the newest conversation."""
        if self.date_from and self.date_to:
            return self
        date_to = self.date_to or latest_conversation_date()
        date_from = self.date_from or (date_to - dt.timedelta(days=DEFAULT_RANGE_DAYS - 1))
        return replace(self, date_from=date_from, date_to=date_to)


    def previous_period(self) -> "ConversationFilters":
        """The same filters over the equally long range just before this one (range required)."""
        length = self.date_to - self.date_from + dt.timedelta(days=1)
        return replace(self, date_from=self.date_from - length, date_to=self.date_from - dt.timedelta(days=1))


def period_range(period: str, *, today: dt.date) -> tuple[dt.date, dt.date]:
    """The dates (inclusive) of a preset period; weeks start on Monday."""
    monday = today - dt.timedelta(days=today.weekday())
    if period == "today":
        return today, today
    if period == "this_week":
        return monday, today
    if period == "last_week":
        return monday - dt.timedelta(days=7), monday - dt.timedelta(days=1)
    if period == "this_month":
        return today.replace(day=1), today
    if period == "last_30_days":
        return today - dt.timedelta(days=29), today
    raise ValueError(f"unknown period: {period}")


def bucket_start(day: dt.date, group: str) -> dt.date:
    """The first day of the week (Monday) or month holding ``day``; ``day`` itself for "day"."""
    if group == "week":
        return day - dt.timedelta(days=day.weekday())
    if group == "month":
        return day.replace(day=1)
    return day


def latest_conversation_date() -> dt.date:
    """The local date of the newest conversation (an index lookup), today when there is none."""
    latest = Conversation.objects.order_by().aggregate(m=Max("started_at"))["m"]
    return timezone.localdate(latest) if latest else timezone.localdate()


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def conversation_queryset(filters: ConversationFilters) -> QuerySet[Conversation]:
    """Conversations matching ``filters``, with the effective labels as aliases.

    The range is turned into aware datetimes so the ``started_at`` index serves it.
    """
    qs = Conversation.objects.order_by()
    f = filters
    if f.date_from:
        qs = qs.filter(started_at__gte=_day_start(f.date_from))
    if f.date_to:
        qs = qs.filter(started_at__lt=_day_start(f.date_to + dt.timedelta(days=1)))
    if f.channel:
        qs = qs.filter(channel=f.channel)
    if f.team:
        qs = qs.filter(agent__team=f.team)
    if f.agent_id:
        qs = qs.filter(agent_id=f.agent_id)
    if f.uncertain is not None:
        qs = qs.filter(uncertain=f.uncertain)
    if f.search:
        qs = qs.filter(Q(external_id__icontains=f.search) | Q(customer__external_id=f.search))
    if f.intent:
        qs = qs.alias(eff_intent=EFFECTIVE_INTENT).filter(eff_intent=f.intent)
    if f.sentiment:
        qs = qs.alias(eff_sentiment=EFFECTIVE_SENTIMENT).filter(eff_sentiment=f.sentiment)
    if f.quality:
        qs = qs.alias(eff_qbin=QUALITY_BIN).filter(eff_qbin=f.quality)
    if f.review_status == "any":
        qs = qs.filter(review__isnull=False)
    elif f.review_status == "none":
        qs = qs.filter(review__isnull=True)
    elif f.review_status:
        qs = qs.filter(review__status=f.review_status)
    return qs


# --- Overview --------------------------------------------------------------


def overview_daily(filters: ConversationFilters) -> list[dict]:
    """Rows of (day, effective sentiment) with volume and the quality sum/count."""
    rows = (
        conversation_queryset(filters)
        .annotate(day=TruncDate("started_at"), s=EFFECTIVE_SENTIMENT)
        .values("day", "s")
        .annotate(n=Count("id"), q_sum=Sum(EFFECTIVE_QUALITY), q_n=Count(EFFECTIVE_QUALITY))
        .order_by("day", "s")
    )
    return list(rows)


def overview_hourly(filters: ConversationFilters) -> list[dict]:
    """Rows of (local hour, effective sentiment) with volume and the quality sum/count.

    One scan feeds the daily trend, sentiment over time and the weekday x hour heatmap
    (at most 24 x 3 rows a day; Python folds them).
    """
    rows = (
        conversation_queryset(filters)
        .annotate(hr=TruncHour("started_at"), s=EFFECTIVE_SENTIMENT)
        .values("hr", "s")
        .annotate(n=Count("id"), q_sum=Sum(EFFECTIVE_QUALITY), q_n=Count(EFFECTIVE_QUALITY))
        .order_by()
    )
    return list(rows)


def overview_mix(filters: ConversationFilters) -> list[dict]:
    """Rows of (effective intent, channel, quality bin) with volume: three distributions in one scan."""
    rows = (
        conversation_queryset(filters)
        .annotate(i=EFFECTIVE_INTENT, qb=QUALITY_BIN)
        .values("i", "channel", "qb")
        .annotate(n=Count("id"))
        .order_by()
    )
    return list(rows)


def overview_heatmap(filters: ConversationFilters) -> list[dict]:
    """Volume per ISO weekday (1 = Monday) and local hour."""
    rows = (
        conversation_queryset(filters)
        .annotate(wd=ExtractIsoWeekDay("started_at"), hr=ExtractHour("started_at"))
        .values("wd", "hr")
        .annotate(n=Count("id"))
        .order_by()
    )
    return list(rows)


OPERATIONS_AGGREGATES = {
    "frt_sum": Sum(FIRST_RESPONSE), "frt_n": Count(FIRST_RESPONSE),
    "aht_sum": Sum(HANDLE_TIME), "aht_n": Count(HANDLE_TIME),
}


def _seconds(total: dt.timedelta | float | None, n: int) -> float | None:
    """The mean of a summed duration (or of summed seconds) in seconds, one decimal."""
    if not n or total is None:
        return None
    seconds = total.total_seconds() if isinstance(total, dt.timedelta) else float(total)
    return round(seconds / n, 1)


def metrics_fold(rows: list[dict]) -> dict:
    """The headline figures of grouped rows carrying ``overview_agents``' aggregates."""
    t: dict[str, Any] = {}
    for r in rows:
        for k, v in r.items():
            if k in ("agent_id", "key") or v is None:
                continue
            t[k] = t.get(k, 0) + v if not isinstance(v, dt.timedelta) else t.get(k, dt.timedelta()) + v
    n = t.get("n", 0)
    return {
        "total": n,
        "mean_quality": _mean(t.get("q_sum"), t.get("q_n", 0)),
        "negative_share": _share(t.get("neg", 0), t.get("s_n", 0)),
        "resolution_rate": _share(t.get("n_resolved", 0), t.get("resolved_known", 0)),
        "mean_csat": _mean(t.get("csat_sum"), t.get("csat_n", 0)),
        "csat_response_rate": _share(t.get("csat_n", 0), n),
        "first_response_s": _seconds(t.get("frt_sum"), t.get("frt_n", 0)),
        "handle_time_s": _seconds(t.get("aht_sum"), t.get("aht_n", 0)),
        "uncertain": t.get("uncertain_n", 0),
        "unscored": t.get("unscored", 0),
    }


def overview_agents(filters: ConversationFilters) -> list[dict]:
    """Per agent (None = unassigned): volume, quality, negative share, resolution, CSAT, uncertain."""
    rows = (
        conversation_queryset(filters)
        .alias(s=EFFECTIVE_SENTIMENT)
        .values("agent_id")
        .annotate(
            n=Count("id"),
            q_sum=Sum(EFFECTIVE_QUALITY),
            q_n=Count(EFFECTIVE_QUALITY),
            neg=Count("id", filter=Q(s=Sentiment.NEGATIVE)),
            s_n=Count("s"),
            n_resolved=Count("id", filter=Q(resolved=True)),
            resolved_known=Count("resolved"),
            csat_sum=Sum("csat"),
            csat_n=Count("csat"),
            uncertain_n=Count("id", filter=Q(uncertain=True)),
            unscored=Count("id", filter=Q(predicted_intent="")),
            **OPERATIONS_AGGREGATES,
        )
        .order_by()
    )
    return list(rows)


@contextmanager
def _reporting_transaction():
    """On PostgreSQL, give the grouped reads enough sort/hash memory not to spill to disk."""
    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem = '64MB'")
        yield


def _share(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


def _mean(total: float | None, n: int) -> float | None:
    return round(total / n, 3) if n and total is not None else None


KPI_KEYS = [
    "total", "mean_quality", "negative_share", "resolution_rate", "mean_csat", "csat_response_rate",
    "first_response_s", "handle_time_s", "uncertain", "unscored", "pending_review",
]


def _pending_review(filters: ConversationFilters) -> int:
    return conversation_queryset(filters).filter(review__status=ReviewItem.Status.PENDING).count()


def _kpi_changes(current: dict, previous: dict) -> dict:
    """Per KPI: the previous period's value and the change (absolute; None where either is unknown)."""
    out = {}
    for key in KPI_KEYS:
        a, b = current.get(key), previous.get(key)
        delta = round(a - b, 4) if a is not None and b is not None else None
        out[key] = {"previous": b, "delta": delta}
    return out


def overview_data(filters: ConversationFilters, *, ranking_min_volume: int = 5) -> dict:
    """Everything the overview page draws, from grouped queries over this and the previous period."""
    filters = filters.with_default_range()
    previous = filters.previous_period()
    with _reporting_transaction():
        hourly_rows = overview_hourly(filters)
        mix_rows = overview_mix(filters)
        agent_rows = overview_agents(filters)
        previous_rows = overview_agents(previous)
        pending = _pending_review(filters)
        previous_pending = _pending_review(previous)

    # Volume, quality and sentiment per bucket (day, week or month).
    group = filters.group if filters.group in ("day", "week", "month") else "day"
    buckets: list[dt.date] = []
    d = filters.date_from
    while d <= filters.date_to:
        b = bucket_start(d, group)
        if not buckets or buckets[-1] != b:
            buckets.append(b)
        d += dt.timedelta(days=1)
    index = {b: i for i, b in enumerate(buckets)}
    volume = [0] * len(buckets)
    q_sum = [0.0] * len(buckets)
    q_n = [0] * len(buckets)
    by_sentiment = {s: [0] * len(buckets) for s in SENTIMENTS}
    sentiment_totals = {s: 0 for s in SENTIMENTS}
    heatmap = [[0] * 24 for _ in range(7)]
    for r in hourly_rows:
        local = timezone.localtime(r["hr"]) if timezone.is_aware(r["hr"]) else r["hr"]
        heatmap[local.isoweekday() - 1][local.hour] += r["n"]
        if not filters.date_from <= local.date() <= filters.date_to:
            continue
        i = index[bucket_start(local.date(), group)]
        volume[i] += r["n"]
        q_sum[i] += r["q_sum"] or 0.0
        q_n[i] += r["q_n"]
        if r["s"] in by_sentiment:
            by_sentiment[r["s"]][i] += r["n"]
            sentiment_totals[r["s"]] += r["n"]

    intents: dict[str, int] = {}
    channels: dict[str, int] = {}
    quality_hist = {b: 0 for b in QUALITY_BINS}
    for r in mix_rows:
        if r["i"]:
            intents[r["i"]] = intents.get(r["i"], 0) + r["n"]
        channels[r["channel"]] = channels.get(r["channel"], 0) + r["n"]
        if r["qb"] is not None:
            b = min(max(int(r["qb"]), 1), 5)
            quality_hist[b] += r["n"]

    agent_map = {
        a.id: a for a in Agent.objects.filter(id__in=[r["agent_id"] for r in agent_rows if r["agent_id"]])
    }
    agents = []
    for r in agent_rows:
        agent = agent_map.get(r["agent_id"])
        if agent is None:
            continue
        m = metrics_fold([r])
        agents.append({
            "id": agent.id, "name": agent.name, "team": agent.team, "volume": r["n"],
            **{k: m[k] for k in ("mean_quality", "negative_share", "resolution_rate", "mean_csat",
                                 "csat_response_rate", "first_response_s", "handle_time_s")},
        })
    agents.sort(key=lambda a: (-a["volume"], a["name"]))
    ranked = sorted(
        (a for a in agents if a["mean_quality"] is not None and a["volume"] >= ranking_min_volume),
        key=lambda a: (-a["mean_quality"], -a["volume"], a["name"]),
    )
    kpis = {**metrics_fold(agent_rows), "pending_review": pending}
    previous_kpis = {**metrics_fold(previous_rows), "pending_review": previous_pending}
    return {
        "filters": filters,
        "previous_filters": previous,
        "group": group,
        "kpis": kpis,
        "kpi_changes": _kpi_changes(kpis, previous_kpis),
        "days": [b.isoformat() for b in buckets],
        "daily_volume": volume,
        "daily_quality": [round(s / n, 3) if n else None for s, n in zip(q_sum, q_n)],
        "sentiment_daily": by_sentiment,
        "sentiment": sentiment_totals,
        "intents": sorted(intents.items(), key=lambda kv: (-kv[1], kv[0])),
        "channels": sorted(channels.items(), key=lambda kv: (-kv[1], kv[0])),
        "quality_hist": [quality_hist[b] for b in QUALITY_BINS],
        "heatmap": heatmap,
        "heatmap_max": max((max(row) for row in heatmap), default=0),
        "agents": agents,
        "agent_ranking": ranked,
    }


# --- Choices for the filter forms ---------------------------------------------


def team_choices() -> list[str]:
    return list(Agent.objects.exclude(team="").order_by("team").values_list("team", flat=True).distinct())


def intent_choices() -> list[str]:
    """Intents the models or the reviewers have used, for the datalists.

    A DISTINCT over every conversation costs a full index scan on large tables, so the
    result is cached for ten minutes; the known label sets come first.
    """
    from django.core.cache import cache


    def used() -> list[str]:
        seen = set(
            Conversation.objects.exclude(predicted_intent="").order_by()
            .values_list("predicted_intent", flat=True).distinct()
        )
        seen |= set(ReviewItem.objects.exclude(intent="").order_by().values_list("intent", flat=True).distinct())
        return sorted(seen)

    seen = set(cache.get_or_set("dashboard:intent_choices", used, 600))
    ordered = [i for i in INTENTS_ZH + INTENTS_EN if i in seen]
    return ordered + sorted(seen - set(ordered))
