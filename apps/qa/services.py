"""QA services: scorecards and their versions, scoring conversations, reviews and disputes.

A published scorecard version is immutable: edits go to a draft version, which publishing
turns into the new published version (the previous one is retired, its results kept).
QA results are upserted per (conversation, scorecard version), so scoring a chunk again
(a replayed task, a re-score job) rewrites the same rows; answers a reviewer set are kept.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
from functools import partial
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.conversations.models import Conversation, Message
from apps.core.cache import TTLCache
from apps.core.exceptions import ApplicationError, Conflict, NotFound
from apps.core.pgcopy import is_postgres
from apps.core.roles import Role, user_agent_id, user_can_resolve_for_agent, user_role
from apps.core.services import audit_record

from . import rules
from .learned import learned_production_version, model_answers
from .models import (
    Assignment,
    Criterion,
    CriterionAnswer,
    Dispute,
    QaResult,
    Scale,
    Scorecard,
    ScorecardVersion,
    Section,
)

logger = logging.getLogger(__name__)

MAX_POINTS = 1000.0


def _user(actor):
    """``actor`` when it is a user row (not an API key or None): what foreign keys to users may hold."""
    return actor if getattr(actor, "pk", None) and hasattr(actor, "_meta") else None


# ---------------------------------------------------------------- scorecard content


def _text(value: Any, field_name: str, *, max_length: int, required: bool = True) -> str:
    value = "" if value is None else str(value).strip()
    if required and not value:
        raise ApplicationError(_("%(f)s is required.") % {"f": field_name}, {field_name: _("This field is required.")})
    if len(value) > max_length:
        raise ApplicationError(
            _("%(f)s is too long.") % {"f": field_name}, {field_name: _("At most %(n)d characters.") % {"n": max_length}}
        )
    return value


def _str_list(value: Any, field_name: str) -> list[str]:
    if value in (None, ""):
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ApplicationError(_("%(f)s must be a list of names.") % {"f": field_name}, {field_name: _("A list of strings.")})
    return [v.strip() for v in value]


def criterion_validate(data: dict, *, field_name: str) -> dict:
    """Check one criterion's fields (rule included); returns the cleaned values."""
    if not isinstance(data, dict):
        raise ApplicationError(_("A criterion must be an object."), {field_name: _("Expected an object.")})
    key = _text(data.get("key"), f"{field_name}.key", max_length=64)
    if not key.replace("_", "").replace("-", "").isalnum() or not key.isascii():
        raise ApplicationError(_("A key uses letters, digits, - and _."), {f"{field_name}.key": _("e.g. greeting")})
    scale = data.get("scale", Scale.YES_NO)
    if scale not in Scale.values:
        raise ApplicationError(_("Unknown scale."), {f"{field_name}.scale": ", ".join(Scale.values)})
    points = data.get("points", 1.0)
    if isinstance(points, bool) or not isinstance(points, (int, float)) or not 0 <= points <= MAX_POINTS:
        raise ApplicationError(
            _("Points must be a number from 0 to %(max)d.") % {"max": MAX_POINTS}, {f"{field_name}.points": _("0 to 1000.")}
        )
    auto_fail = bool(data.get("auto_fail", False))
    if auto_fail and scale != Scale.YES_NO:
        raise ApplicationError(
            _("An auto-fail criterion is answered yes or no."), {f"{field_name}.scale": _("Use yes_no for auto-fail.")}
        )
    if not auto_fail and points == 0:
        raise ApplicationError(
            _("A criterion that neither scores points nor fails the conversation has no effect."),
            {f"{field_name}.points": _("Give it points or make it auto-fail.")},
        )
    answered_by = data.get("answered_by", Criterion.AnsweredBy.RULE)
    if answered_by not in Criterion.AnsweredBy.values:
        raise ApplicationError(_("Unknown answer source."), {f"{field_name}.answered_by": ", ".join(Criterion.AnsweredBy.values)})
    if answered_by == Criterion.AnsweredBy.MODEL:
        if learned_production_version(key=key) is None:
            raise ApplicationError(
                _("No learned model is in production for %(key)s: train one (manage.py train_criterion_model) "
                  "and check its agreement with reviewers before switching.") % {"key": key},
                {f"{field_name}.answered_by": _("Use rule or reviewer until a learned model is in production.")},
            )
    rule = data.get("rule") or {}
    if answered_by == Criterion.AnsweredBy.RULE:
        if scale != Scale.YES_NO:
            raise ApplicationError(_("A rule answers yes or no."), {f"{field_name}.scale": _("Use yes_no for rules.")})
        rules.rule_validate(rule, field_name=f"{field_name}.rule")
    elif rule:
        rules.rule_validate(rule, field_name=f"{field_name}.rule")
    return {
        "key": key,
        "question_zh": _text(data.get("question_zh"), f"{field_name}.question_zh", max_length=255),
        "question_en": _text(data.get("question_en"), f"{field_name}.question_en", max_length=255),
        "scale": scale,
        "points": float(points),
        "auto_fail": auto_fail,
        "answered_by": answered_by,
        "rule": rule,
        "applies_intents": _str_list(data.get("applies_intents"), f"{field_name}.applies_intents"),
        "applies_channels": _str_list(data.get("applies_channels"), f"{field_name}.applies_channels"),
        "applies_languages": _str_list(data.get("applies_languages"), f"{field_name}.applies_languages"),
    }


def sections_validate(sections: Any) -> list[dict]:
    """Validate a scorecard's whole content; returns it cleaned. Nothing is written."""
    if not isinstance(sections, list) or not sections:
        raise ApplicationError(_("A scorecard needs at least one section."), {"sections": _("This field is required.")})
    cleaned, keys = [], set()
    total_points = 0.0
    for i, section in enumerate(sections):
        prefix = f"sections.{i}"
        if not isinstance(section, dict):
            raise ApplicationError(_("A section must be an object."), {prefix: _("Expected an object.")})
        criteria = section.get("criteria")
        if not isinstance(criteria, list) or not criteria:
            raise ApplicationError(_("A section needs at least one criterion."), {f"{prefix}.criteria": _("This field is required.")})
        items = []
        for j, criterion in enumerate(criteria):
            item = criterion_validate(criterion, field_name=f"{prefix}.criteria.{j}")
            if item["key"] in keys:
                raise ApplicationError(
                    _("Two criteria share the key %(k)s.") % {"k": item["key"]}, {f"{prefix}.criteria.{j}.key": _("Keys are unique.")}
                )
            keys.add(item["key"])
            total_points += item["points"]
            items.append(item)
        cleaned.append({
            "title_zh": _text(section.get("title_zh"), f"{prefix}.title_zh", max_length=128),
            "title_en": _text(section.get("title_en"), f"{prefix}.title_en", max_length=128),
            "criteria": items,
        })
    if total_points <= 0:
        raise ApplicationError(
            _("At least one criterion must score points."), {"sections": _("The points of all criteria add up to 0.")}
        )
    return cleaned


def _require_draft(version: ScorecardVersion) -> None:
    if version.status != ScorecardVersion.Status.DRAFT:
        raise Conflict(
            _("Version %(n)d is %(status)s and cannot be edited; create a new draft.") % {"n": version.number, "status": version.status},
            {"version": version.number},
        )


def _content_write(version: ScorecardVersion, sections: list[dict]) -> None:
    Section.objects.filter(version=version).delete()
    for i, section in enumerate(sections):
        row = Section.objects.create(version=version, order=i, title_zh=section["title_zh"], title_en=section["title_en"])
        Criterion.objects.bulk_create([Criterion(section=row, order=j, **c) for j, c in enumerate(section["criteria"])])


def version_content(version: ScorecardVersion) -> list[dict]:
    """A version's sections and criteria as plain data (the shape ``sections_validate`` accepts)."""
    out = []
    for section in version.sections.prefetch_related("criteria").order_by("order", "id"):
        out.append({
            "title_zh": section.title_zh, "title_en": section.title_en,
            "criteria": [
                {f: getattr(c, f) for f in (
                    "key", "question_zh", "question_en", "scale", "points", "auto_fail", "answered_by", "rule",
                    "applies_intents", "applies_channels", "applies_languages")}
                for c in section.criteria.order_by("order", "id")
            ],
        })
    return out


@transaction.atomic
def scorecard_create(
    *, name: str, sections: list[dict], description: str = "", pass_threshold: float = 70.0, created_by=None
) -> Scorecard:
    """Create a scorecard with its first (draft) version."""
    name = _text(name, "name", max_length=128)
    if Scorecard.objects.filter(name=name).exists():
        raise ApplicationError(_("A scorecard with this name exists."), {"name": _("Names are unique.")})
    cleaned = sections_validate(sections)
    threshold = _threshold(pass_threshold)
    scorecard = Scorecard.objects.create(name=name, description=description or "", created_by=_user(created_by))
    version = ScorecardVersion.objects.create(scorecard=scorecard, number=1, pass_threshold=threshold)
    _content_write(version, cleaned)
    audit_record(action="qa.scorecard.create", actor=created_by, target=scorecard, data={"name": name})
    return scorecard


def _threshold(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 100:
        raise ApplicationError(_("The threshold is a score from 0 to 100."), {"pass_threshold": _("0 to 100.")})
    return float(value)


@transaction.atomic
def scorecard_draft_create(*, scorecard: Scorecard, actor=None) -> ScorecardVersion:
    """The scorecard's draft version: the existing one, or a copy of its newest version."""
    scorecard = Scorecard.objects.select_for_update().get(pk=scorecard.pk)
    draft = scorecard.versions.filter(status=ScorecardVersion.Status.DRAFT).first()
    if draft is not None:
        return draft
    latest = scorecard.versions.order_by("-number").first()
    version = ScorecardVersion.objects.create(
        scorecard=scorecard, number=(latest.number + 1) if latest else 1,
        pass_threshold=latest.pass_threshold if latest else 70.0,
    )
    if latest is not None:
        _content_write(version, version_content(latest))
    audit_record(action="qa.scorecard.draft", actor=actor, target=version, data={"number": version.number})
    return version


@transaction.atomic
def scorecard_version_update(
    *, version: ScorecardVersion, sections: list[dict] | None = None, pass_threshold: float | None = None, actor=None
) -> ScorecardVersion:
    """Replace a draft version's content; a published or retired version is refused (409)."""
    version = ScorecardVersion.objects.select_for_update().get(pk=version.pk)
    _require_draft(version)
    if pass_threshold is not None:
        version.pass_threshold = _threshold(pass_threshold)
        version.save(update_fields=["pass_threshold"])
    if sections is not None:
        _content_write(version, sections_validate(sections))
    audit_record(action="qa.scorecard.update", actor=actor, target=version, data={"number": version.number})
    return version


@transaction.atomic
def scorecard_version_publish(
    *, version: ScorecardVersion, actor=None, activate: bool = True, rescore_since: dt.datetime | None = None
) -> ScorecardVersion:
    """Publish a draft: the scorecard's previous published version is retired; optionally activate it.

    With ``rescore_since`` a ``qa_score`` job re-scores the conversations started since then.
    """
    version = ScorecardVersion.objects.select_for_update(of=("self",)).select_related("scorecard").get(pk=version.pk)
    _require_draft(version)
    sections_validate(version_content(version))  # a draft edited in the admin is checked here too
    ScorecardVersion.objects.filter(
        scorecard=version.scorecard, status=ScorecardVersion.Status.PUBLISHED
    ).update(status=ScorecardVersion.Status.RETIRED)
    version.status = ScorecardVersion.Status.PUBLISHED
    version.published_at = timezone.now()
    version.published_by = _user(actor)
    version.save(update_fields=["status", "published_at", "published_by"])
    if activate:
        scorecard_activate(scorecard=version.scorecard, actor=actor)
    audit_record(action="qa.scorecard.publish", actor=actor, target=version,
                 data={"scorecard": version.scorecard.name, "number": version.number})
    if rescore_since is not None:
        from .jobs import qa_score_submit

        qa_score_submit(params={"since": rescore_since.isoformat(), "version": version.pk}, created_by=actor)
    return version


@transaction.atomic
def scorecard_activate(*, scorecard: Scorecard, actor=None) -> Scorecard:
    """Make ``scorecard`` the one the nightly assessment evaluates."""
    if not scorecard.versions.filter(status=ScorecardVersion.Status.PUBLISHED).exists():
        raise ApplicationError(_("Publish a version before activating the scorecard."), {"scorecard": scorecard.pk})
    Scorecard.objects.filter(is_active=True).exclude(pk=scorecard.pk).update(is_active=False)
    if not scorecard.is_active:
        Scorecard.objects.filter(pk=scorecard.pk).update(is_active=True)
        scorecard.is_active = True
        audit_record(action="qa.scorecard.activate", actor=actor, target=scorecard, data={"name": scorecard.name})
    return scorecard


def active_version() -> ScorecardVersion | None:
    """The published version of the active scorecard."""
    return (
        ScorecardVersion.objects.filter(scorecard__is_active=True, status=ScorecardVersion.Status.PUBLISHED)
        .select_related("scorecard").first()
    )


# ---------------------------------------------------------------- compiled versions

# Published versions never change: the TTL and size only bound the memory of old ones.
_compiled = TTLCache(ttl=3600, maxsize=64)


def version_specs(version: ScorecardVersion) -> list[rules.CriterionSpec]:
    """The compiled criteria of a version; published versions are compiled once per process.

    The cache key includes the publication time, so a reused primary key (SQLite reuses the ids
    of deleted rows) never returns another version's criteria.
    """
    key = (version.pk, version.published_at)
    cached = _compiled.get(key)
    if cached is not None and version.status != ScorecardVersion.Status.DRAFT:
        return cached
    specs = []
    for c in Criterion.objects.filter(section__version=version).order_by("section__order", "order", "id"):
        compiled_rule = (
            rules.rule_compile(c.rule, field_name=f"criteria.{c.key}.rule", probe=False)
            if c.answered_by == Criterion.AnsweredBy.RULE and c.rule else None
        )
        specs.append(rules.CriterionSpec(
            id=c.pk, key=c.key, scale=c.scale, points=c.points, auto_fail=c.auto_fail, answered_by=c.answered_by,
            applies_intents=list(c.applies_intents or []), applies_channels=list(c.applies_channels or []),
            applies_languages=list(c.applies_languages or []), rule=compiled_rule,
            question_en=c.question_en, question_zh=c.question_zh,
        ))
    if version.status != ScorecardVersion.Status.DRAFT:
        _compiled.set(key, specs)
    return specs


# ---------------------------------------------------------------- scoring


def transcripts_load(conversation_ids: list[int]) -> dict[int, rules.Transcript]:
    """Transcripts of the given conversations, in id order (missing ids are left out)."""
    meta = Conversation.objects.filter(pk__in=conversation_ids).values_list(
        "pk", "predicted_intent", "label_intent", "channel", "language"
    )
    out = {
        pk: rules.Transcript(messages=[], intent=predicted or label or "", channel=channel or "", language=language or "")
        for pk, predicted, label, channel, language in meta
    }
    for cid, seq, speaker, text, sent_at in (
        Message.objects.filter(conversation_id__in=list(out)).order_by("conversation_id", "seq")
        .values_list("conversation_id", "seq", "speaker", "text", "sent_at").iterator(chunk_size=5000)
    ):
        out[cid].messages.append(rules.Msg(seq, speaker, text, sent_at))
    return out


def qa_results_upsert(*, conversation_ids: list[int], version: ScorecardVersion | None = None) -> list[QaResult]:
    """Evaluate ``version`` (default: the active one) on conversations and upsert their results.

    Idempotent per (conversation, version): a replay rewrites the same rows. An answer a
    reviewer set (or a dispute changed) is kept and counts in the score. Newly auto-failed
    conversations are announced as ``qa.auto_fail`` after commit.
    """
    version = version or active_version()
    if version is None or not conversation_ids:
        return []
    specs = version_specs(version)
    transcripts = transcripts_load(list(conversation_ids))
    if not transcripts:
        return []
    ids = list(transcripts)
    previous = dict(
        QaResult.objects.filter(scorecard_version=version, conversation_id__in=ids).values_list("conversation_id", "auto_failed")
    )
    kept: dict[tuple[int, int], tuple] = {
        (cid, crit): (answer, by, comment)
        for cid, crit, answer, by, comment in CriterionAnswer.objects.filter(
            result__scorecard_version=version, result__conversation_id__in=ids, source=CriterionAnswer.Source.REVIEWER
        ).values_list("result__conversation_id", "criterion_id", "answer", "overridden_by_id", "comment")
    }
    learned = model_answers(specs, transcripts)
    now = timezone.now()
    results: list[QaResult] = []
    answer_rows: list[list[tuple]] = []
    for cid in ids:
        transcript = transcripts[cid]
        final: dict[int, str] = {}
        rows = []
        for spec in specs:
            auto, evidence = rules.criterion_evaluate(spec, transcript)
            if (spec.id, cid) in learned:
                auto, evidence = learned[(spec.id, cid)]
            reviewer = kept.get((cid, spec.id))
            if reviewer is not None:
                final[spec.id] = reviewer[0]
                rows.append((spec.id, reviewer[0], auto, evidence, CriterionAnswer.Source.REVIEWER, reviewer[1], reviewer[2]))
            else:
                final[spec.id] = auto
                rows.append((spec.id, auto, auto, evidence, CriterionAnswer.Source.AUTO, None, ""))
        score, failed, reason = rules.score_compute(specs, final)
        results.append(QaResult(
            conversation_id=cid, scorecard_version=version, score=score, auto_failed=failed, reason=reason, computed_at=now,
        ))
        answer_rows.append(rows)
    with transaction.atomic():
        if is_postgres():
            saved = _results_copy_upsert(version, results, answer_rows)
        else:
            saved = _results_orm_upsert(results, answer_rows)
        newly_failed = [r for r in saved if r.auto_failed and not previous.get(r.conversation_id, False)]
        if newly_failed:
            transaction.on_commit(partial(_emit_auto_fail, version_id=version.pk, conversation_ids=[r.conversation_id for r in newly_failed]))
    return saved


def _results_orm_upsert(results: list[QaResult], answer_rows: list[list[tuple]]) -> list[QaResult]:
    saved = QaResult.objects.bulk_create(
        results, update_conflicts=True, unique_fields=["conversation", "scorecard_version"],
        update_fields=["score", "auto_failed", "reason", "computed_at"], batch_size=1000,
    )
    answers = [
        CriterionAnswer(result_id=result.pk, criterion_id=crit, answer=answer, auto_answer=auto, evidence=evidence,
                        source=source, overridden_by_id=by, comment=comment)
        for result, rows in zip(saved, answer_rows)
        for crit, answer, auto, evidence, source, by, comment in rows
    ]
    CriterionAnswer.objects.bulk_create(
        answers, update_conflicts=True, unique_fields=["result", "criterion"],
        update_fields=["answer", "auto_answer", "evidence", "source", "overridden_by", "comment"], batch_size=2000,
    )
    return saved


_TEMP_TABLES = """
CREATE TEMP TABLE IF NOT EXISTS qa_upsert_result (
    conversation_id bigint, score double precision, auto_failed boolean, reason text, computed_at timestamptz
) ON COMMIT DROP;
CREATE TEMP TABLE IF NOT EXISTS qa_upsert_answer (
    conversation_id bigint, criterion_id bigint, answer varchar(8), auto_answer varchar(8), evidence jsonb,
    source varchar(16), overridden_by_id bigint, comment text
) ON COMMIT DROP;
TRUNCATE qa_upsert_result, qa_upsert_answer;
"""


def _results_copy_upsert(version: ScorecardVersion, results: list[QaResult], answer_rows: list[list[tuple]]) -> list[QaResult]:
    """The same upsert as ``_results_orm_upsert`` on PostgreSQL: COPY into temporary tables, then one
    ``INSERT … ON CONFLICT DO UPDATE`` per table (the ORM's per-row work dominates otherwise)."""
    result_t, answer_t = QaResult._meta.db_table, CriterionAnswer._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(_TEMP_TABLES)
        with cursor.cursor.copy("COPY qa_upsert_result FROM STDIN") as copy:
            for r in results:
                copy.write_row((r.conversation_id, r.score, r.auto_failed, r.reason, r.computed_at))
        with cursor.cursor.copy("COPY qa_upsert_answer FROM STDIN") as copy:
            for r, rows in zip(results, answer_rows):
                for crit, answer, auto, evidence, source, by, comment in rows:
                    copy.write_row((r.conversation_id, crit, answer, auto, json.dumps(evidence, ensure_ascii=False),
                                    source, by, comment))
        cursor.execute(
            f"INSERT INTO {result_t} (conversation_id, scorecard_version_id, score, auto_failed, reason, computed_at) "
            f"SELECT conversation_id, %s, score, auto_failed, reason, computed_at FROM qa_upsert_result "
            f"ON CONFLICT (conversation_id, scorecard_version_id) DO UPDATE SET score = EXCLUDED.score, "
            f"auto_failed = EXCLUDED.auto_failed, reason = EXCLUDED.reason, computed_at = EXCLUDED.computed_at "
            f"RETURNING id, conversation_id",
            [version.pk],
        )
        ids = dict((cid, rid) for rid, cid in cursor.fetchall())
        cursor.execute(
            f"INSERT INTO {answer_t} (result_id, criterion_id, answer, auto_answer, evidence, source, overridden_by_id, "
            f"comment, updated_at) "
            f"SELECT r.id, t.criterion_id, t.answer, t.auto_answer, t.evidence, t.source, t.overridden_by_id, t.comment, now() "
            f"FROM qa_upsert_answer t JOIN {result_t} r ON r.conversation_id = t.conversation_id "
            f"AND r.scorecard_version_id = %s "
            f"ON CONFLICT (result_id, criterion_id) DO UPDATE SET answer = EXCLUDED.answer, "
            f"auto_answer = EXCLUDED.auto_answer, evidence = EXCLUDED.evidence, source = EXCLUDED.source, "
            f"overridden_by_id = EXCLUDED.overridden_by_id, comment = EXCLUDED.comment, updated_at = EXCLUDED.updated_at",
            [version.pk],
        )
    for r in results:
        r.pk = ids[r.conversation_id]
    return results


def _emit_auto_fail(*, version_id: int, conversation_ids: list[int]) -> None:
    from apps.webhooks.services import event_emit

    rows = list(QaResult.objects.filter(scorecard_version_id=version_id, conversation_id__in=conversation_ids)
                .order_by("conversation_id").values_list("conversation__external_id", "reason"))
    for start in range(0, len(rows), 500):
        event_emit(event="qa.auto_fail", payload={
            "scorecard_version": version_id,
            "conversations": [{"external_id": ext, "reason": reason} for ext, reason in rows[start:start + 500]],
        })


def result_recompute(*, result: QaResult) -> QaResult:
    """Recompute a result's score from its current answers (after a review or an accepted dispute)."""
    specs = version_specs(result.scorecard_version)
    answers = dict(result.answers.values_list("criterion_id", "answer"))
    result.score, result.auto_failed, result.reason = rules.score_compute(specs, answers)
    result.computed_at = timezone.now()
    result.save(update_fields=["score", "auto_failed", "reason", "computed_at"])
    return result


# ---------------------------------------------------------------- reviews


def _check_can_review(actor, result: QaResult) -> None:
    if not user_can_resolve_for_agent(actor, result.conversation.agent):
        raise PermissionDenied(_("You may not grade this conversation."))


@transaction.atomic
def qa_review_submit(*, result: QaResult, answers: dict[str, dict], actor) -> QaResult:
    """A reviewer's grading: ``answers`` maps criterion keys to ``{"answer": …, "comment": …}``.

    Only answers that differ from the current one (or carry a comment) are recorded as
    overrides. The result is marked reviewed, its score recomputed and its open assignments done.
    """
    result = QaResult.objects.select_for_update(of=("self",)).select_related("conversation__agent", "scorecard_version").get(pk=result.pk)
    _check_can_review(actor, result)
    if not isinstance(answers, dict):
        raise ApplicationError(_("answers must map criterion keys to answers."), {"answers": _("Expected an object.")})
    current = {a.criterion.key: a for a in result.answers.select_related("criterion")}
    changes = []
    for key, item in answers.items():
        row = current.get(key)
        if row is None:
            raise ApplicationError(_("Unknown criterion %(k)s.") % {"k": key}, {f"answers.{key}": _("Not in this scorecard.")})
        if not isinstance(item, dict):
            item = {"answer": item}
        value = rules.answer_validate(scale=row.criterion.scale, answer=item.get("answer", ""), field_name=f"answers.{key}")
        comment = str(item.get("comment") or "").strip()
        if value == row.answer and not comment:
            continue
        changes.append({"criterion": key, "from": row.answer, "to": value})
        row.answer, row.source, row.overridden_by, row.comment = value, CriterionAnswer.Source.REVIEWER, _user(actor), comment
        row.save(update_fields=["answer", "source", "overridden_by", "comment", "updated_at"])
    result.reviewed_by, result.reviewed_at = _user(actor), timezone.now()
    result.save(update_fields=["reviewed_by", "reviewed_at"])
    before = result.score
    result_recompute(result=result)
    Assignment.objects.filter(conversation=result.conversation, status=Assignment.Status.OPEN).update(
        status=Assignment.Status.DONE, completed_at=timezone.now(), result=result
    )
    audit_record(action="qa.review", actor=actor, target=result,
                 data={"changes": changes, "score_before": before, "score_after": result.score})
    return result


# ---------------------------------------------------------------- disputes


@transaction.atomic
def dispute_open(*, answer: CriterionAnswer, actor, comment: str, proposed_answer: str) -> Dispute:
    """An agent disputes one criterion answer of their own result."""
    answer = CriterionAnswer.objects.select_related("result__conversation__agent", "criterion").get(pk=answer.pk)
    agent = answer.result.conversation.agent
    if user_role(actor) != Role.AGENT or agent is None or user_agent_id(actor) != agent.pk:
        raise ApplicationError(_("You can dispute only your own results."), {"answer": _("This is not your result.")})
    comment = _text(comment, "comment", max_length=2000)
    proposed = rules.answer_validate(scale=answer.criterion.scale, answer=proposed_answer, field_name="proposed_answer")
    if proposed == answer.answer:
        raise ApplicationError(_("The proposed answer is the current one."), {"proposed_answer": _("Propose a different answer.")})
    if Dispute.objects.filter(answer=answer, status=Dispute.Status.OPEN).exists():
        raise Conflict(_("This answer already has an open dispute."), {"answer": answer.pk})
    dispute = Dispute.objects.create(answer=answer, opened_by=actor, comment=comment, proposed_answer=proposed)
    audit_record(action="qa.dispute.open", actor=actor, target=dispute,
                 data={"criterion": answer.criterion.key, "from": answer.answer, "proposed": proposed})
    transaction.on_commit(partial(_emit_dispute, dispute_id=dispute.pk, event="qa.dispute.opened"))
    return dispute


@transaction.atomic
def dispute_resolve(*, dispute: Dispute, actor, accept: bool, resolution: str = "") -> Dispute:
    """Accept (the answer becomes the proposed one and the score is recomputed) or reject with a reason."""
    dispute = Dispute.objects.select_for_update(of=("self",)).select_related(
        "answer__criterion", "answer__result__conversation__agent", "answer__result__scorecard_version"
    ).get(pk=dispute.pk)
    result = dispute.answer.result
    if not user_can_resolve_for_agent(actor, result.conversation.agent):
        raise PermissionDenied(_("You may not resolve disputes for this agent."))
    if dispute.status != Dispute.Status.OPEN:
        raise Conflict(_("This dispute is already %(s)s.") % {"s": dispute.status}, {"status": dispute.status})
    resolution = _text(resolution, "resolution", max_length=2000, required=not accept)
    before = result.score
    if accept:
        row = dispute.answer
        row.answer, row.source, row.overridden_by = dispute.proposed_answer, CriterionAnswer.Source.REVIEWER, _user(actor)
        row.comment = resolution or dispute.comment
        row.save(update_fields=["answer", "source", "overridden_by", "comment", "updated_at"])
        result_recompute(result=result)
    dispute.status = Dispute.Status.ACCEPTED if accept else Dispute.Status.REJECTED
    dispute.resolved_by, dispute.resolved_at, dispute.resolution = _user(actor), timezone.now(), resolution
    dispute.save(update_fields=["status", "resolved_by", "resolved_at", "resolution"])
    audit_record(action=f"qa.dispute.{dispute.status}", actor=actor, target=dispute, data={
        "criterion": dispute.answer.criterion.key, "score_before": before, "score_after": result.score,
        "resolution": resolution,
    })
    transaction.on_commit(partial(_emit_dispute, dispute_id=dispute.pk, event="qa.dispute.resolved"))
    return dispute


def _emit_dispute(*, dispute_id: int, event: str) -> None:
    from apps.webhooks.services import event_emit

    d = Dispute.objects.select_related("answer__criterion", "answer__result__conversation__agent").get(pk=dispute_id)
    result = d.answer.result
    event_emit(event=event, payload={
        "dispute": d.pk, "status": d.status, "criterion": d.answer.criterion.key,
        "conversation": result.conversation.external_id,
        "agent": result.conversation.agent.external_id if result.conversation.agent else None,
        "answer": d.answer.answer, "score": result.score,
    })


def result_get_for(*, user, result_id: int) -> QaResult:
    """A result the user may see (404 otherwise, so ids of others' results are not confirmed)."""
    from .selectors import results_for_user

    result = results_for_user(user=user).filter(pk=result_id).first()
    if result is None:
        raise NotFound(_("No such QA result."))
    return result

