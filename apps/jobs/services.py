"""Jobs: batch work with progress that survives restarts (the table, not Flower's memory).

Progress is counted with ``F()`` updates so concurrent chunk tasks never lose an
increment; finishing is a conditional update so exactly one caller finishes a job
(and emits ``job.finished``), however many chunks complete at once. A job whose
message the broker lost is sent again by the watchdog, ``stalled_jobs_resume``.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
from functools import partial
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max, Q
from django.utils import timezone

from apps.core.exceptions import ApplicationError, Conflict
from apps.core.services import audit_record

from .models import Job, JobChunk

logger = logging.getLogger(__name__)

TERMINAL = (Job.Status.SUCCEEDED, Job.Status.FAILED, Job.Status.CANCELLED)


def _user(user):
    return user if getattr(user, "pk", None) and getattr(user, "_meta", None) else None


def job_create(
    *, kind: str, params: dict | None = None, created_by=None, idempotency_key: str | None = None,
    enqueue: bool = True,
) -> tuple[Job, bool]:
    """Create a job (or return the one with the same idempotency key) and enqueue it after commit.

    Returns ``(job, created)``.
    """
    if kind not in Job.Kind.values:
        raise ApplicationError(f"Unknown job kind {kind!r}.", {"kinds": Job.Kind.values})
    key = (idempotency_key or "").strip()[:128] or None
    if key:
        existing = Job.objects.filter(idempotency_key=key).first()
        if existing is not None:
            if existing.kind != kind:
                raise Conflict("This idempotency key was used for a different kind of job.", {"job": existing.pk})
            return existing, False
    try:
        with transaction.atomic():
            job = Job.objects.create(
                kind=kind, params=params or {}, created_by=_user(created_by), idempotency_key=key,
            )
            if enqueue:
                transaction.on_commit(partial(job_enqueue, job_id=job.pk))
    except IntegrityError:
        # Two requests with the same key raced; the other one won.
        existing = Job.objects.filter(idempotency_key=key).first()
        if existing is None:
            raise
        return existing, False
    return job, True


def job_enqueue(*, job_id: int) -> None:
    """Send a job to its orchestrator task (called after commit)."""
    job = Job.objects.only("kind").get(pk=job_id)
    if job.kind == Job.Kind.SCORE:
        from workers.scoring import score_job

        score_job.delay(job_id)
    elif job.kind == Job.Kind.RETRAIN:
        from workers.registry import train_candidate

        train_candidate.delay(job_id)
    elif job.kind == Job.Kind.ASSESS:
        from workers.scoring import assess_aggregate

        assess_aggregate.delay(job_id)
    else:
        logger.info("job %s of kind %s has no orchestrator here", job_id, job.kind)


def job_start(*, job_id: int, total: int | None = None, task_id: str | None = None) -> bool:
    """Mark a queued job running. False when it was cancelled (or already finished).

    With ``task_id`` (the Celery message running it) the start is a claim: the first message
    takes a queued job, and a running job goes on only in a message with the claimant's id (the
    broker redelivers that message when its worker dies); a copy the watchdog sent for a message
    it thought lost carries another id and gets False. Without it any caller may go on.
    """
    fields: dict[str, Any] = {"status": Job.Status.RUNNING, "started_at": timezone.now()}
    if total is not None:
        fields["total"] = total
    if task_id:
        fields["task_id"] = task_id
    n = Job.objects.filter(pk=job_id, status=Job.Status.QUEUED).update(**fields)
    if n:
        return True
    running = Job.objects.filter(pk=job_id, status=Job.Status.RUNNING)
    if task_id:
        running = running.filter(Q(task_id="") | Q(task_id=task_id))
    if total is not None:
        running.update(total=total)
    return running.exists()


def job_progress(*, job_id: int, done: int = 0, failed: int = 0) -> None:
    """Count finished items atomically (no read-modify-write)."""
    if done or failed:
        Job.objects.filter(pk=job_id).update(done=F("done") + done, failed=F("failed") + failed)
    try:
        from apps.core.metrics import JOB_PROGRESS

        job = Job.objects.only("kind", "done", "failed", "total").get(pk=job_id)
        JOB_PROGRESS.labels(job_id=str(job_id), kind=job.kind).set(
            (job.done + job.failed) / job.total if job.total else 0.0
        )
    except Exception:  # metrics never break the work
        pass


def job_step(*, job_id: int, step: str, **data: Any) -> None:
    """Append one step to ``Job.steps`` (row-locked, so concurrent appends are kept)."""
    with transaction.atomic():
        job = Job.objects.select_for_update().only("steps").get(pk=job_id)
        job.steps = [*(job.steps or []), {"at": timezone.now().isoformat(), "step": step, **data}]
        job.save(update_fields=["steps"])


def job_finish(
    *, job_id: int, status: str | None = None, error: str = "", result: dict | None = None,
    only_when_complete: bool = False,
) -> bool:
    """Finish a running (or queued) job exactly once. Returns True for the caller that finished it.

    With ``only_when_complete`` the job finishes only once ``done + failed >= total``
    (the last chunk finishes the job). Without ``status`` it is succeeded unless items failed.
    """
    qs = Job.objects.filter(pk=job_id, status__in=[Job.Status.QUEUED, Job.Status.RUNNING])
    if only_when_complete:
        qs = qs.filter(total__lte=F("done") + F("failed"))
    now = timezone.now()
    with transaction.atomic():
        job = qs.select_for_update().first()
        if job is None:
            return False
        if status is None:
            status = Job.Status.FAILED if job.failed and not job.done else Job.Status.SUCCEEDED
        job.status = status
        job.finished_at = now
        job.started_at = job.started_at or now
        if error:
            job.error = error[:10000]
        elif job.failed and status == Job.Status.SUCCEEDED:
            job.error = f"{job.failed} of {job.total} items failed."
        if result is not None:
            job.result = {**(job.result or {}), **result}
        job.save(update_fields=["status", "finished_at", "started_at", "error", "result"])
        transaction.on_commit(partial(_after_finish, job_id=job.pk))
    return True


def _after_finish(*, job_id: int) -> None:
    job = Job.objects.get(pk=job_id)
    try:
        from apps.core.metrics import JOB_PROGRESS, JOBS_FINISHED

        JOBS_FINISHED.labels(kind=job.kind, status=job.status).inc()
        try:
            JOB_PROGRESS.remove(str(job.pk), job.kind)
        except KeyError:
            pass
    except Exception:
        logger.debug("metrics update failed", exc_info=True)
    webhook_emit(event="job.finished", payload=job_payload(job))
    # A finished scoring job may have a follow-up (the nightly assessment aggregates after scoring).
    then = (job.params or {}).get("then_assess_job")
    if then and job.kind == Job.Kind.SCORE:
        from workers.scoring import assess_aggregate

        assess_aggregate.delay(int(then))


def stalled_jobs_resume(*, stalled_after: int | None = None) -> list[int]:
    """Re-send the messages of jobs that made no progress for ``stalled_after`` seconds; returns their ids.

    The broker can lose a message: Redis hands a message out (BRPOP) before the worker records it
    as unacknowledged, so a worker killed in between drops it, and the filesystem broker drops any
    message a killed worker had taken. The database is the truth:

    - a scoring job's orchestrator is sent again and re-sends the chunks still pending; a copy of a
      chunk that is already done is skipped, and a chunk counts once however often it runs. Stalled:
      queued, or running with pending chunks, and nothing (its start, a chunk, a resume) happened
      for ``stalled_after`` seconds.
    - an assessment or retraining job that is still queued (no worker ever started it) is sent
      again; an assessment that waits for its scoring job counts from that job's finish. Should
      the first message turn up after all, whichever message starts the job claims it and the
      other leaves it alone (``job_start``'s ``task_id``). A running one is not re-sent: its
      message waits unacknowledged in Redis, which redelivers it if its worker dies.
    """
    stalled_after = settings.JOB_STALL_SECONDS if stalled_after is None else stalled_after
    cutoff = timezone.now() - dt.timedelta(seconds=stalled_after)
    candidates = Job.objects.filter(
        Q(kind=Job.Kind.SCORE, status__in=[Job.Status.QUEUED, Job.Status.RUNNING])
        | Q(kind__in=[Job.Kind.ASSESS, Job.Kind.RETRAIN], status=Job.Status.QUEUED),
        created_at__lte=cutoff,
    ).annotate(last_chunk=Max("chunks__finished_at"),
               pending=Count("chunks", filter=Q(chunks__state=JobChunk.State.PENDING))).order_by("pk")
    resumed = []
    for job in candidates.iterator():
        steps = [s.get("at", "") for s in job.steps or [] if s.get("step") == "resumed"]
        moments = [m for m in (job.started_at, job.last_chunk) if m] + \
            [dt.datetime.fromisoformat(at) for at in steps if at]
        if any(m > cutoff for m in moments) or (job.status == Job.Status.RUNNING and not job.pending):
            continue
        if job.kind == Job.Kind.ASSESS and _assessment_awaits_scoring(job.pk, cutoff):
            continue
        job_step(job_id=job.pk, step="resumed", pending=job.pending)
        job_enqueue(job_id=job.pk)
        resumed.append(job.pk)
    return resumed


def _assessment_awaits_scoring(job_id: int, cutoff: dt.datetime) -> bool:
    """An assessment queued behind its scoring job (``then_assess_job``) is sent when that job
    finishes: it is not stalled while the scoring runs, nor until ``cutoff`` has passed since."""
    return Job.objects.filter(kind=Job.Kind.SCORE, params__then_assess_job=job_id).filter(
        Q(finished_at__isnull=True) | Q(finished_at__gt=cutoff)).exists()


def job_payload(job: Job) -> dict:
    return {
        "job_id": job.pk, "kind": job.kind, "status": job.status, "total": job.total, "done": job.done,
        "failed": job.failed, "error": job.error,
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "result": job.result,
    }


def webhook_emit(*, event: str, payload: dict) -> int:
    """Emit a webhook event when the webhooks app provides ``event_emit`` (0 otherwise)."""
    try:
        from apps.webhooks.services import event_emit
    except ImportError:
        return 0
    try:
        return event_emit(event=event, payload=payload)
    except Exception:  # a webhook outage must not fail the job that triggered it
        logger.exception("could not emit webhook event %s", event)
        return 0


def job_cancel(*, job_id: int, user=None) -> Job:
    """Cancel a queued or running job; its remaining chunks are skipped."""
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job_id)
        if job.status in TERMINAL:
            raise Conflict(f"Job {job.pk} is already {job.status}.")
        job.status = Job.Status.CANCELLED
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "finished_at"])
        audit_record(action="job.cancel", actor=user, target=job, data={"kind": job.kind})
        transaction.on_commit(partial(_after_finish, job_id=job.pk))
    return job


def task_results_cleanup(*, days: int | None = None, batch_size: int = 5000) -> int:
    """Delete django-celery-results rows older than ``days`` in primary-key ranges.

    Each batch is one ``DELETE ... WHERE id >= a AND id < b AND date_done < cutoff``
    (a raw delete: no rows are loaded into memory), so the table is never scanned into
    Python and locks stay short.
    """
    import datetime as dt

    from django.conf import settings
    from django.db.models import Max, Min
    from django_celery_results.models import TaskResult

    days = days if days is not None else max(1, int(settings.CELERY_RESULT_EXPIRES // 86400))
    cutoff = timezone.now() - dt.timedelta(days=days)
    bounds = TaskResult.objects.filter(date_done__lt=cutoff).aggregate(lo=Min("id"), hi=Max("id"))
    if bounds["lo"] is None:
        return 0
    deleted = 0
    start = bounds["lo"]
    while start <= bounds["hi"]:
        qs = TaskResult.objects.filter(id__gte=start, id__lt=start + batch_size, date_done__lt=cutoff)
        deleted += qs._raw_delete(qs.db)
        start += batch_size
    logger.info("deleted %s task results older than %s days", deleted, days)
    return deleted


DEFAULT_SCHEDULES = [
    # name, task, crontab (minute, hour, day of week) in Asia/Shanghai, kwargs
    ("nightly quality assessment", "scoring.nightly_assessment", ("0", "2", "*"), {}),
    ("clean up old task results", "jobs.cleanup_results", ("30", "3", "*"), {}),
    ("reply index, incremental", "scoring.rebuild_reply_index", ("0", "4", "*"), {"full": False}),
    ("reply index, full rebuild", "scoring.rebuild_reply_index", ("30", "4", "0"), {"full": True}),
    ("resume stalled scoring jobs", "scoring.resume_stalled_jobs", ("*/10", "*", "*"), {}),
]


def schedules_setup(*, tz: str = "Asia/Shanghai") -> list[str]:
    """Create the default beat entries that do not exist (by name); never overwrite an edited one."""
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    created = []
    for name, task, (minute, hour, day_of_week), kwargs in DEFAULT_SCHEDULES:
        if PeriodicTask.objects.filter(name=name).exists():
            continue
        crontab, _ = CrontabSchedule.objects.get_or_create(
            minute=minute, hour=hour, day_of_week=day_of_week, day_of_month="*", month_of_year="*", timezone=tz)
        PeriodicTask.objects.create(
            name=name, task=task, crontab=crontab, queue="default", kwargs=json.dumps(kwargs))
        created.append(name)
    return created
