"""Calibration sessions: several reviewers grade the same conversations blind, then their
agreement per criterion is measured (percent agreement and Fleiss' kappa)."""
from __future__ import annotations

from collections import Counter

from django.db import transaction
from django.utils.translation import gettext as _

from apps.conversations.models import Conversation
from apps.core.exceptions import ApplicationError, Conflict
from apps.core.services import audit_record

from . import rules
from .models import CalibrationGrade, CalibrationSession, Criterion, ScorecardVersion


def fleiss_kappa(table: list[list[int]]) -> float | None:
    """Fleiss' kappa of a subjects × categories table of rating counts (same raters per subject).

    None when it is undefined: fewer than 2 raters, or every rating in one category.
    """
    if not table:
        return None
    n = sum(table[0])
    if n < 2 or any(sum(row) != n for row in table):
        return None
    subjects = len(table)
    p_j = [sum(row[j] for row in table) / (subjects * n) for j in range(len(table[0]))]
    p_i = [(sum(c * c for c in row) - n) / (n * (n - 1)) for row in table]
    p_bar = sum(p_i) / subjects
    p_e = sum(p * p for p in p_j)
    if p_e >= 1:
        return None
    return (p_bar - p_e) / (1 - p_e)


def percent_agreement(table: list[list[int]]) -> float | None:
    """Share of agreeing rater pairs, averaged over subjects."""
    rates = []
    for row in table:
        n = sum(row)
        if n >= 2:
            rates.append(sum(c * (c - 1) for c in row) / (n * (n - 1)))
    return sum(rates) / len(rates) if rates else None


@transaction.atomic
def calibration_session_create(*, name: str, version: ScorecardVersion, conversation_ids: list[int],
                               reviewer_ids: list[int], actor=None) -> CalibrationSession:
    from django.contrib.auth import get_user_model

    name = (name or "").strip()
    if not name:
        raise ApplicationError(_("Name the session."), {"name": _("This field is required.")})
    if version.status == ScorecardVersion.Status.DRAFT:
        raise ApplicationError(_("Calibrate with a published version."), {"scorecard_version": _("This version is a draft.")})
    conversations = list(Conversation.objects.filter(pk__in=conversation_ids))
    if not conversations or len(conversations) != len(set(conversation_ids)):
        raise ApplicationError(_("Choose existing conversations."), {"conversations": _("Unknown conversation ids.")})
    reviewers = list(get_user_model().objects.filter(pk__in=reviewer_ids, is_active=True))
    if len(reviewers) < 2 or len(reviewers) != len(set(reviewer_ids)):
        raise ApplicationError(_("A calibration needs at least two reviewers."), {"reviewers": _("At least two users.")})
    session = CalibrationSession.objects.create(name=name, scorecard_version=version,
                                                created_by=actor if getattr(actor, "pk", None) else None)
    session.conversations.set(conversations)
    session.reviewers.set(reviewers)
    audit_record(action="qa.calibration.create", actor=actor, target=session,
                 data={"conversations": len(conversations), "reviewers": len(reviewers)})
    return session


@transaction.atomic
def calibration_grade_submit(*, session: CalibrationSession, conversation: Conversation, reviewer,
                             answers: dict[str, str]) -> int:
    """One reviewer's answers (criterion key → answer) for one conversation of the session."""
    if session.status != CalibrationSession.Status.OPEN:
        raise Conflict(_("This calibration session is closed."))
    if not session.reviewers.filter(pk=reviewer.pk).exists():
        raise ApplicationError(_("You are not a reviewer of this session."), {"reviewer": _("Not in the session.")})
    if not session.conversations.filter(pk=conversation.pk).exists():
        raise ApplicationError(_("This conversation is not in the session."), {"conversation": conversation.pk})
    criteria = {c.key: c for c in Criterion.objects.filter(section__version=session.scorecard_version)}
    rows = []
    for key, value in (answers or {}).items():
        criterion = criteria.get(key)
        if criterion is None:
            raise ApplicationError(_("Unknown criterion %(k)s.") % {"k": key}, {f"answers.{key}": _("Not in this scorecard.")})
        answer = rules.answer_validate(scale=criterion.scale, answer=value, field_name=f"answers.{key}")
        rows.append(CalibrationGrade(session=session, conversation=conversation, reviewer=reviewer, criterion=criterion,
                                     answer=answer))
    CalibrationGrade.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["session", "conversation", "reviewer", "criterion"],
        update_fields=["answer"],
    )
    return len(rows)


def calibration_report(*, session: CalibrationSession) -> list[dict]:
    """Per criterion: conversations graded by every reviewer, percent agreement and Fleiss' kappa."""
    n_reviewers = session.reviewers.count()
    grades: dict[int, dict[int, list[str]]] = {}
    for criterion_id, conversation_id, answer in session.grades.values_list("criterion_id", "conversation_id", "answer"):
        grades.setdefault(criterion_id, {}).setdefault(conversation_id, []).append(answer)
    report = []
    for criterion in Criterion.objects.filter(section__version=session.scorecard_version).order_by("section__order", "order"):
        complete = [answers for answers in grades.get(criterion.pk, {}).values() if len(answers) == n_reviewers]
        categories = sorted({a for answers in complete for a in answers})
        table = [[Counter(answers)[c] for c in categories] for answers in complete]
        kappa = fleiss_kappa(table)
        agreement = percent_agreement(table)
        report.append({
            "criterion": criterion.key, "question_en": criterion.question_en, "question_zh": criterion.question_zh,
            "conversations": len(complete),
            "percent_agreement": round(100 * agreement, 1) if agreement is not None else None,
            "fleiss_kappa": round(kappa, 3) if kappa is not None else None,
        })
    return report
