"""The nightly QA step of one day: score what the active scorecard has not scored, aggregate per
agent and day, and turn QA results and sampling rules into reviewer assignments.

It runs inside the quality assessment's aggregation transaction (``assessment_aggregating``), so
its rows commit or roll back with the assessment's; running it again for a day rewrites the same
aggregate rows and creates no duplicate assignment.
"""
from __future__ import annotations

import datetime as dt
import random

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.utils import timezone

from apps.conversations.models import Conversation
from apps.scoring.models import ReviewItem

from .models import Assignment, CriterionAnswer, QaDailyAgent, QaResult, SamplingRule, ScorecardVersion
from .services import active_version, qa_results_upsert

BATCH = 2000
PASSING = ("yes", "3", "4", "5")
ANSWERED = PASSING + ("no", "1", "2")


def day_bounds(date: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = timezone.make_aware(dt.datetime.combine(date, dt.time.min), timezone.get_current_timezone())
    return start, start + dt.timedelta(days=1)


def qa_unscored_score(*, date: dt.date, version: ScorecardVersion) -> int:
    """Score the day's conversations that have no result for ``version``; returns how many."""
    start, end = day_bounds(date)
    ids = list(
        Conversation.objects.filter(started_at__gte=start, started_at__lt=end)
        .exclude(qa_results__scorecard_version=version).order_by("pk").values_list("pk", flat=True)
    )
    for i in range(0, len(ids), BATCH):
        qa_results_upsert(conversation_ids=ids[i:i + BATCH], version=version)
    return len(ids)


def qa_daily_aggregate(*, date: dt.date, version: ScorecardVersion) -> int:
    """Upsert one ``QaDailyAgent`` row per agent with results on ``date``; returns the row count."""
    start, end = day_bounds(date)
    results = QaResult.objects.filter(
        scorecard_version=version, conversation__started_at__gte=start, conversation__started_at__lt=end,
        conversation__agent__isnull=False,
    )
    per_agent = results.values("conversation__agent", "conversation__agent__team").annotate(
        n=Count("pk"), score_sum=Sum("score", default=0.0), scored=Count("score"),
        auto_fails=Count("pk", filter=Q(auto_failed=True)),
    )
    answers = (
        CriterionAnswer.objects.filter(result__in=results, answer__in=ANSWERED)
        .values("result__conversation__agent", "criterion__key")
        .annotate(answered=Count("pk"), passed=Count("pk", filter=Q(answer__in=PASSING)))
    )
    passes: dict[int, dict[str, list[int]]] = {}
    for row in answers:
        passes.setdefault(row["result__conversation__agent"], {})[row["criterion__key"]] = [row["passed"], row["answered"]]
    rows = [
        QaDailyAgent(
            date=date, agent_id=r["conversation__agent"], team=r["conversation__agent__team"] or "",
            scorecard_version=version, n=r["scored"], score_sum=r["score_sum"],
            avg_score=round(r["score_sum"] / r["scored"], 2) if r["scored"] else None, auto_fails=r["auto_fails"],
            criterion_pass=passes.get(r["conversation__agent"], {}),
        )
        for r in per_agent
    ]
    QaDailyAgent.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["date", "agent", "scorecard_version"],
        update_fields=["team", "n", "score_sum", "avg_score", "auto_fails", "criterion_pass"],
    )
    return len(rows)


def assignments_from_sampling(*, date: dt.date, version: ScorecardVersion) -> int:
    """Create assignments from the active sampling rules for ``date``; returns how many were new."""
    start, end = day_bounds(date)
    day = QaResult.objects.filter(
        scorecard_version=version, conversation__started_at__gte=start, conversation__started_at__lt=end
    )
    new: list[Assignment] = []
    for rule in SamplingRule.objects.filter(active=True).order_by("pk"):
        if rule.kind == SamplingRule.Kind.AUTO_FAIL:
            picked = day.filter(auto_failed=True).values_list("pk", "conversation_id")
            reason = "auto_fail"
        elif rule.kind == SamplingRule.Kind.SCORE_BELOW:
            threshold = rule.threshold if rule.threshold is not None else version.pass_threshold
            picked = day.filter(score__lt=threshold, auto_failed=False).values_list("pk", "conversation_id")
            reason = "low_score"
        else:
            picked, reason = _random_per_agent(rule, day, date), "random"
        new += [
            Assignment(conversation_id=cid, result_id=rid, sampling_rule=rule, reason=reason, reviewer=rule.reviewer)
            for rid, cid in picked
        ]
    before = Assignment.objects.count()
    Assignment.objects.bulk_create(new, ignore_conflicts=True, batch_size=1000)
    return Assignment.objects.count() - before


def _random_per_agent(rule: SamplingRule, day, date: dt.date) -> list[tuple[int, int]]:
    """Top up each agent's random assignments of the last ``period_days`` days to ``count``.

    The pick is seeded by the date and the agent, so re-running a day picks the same conversations.
    """
    window_start, _ = day_bounds(date - dt.timedelta(days=max(1, rule.period_days) - 1))
    already = dict(
        Assignment.objects.filter(reason="random", conversation__started_at__gte=window_start)
        .values("conversation__agent").annotate(n=Count("pk")).values_list("conversation__agent", "n")
    )
    by_agent: dict[int, list[tuple[int, int]]] = {}
    for rid, cid, agent in day.filter(conversation__agent__isnull=False).order_by("pk").values_list(
        "pk", "conversation_id", "conversation__agent"
    ):
        by_agent.setdefault(agent, []).append((rid, cid))
    picked: list[tuple[int, int]] = []
    for agent, rows in by_agent.items():
        want = rule.count - already.get(agent, 0)
        if want > 0:
            picked += random.Random(f"{date.isoformat()}:{agent}").sample(rows, min(want, len(rows)))
    return picked


REASON_QA_AUTO_FAIL = "qa_auto_fail"
REASON_QA_LOW_SCORE = "qa_low_score"


def review_items_flag(*, date: dt.date, version: ScorecardVersion) -> dict:
    """Put the day's auto-failed and low-scoring conversations into the review queue.

    A conversation whose result auto-failed gets the reason ``qa_auto_fail``; one that scored below
    ``QA_REVIEW_BELOW`` gets ``qa_low_score``. A conversation already in the queue keeps its item
    and gains the reason; running it again adds nothing twice. Returns ``{"flagged", "extended"}``:
    new items and existing items that gained a reason.
    """
    start, end = day_bounds(date)
    below = settings.QA_REVIEW_BELOW
    rows = QaResult.objects.filter(
        scorecard_version=version, conversation__started_at__gte=start, conversation__started_at__lt=end,
    ).filter(Q(auto_failed=True) | Q(score__lt=below)).values_list(
        "conversation_id", "conversation__prediction_id", "auto_failed"
    )
    wanted = {
        cid: (pred, REASON_QA_AUTO_FAIL if failed else REASON_QA_LOW_SCORE) for cid, pred, failed in rows
    }
    existing = ReviewItem.objects.filter(conversation_id__in=list(wanted)).only("pk", "conversation_id", "reasons")
    extended = []
    for item in existing:
        reason = wanted.pop(item.conversation_id)[1]
        if reason not in (item.reasons or []):
            item.reasons = [*(item.reasons or []), reason]
            extended.append(item)
    ReviewItem.objects.bulk_update(extended, ["reasons"], batch_size=1000)
    new = [
        ReviewItem(conversation_id=cid, prediction_id=pred, reasons=[reason]) for cid, (pred, reason) in wanted.items()
    ]
    ReviewItem.objects.bulk_create(new, ignore_conflicts=True, batch_size=1000)
    return {"flagged": len(new), "extended": len(extended)}


def qa_assessment_run(*, date: dt.date) -> dict:
    """The QA part of the nightly assessment of ``date``."""
    version = active_version()
    if version is None:
        return {"qa": "no active scorecard"}
    scored = qa_unscored_score(date=date, version=version)
    agents = qa_daily_aggregate(date=date, version=version)
    assigned = assignments_from_sampling(date=date, version=version)
    review = review_items_flag(date=date, version=version)
    return {
        "version": version.pk, "scored": scored, "agents": agents, "assignments": assigned,
        "review_flagged": review["flagged"], "review_extended": review["extended"],
    }
