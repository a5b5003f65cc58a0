"""Reads of QA data, scoped to what the user may see."""
from __future__ import annotations

import datetime as dt

from django.db.models import Count, QuerySet, Sum

from apps.agents.models import Agent
from apps.core.roles import scope_queryset

from .models import Assignment, CriterionAnswer, Dispute, QaDailyAgent, QaResult


def results_for_user(*, user) -> QuerySet[QaResult]:
    return scope_queryset(
        user, QaResult.objects.select_related("conversation__agent", "scorecard_version__scorecard"),
        agent_path="conversation__agent",
    )


def result_detail(*, result: QaResult) -> dict:
    """A result with its answers, questions and evidence, and the transcript the evidence points into."""
    answers = (
        CriterionAnswer.objects.filter(result=result)
        .select_related("criterion__section", "overridden_by")
        .order_by("criterion__section__order", "criterion__order", "criterion_id")
    )
    messages = list(result.conversation.messages.order_by("seq").values("seq", "speaker", "text", "sent_at"))
    open_disputes = dict(
        Dispute.objects.filter(answer__result=result, status=Dispute.Status.OPEN).values_list("answer_id", "pk")
    )
    return {"result": result, "answers": list(answers), "messages": messages, "open_disputes": open_disputes}


def disputes_for_user(*, user, status: str | None = None) -> QuerySet[Dispute]:
    qs = Dispute.objects.select_related(
        "answer__criterion", "answer__result__conversation__agent", "opened_by", "resolved_by"
    )
    if status:
        qs = qs.filter(status=status)
    return scope_queryset(user, qs, agent_path="answer__result__conversation__agent")


def assignments_for_user(*, user, status: str = Assignment.Status.OPEN) -> QuerySet[Assignment]:
    qs = Assignment.objects.filter(status=status).select_related("conversation__agent", "result", "sampling_rule")
    return scope_queryset(user, qs, agent_path="conversation__agent")


def qa_trend(*, since: dt.date, until: dt.date, agent: Agent | None = None, team: str | None = None) -> list[dict]:
    """Average QA score and auto-fails per day (weighted by conversations)."""
    qs = QaDailyAgent.objects.filter(date__gte=since, date__lte=until)
    if agent is not None:
        qs = qs.filter(agent=agent)
    if team:
        qs = qs.filter(team=team)
    rows = qs.values("date").annotate(n=Sum("n"), score_sum=Sum("score_sum"), auto_fails=Sum("auto_fails")).order_by("date")
    return [
        {"date": r["date"], "n": r["n"], "auto_fails": r["auto_fails"],
         "avg_score": round(r["score_sum"] / r["n"], 2) if r["n"] else None}
        for r in rows
    ]


def criteria_failed_most(*, since: dt.date, until: dt.date, agent: Agent | None = None, team: str | None = None,
                         limit: int = 5) -> list[dict]:
    """The criteria with the lowest pass rate over the period: ``[{key, passed, answered, rate}]``."""
    qs = QaDailyAgent.objects.filter(date__gte=since, date__lte=until)
    if agent is not None:
        qs = qs.filter(agent=agent)
    if team:
        qs = qs.filter(team=team)
    totals: dict[str, list[int]] = {}
    for per_criterion in qs.values_list("criterion_pass", flat=True):
        for key, (passed, answered) in (per_criterion or {}).items():
            t = totals.setdefault(key, [0, 0])
            t[0] += passed
            t[1] += answered
    rows = [
        {"key": k, "passed": p, "answered": a, "rate": round(p / a, 3)} for k, (p, a) in totals.items() if a
    ]
    return sorted(rows, key=lambda r: (r["rate"], -r["answered"]))[:limit]


def team_summary(*, date: dt.date) -> list[dict]:
    """QA per team for one day."""
    rows = (
        QaDailyAgent.objects.filter(date=date).values("team")
        .annotate(n=Sum("n"), score_sum=Sum("score_sum"), auto_fails=Sum("auto_fails"), agents=Count("agent"))
        .order_by("team")
    )
    return [{**r, "avg_score": round(r["score_sum"] / r["n"], 2) if r["n"] else None} for r in rows]
