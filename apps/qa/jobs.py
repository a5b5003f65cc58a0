"""QA work on the queue: ``qa_score`` (score conversations with a scorecard version, in chunks)
and ``qa_try`` (dry-run a rule over a date range without writing results).

A ``qa_score`` chunk is one transaction: its results and the chunk's progress commit together,
so a worker killed mid-chunk leaves nothing half-written and the redelivered chunk counts once.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from apps.conversations.models import Conversation
from apps.conversations.selectors import job_conversations
from apps.core.exceptions import ApplicationError
from apps.jobs import services as job_services
from apps.jobs.models import Job

from . import rules
from .models import ScorecardVersion
from .services import active_version, qa_results_upsert, transcripts_load

SCORE_KIND = "qa_score"
TRY_KIND = "qa_try"
TRY_BATCH = 1000
TRY_SAMPLE = 20
MAX_ID = 2**63 - 1  # the largest primary key PostgreSQL's bigint holds


def _when(value: Any, field_name: str) -> dt.datetime | None:
    if value in (None, ""):
        return None
    try:
        parsed = value if isinstance(value, dt.datetime) else parse_datetime(str(value))
        if parsed is None:
            parsed = dt.datetime.combine(dt.date.fromisoformat(str(value)), dt.time())
        if timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed, dt.timezone.utc)
        parsed.astimezone(dt.timezone.utc)
    except (ValueError, OverflowError):
        raise ApplicationError(_("Not a date or datetime."), {field_name: _("ISO 8601, e.g. 2026-01-31.")}) from None
    return parsed


def _version(value: Any) -> ScorecardVersion:
    if value in (None, ""):
        version = active_version()
        if version is None:
            raise ApplicationError(_("No scorecard is active; publish one or name a version."), {"version": _("Required.")})
        return version
    text = str(value)
    version = ScorecardVersion.objects.filter(pk=int(text)).first() if text.isdigit() and int(text) <= MAX_ID else None
    if version is None:
        raise ApplicationError(_("No such scorecard version."), {"version": str(value)})
    if version.status == ScorecardVersion.Status.DRAFT:
        raise ApplicationError(_("Publish the version before scoring with it."), {"version": _("This version is a draft.")})
    return version


# ---------------------------------------------------------------- qa_score


def qa_score_submit(*, params: dict, created_by=None, idempotency_key: str | None = None) -> tuple[Job, bool]:
    """Validate and submit a ``qa_score`` job: ``version`` (default: active), ``since``/``until``,
    ``conversation_ids``, ``all``, ``chunk_size``."""
    allowed = {"version", "since", "until", "conversation_ids", "all", "chunk_size"}
    unknown = set(params) - allowed
    if unknown:
        raise ApplicationError(_("Unknown parameters: %(p)s.") % {"p": ", ".join(sorted(unknown))}, {"params": sorted(allowed)})
    if not any(params.get(k) for k in ("since", "until", "conversation_ids", "all")):
        raise ApplicationError(_("Say what to score: since/until, conversation_ids or all."), {"params": _("Nothing selected.")})
    version = _version(params.get("version"))
    clean: dict[str, Any] = {"version": version.pk}
    for key in ("since", "until"):
        when = _when(params.get(key), key)
        if when is not None:
            clean[key] = when.isoformat()
    if params.get("conversation_ids"):
        ids = params["conversation_ids"]
        if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) and 1 <= i <= MAX_ID
                                                for i in ids):
            raise ApplicationError(_("conversation_ids is a list of ids."), {"conversation_ids": _("A list of integers.")})
        clean["conversation_ids"] = ids
    if params.get("all"):
        clean["all"] = True
    if params.get("chunk_size") is not None:
        size = params["chunk_size"]
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= 20000:
            raise ApplicationError(_("chunk_size is 1 to 20000."), {"chunk_size": _("1 to 20000.")})
        clean["chunk_size"] = size
    return job_services.job_create(kind=SCORE_KIND, params=clean, created_by=created_by, idempotency_key=idempotency_key)


def qa_score_plan(*, job_id: int) -> list[tuple[int, list[int]]]:
    """Split a ``qa_score`` job into chunks once; return the chunks still pending."""

    def plan(job: Job):
        ids = job_conversations(job.params).order_by("pk").values_list("pk", flat=True)
        size = job.params.get("chunk_size") or settings.QA_SCORE_CHUNK_SIZE
        return ids.iterator(chunk_size=10000), size, None, {"version": job.params["version"]}

    return job_services.chunks_plan(job_id=job_id, plan=plan)


def qa_score_run(*, job_id: int) -> int:
    """The orchestrator: plan once, send the pending chunks. Returns how many were sent."""
    pending = qa_score_plan(job_id=job_id)
    return job_services.chunks_dispatch(job_id=job_id, chunks=pending) if pending else 0


def qa_score_chunk(*, job_id: int, chunk_index: int, conversation_ids: list[int], retries: int = 0) -> dict:
    """Score one chunk; idempotent (a replay upserts the same rows and counts nothing twice)."""
    if not job_services.chunk_begin(job_id=job_id, chunk_index=chunk_index, retries=retries):
        job_services.job_finish(job_id=job_id, only_when_complete=True)
        return {"skipped": True}
    job = Job.objects.only("params").get(pk=job_id)
    version = ScorecardVersion.objects.get(pk=job.params["version"])
    with transaction.atomic():
        saved = qa_results_upsert(conversation_ids=conversation_ids, version=version)
        missing = len(set(conversation_ids)) - len(saved)
        counted = job_services.chunk_done(job_id=job_id, chunk_index=chunk_index, done=len(saved), failed=missing)
    job_services.job_finish(job_id=job_id, only_when_complete=True, result={"version": version.pk})
    return {"done": len(saved), "failed": missing, "counted": counted}


# ---------------------------------------------------------------- trying a rule


def _try_params(params: dict) -> dict:
    days = params.get("days", 7)
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 366:
        raise ApplicationError(_("days is 1 to 366."), {"days": _("A whole number from 1 to 366.")})
    rules.rule_validate(params.get("rule"), field_name="rule")
    sample = params.get("sample", TRY_SAMPLE)
    if isinstance(sample, bool) or not isinstance(sample, int) or not 0 <= sample <= 100:
        raise ApplicationError(_("sample is 0 to 100."), {"sample": _("0 to 100.")})
    return {"rule": params["rule"], "days": days, "sample": sample}


def _try_queryset(days: int, now: dt.datetime):
    return Conversation.objects.filter(started_at__gte=now - dt.timedelta(days=days), started_at__lte=now)


def rule_try_run(*, rule: dict, days: int, sample: int = TRY_SAMPLE, job_id: int | None = None,
                 now: dt.datetime | None = None) -> dict:
    """Evaluate ``rule`` on the conversations of the last ``days`` days, writing no result.

    Returns the count, the hits (expression true), the hit rate and up to ``sample`` hits
    with their evidence. With ``job_id`` progress is counted on that job per batch.
    """
    compiled = rules.rule_compile(rule, field_name="rule", probe=False)
    now = now or timezone.now()
    ids = list(_try_queryset(days, now).order_by("pk").values_list("pk", flat=True))
    n = hits = applicable = 0
    samples: list[dict] = []
    for start in range(0, len(ids), TRY_BATCH):
        if job_id is not None and start and job_services.job_is_cancelled(job_id=job_id):
            break
        batch = transcripts_load(ids[start:start + TRY_BATCH])
        for cid, transcript in batch.items():
            n += 1
            applies, truth, evidence = compiled.match(transcript)
            applicable += applies
            if truth:
                hits += 1
                if len(samples) < sample:
                    samples.append({"conversation_id": cid, "evidence": evidence})
        if job_id is not None:
            job_services.job_progress(job_id=job_id, done=len(batch))
    externals = dict(Conversation.objects.filter(pk__in=[s["conversation_id"] for s in samples]).values_list("pk", "external_id"))
    for s in samples:
        s["external_id"] = externals.get(s["conversation_id"], "")
    return {
        "days": days, "conversations": n, "applicable": applicable, "hits": hits,
        "hit_rate": round(hits / n, 4) if n else None, "sample": samples,
    }


def rule_try(*, params: dict, created_by=None) -> dict:
    """Try a rule: answered at once for up to ``QA_TRY_SYNC_MAX`` conversations, else as a job.

    Returns ``{"result": …}`` or ``{"job": id}``.
    """
    clean = _try_params(params)
    count = _try_queryset(clean["days"], timezone.now()).count()
    if count <= settings.QA_TRY_SYNC_MAX:
        return {"result": rule_try_run(**clean)}
    job, _created = job_services.job_create(kind=TRY_KIND, params=clean, created_by=created_by)
    return {"job": job.pk}


def rule_try_job(*, job_id: int, task_id: str | None = None) -> dict:
    """The ``qa_try`` task: run the dry-run, counting progress, and store its result on the job."""
    job = Job.objects.get(pk=job_id)
    params = job.params
    total = _try_queryset(params["days"], job.created_at).count()
    if not job_services.job_start(job_id=job_id, total=total, task_id=task_id):
        return {}
    if Job.objects.filter(pk=job_id, done__gt=0).exists():  # a redelivered message starts the count again
        Job.objects.filter(pk=job_id).update(done=0)
    result = rule_try_run(rule=params["rule"], days=params["days"], sample=params["sample"], job_id=job_id,
                          now=job.created_at)
    job_services.job_finish(job_id=job_id, result=result)
    return result


def rule_try_submit(*, params: dict, created_by=None, idempotency_key: str | None = None) -> tuple[Job, bool]:
    return job_services.job_create(kind=TRY_KIND, params=_try_params(params), created_by=created_by,
                                   idempotency_key=idempotency_key)
