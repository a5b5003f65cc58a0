"""Jobs: batch work with progress that survives restarts (the table, not Flower's memory).

Progress is counted with ``F()`` updates so concurrent chunk tasks never lose an increment;
finishing is a conditional update so exactly one caller finishes a job (and sends
``job_finished``), however many chunks complete at once.

The ``Job`` row is the outbox of its Celery message: ``job_dispatch`` sends the kind's task
by name after commit and stamps ``dispatched_at`` only once the broker took it, so a job the
broker never received stays visible (``dispatched_at`` empty) and ``jobs_watchdog`` sends it
again. The watchdog also finishes complete jobs left ``running`` and re-sends chunks that
made no progress for ``JOB_CHUNK_STALL_SECONDS``; ``job_resume`` does the same for one job
on demand (API, admin, ``manage.py resume_jobs``).
"""
from __future__ import annotations

import datetime as dt
import json
import logging
from functools import partial
from collections.abc import Callable, Iterable
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask
from django_celery_results.models import TaskResult

from apps.core.exceptions import ApplicationError, Conflict
from apps.core.metrics import JOB_PROGRESS, JOBS_FINISHED
from apps.core.services import audit_record

from .kinds import job_kind_get
from .models import Job, JobChunk
from .signals import job_finished

logger = logging.getLogger(__name__)

TERMINAL = (Job.Status.SUCCEEDED, Job.Status.FAILED, Job.Status.CANCELLED)
ACTIVE = (Job.Status.QUEUED, Job.Status.RUNNING)


def _user(user):
    return user if getattr(user, "pk", None) and getattr(user, "_meta", None) else None


def job_create(
    *, kind: str, params: dict | None = None, created_by=None, idempotency_key: str | None = None,
    enqueue: bool = True,
) -> tuple[Job, bool]:
    """Create a job (or return the one with the same idempotency key) and dispatch it after commit.

    Returns ``(job, created)``. A job found by its key that the broker never received is
    dispatched again, so a client's retry after a broker outage gets a job that runs.
    """
    job_kind_get(kind)  # an unknown kind is refused before anything is written
    key = (idempotency_key or "").strip()[:128] or None
    if key:
        existing = Job.objects.filter(idempotency_key=key).first()
        if existing is not None:
            if existing.kind != kind:
                raise Conflict("This idempotency key was used for a different kind of job.", {"job": existing.pk})
            if existing.status == Job.Status.QUEUED and existing.dispatched_at is None and enqueue:
                transaction.on_commit(partial(job_dispatch, job_id=existing.pk))
            return existing, False
    try:
        with transaction.atomic():
            job = Job.objects.create(
                kind=kind, params=params or {}, created_by=_user(created_by), idempotency_key=key,
            )
            if enqueue:
                transaction.on_commit(partial(job_dispatch, job_id=job.pk))
    except IntegrityError:
        # Two requests with the same key raced; the other one won.
        existing = Job.objects.filter(idempotency_key=key).first()
        if existing is None:
            raise
        return existing, False
    return job, True


def job_submit(*, kind: str, params: dict | None = None, created_by=None,
               idempotency_key: str | None = None) -> tuple[Job, bool]:
    """Submit a job through the service its app registered for the kind (validates ``params``)."""
    spec = job_kind_get(kind)
    if spec.submit is None:
        raise ApplicationError(f"Jobs of kind {kind!r} are not submitted directly.")
    return spec.submit(params=params or {}, created_by=created_by, idempotency_key=idempotency_key)


def job_dispatch(*, job_id: int) -> bool:
    """Send a job's message to its kind's task (by name); True once the broker took it.

    A broker that refuses the message leaves ``dispatched_at`` empty: the job stays queued and
    the watchdog sends it again (nothing is raised to the caller, whose job is saved).
    """
    job = Job.objects.only("kind", "status").get(pk=job_id)
    if job.status not in ACTIVE:
        return False
    try:
        current_app.send_task(job_kind_get(job.kind).task, args=[job_id])
    except Exception:
        logger.exception("could not send job %s to the broker; the watchdog sends it again", job_id)
        return False
    Job.objects.filter(pk=job_id).update(dispatched_at=timezone.now())
    return True


PlanFn = Callable[[Job], tuple[Iterable[int], int, dict | None, dict]]


def chunks_plan(*, job_id: int, plan: PlanFn) -> list[tuple[int, list[int]]]:
    """Split a job into ``JobChunk`` rows once and return the chunks still pending.

    ``plan(job)`` is called only while the job has no chunks; it returns the ids to cover
    (in order), the chunk size, the job's new parameters (or None to keep them) and a summary
    for the "planned" step (also the result of a job with nothing to do). The plan is stored in
    one transaction under the job's row lock, so a redelivered orchestrator re-sends the same
    chunks instead of planning a different split.
    """
    job = Job.objects.get(pk=job_id)
    if job.status in TERMINAL:
        return []
    if JobChunk.objects.filter(job_id=job_id).exists():
        job_start(job_id=job_id)
        return _pending_chunks(job_id)
    ids, size, params, summary = plan(job)
    size = max(1, int(size))
    chunks: list[JobChunk] = []
    current: list[int] = []
    total = 0
    for cid in ids:
        current.append(cid)
        total += 1
        if len(current) == size:
            chunks.append(JobChunk(job_id=job_id, index=len(chunks), conversation_ids=current, n=size))
            current = []
    if current:
        chunks.append(JobChunk(job_id=job_id, index=len(chunks), conversation_ids=current, n=len(current)))
    with transaction.atomic():
        locked = Job.objects.select_for_update().get(pk=job_id)
        if not JobChunk.objects.filter(job_id=job_id).exists():  # else a concurrent replay planned first
            JobChunk.objects.bulk_create(chunks, batch_size=500)
            if params is not None:
                locked.params = params
                locked.save(update_fields=["params"])
            job_start(job_id=job_id, total=total)
            job_step(job_id=job_id, step="planned", chunks=len(chunks), total=total, **summary)
    if total == 0:
        job_finish(job_id=job_id, result=summary)
        return []
    return _pending_chunks(job_id)


def chunks_dispatch(*, job_id: int, chunks: list[tuple[int, list[int]]]) -> int:
    """Send one message per chunk to the kind's chunk task; returns how many the broker took."""
    job = Job.objects.only("kind").get(pk=job_id)
    task = job_kind_get(job.kind).chunk_task
    sent = 0
    for index, ids in chunks:
        try:
            current_app.send_task(task, args=[job_id, index, ids])
        except Exception:
            logger.exception("could not send chunk %s of job %s; the watchdog sends it again", index, job_id)
            break
        JobChunk.objects.filter(job_id=job_id, index=index).update(sent_at=timezone.now())
        sent += 1
    return sent


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
    job = Job.objects.only("kind", "done", "failed", "total").get(pk=job_id)
    JOB_PROGRESS.labels(job_id=str(job_id), kind=job.kind).set(
        (job.done + job.failed) / job.total if job.total else 0.0
    )


def job_step(*, job_id: int, step: str, **data: Any) -> None:
    """Append one step to ``Job.steps`` (row-locked, so concurrent appends are kept)."""
    with transaction.atomic():
        job = Job.objects.select_for_update().only("steps").get(pk=job_id)
        job.steps = [*(job.steps or []), {"at": timezone.now().isoformat(), "step": step, **data}]
        job.save(update_fields=["steps"])


def job_is_cancelled(*, job_id: int) -> bool:
    """For long work to check between batches."""
    return Job.objects.filter(pk=job_id, status=Job.Status.CANCELLED).exists()


def job_finish(
    *, job_id: int, status: str | None = None, error: str = "", result: dict | None = None,
    only_when_complete: bool = False,
) -> bool:
    """Finish a running (or queued) job exactly once. Returns True for the caller that finished it.

    With ``only_when_complete`` the job finishes only once ``done + failed >= total``
    (the last chunk finishes the job). Without ``status`` it is succeeded unless items failed.
    """
    qs = Job.objects.filter(pk=job_id, status__in=ACTIVE)
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


def job_fail(*, job_id: int, error: str) -> bool:
    """Mark a job failed with ``error`` (a task's final failure); False when it had already finished."""
    return job_finish(job_id=job_id, status=Job.Status.FAILED, error=error or "failed")


def _after_finish(*, job_id: int) -> None:
    job = Job.objects.get(pk=job_id)
    JOBS_FINISHED.labels(kind=job.kind, status=job.status).inc()
    try:
        JOB_PROGRESS.remove(str(job.pk), job.kind)
    except KeyError:
        pass
    for receiver, response in job_finished.send_robust(sender=Job, job=job, payload=job_payload(job)):
        if isinstance(response, Exception):  # a webhook outage must not fail the job that triggered it
            logger.error("job_finished receiver %s failed for job %s: %r", receiver, job_id, response)


# --- chunks ----------------------------------------------------------------------

def chunk_begin(*, job_id: int, chunk_index: int, retries: int = 0) -> bool:
    """Count one attempt at a pending chunk; False when it should not run.

    Not run: the chunk is no longer pending (a redelivered or re-sent copy of a finished
    chunk), the job was cancelled (the chunk is skipped), or the chunk was started more than
    ``JOB_CHUNK_MAX_ATTEMPTS`` times without an outcome (a poison chunk that kills its worker
    each time is failed). ``retries``: the task's retries of a transient error so far, which
    are not held against the chunk.
    """
    now = timezone.now()
    if job_is_cancelled(job_id=job_id):
        JobChunk.objects.filter(job_id=job_id, index=chunk_index, state=JobChunk.State.PENDING).update(
            state=JobChunk.State.SKIPPED, finished_at=now)
        return False
    n = JobChunk.objects.filter(job_id=job_id, index=chunk_index, state=JobChunk.State.PENDING).update(
        attempts=F("attempts") + 1, started_at=now)
    if not n:
        return False
    attempts = JobChunk.objects.filter(job_id=job_id, index=chunk_index).values_list("attempts", flat=True).get()
    if attempts - retries > settings.JOB_CHUNK_MAX_ATTEMPTS:
        chunk_fail(job_id=job_id, chunk_index=chunk_index,
                   error=f"gave up after {attempts - 1 - retries} attempts that ended without an outcome "
                         f"(JOB_CHUNK_MAX_ATTEMPTS)")
        return False
    return True


def chunk_done(*, job_id: int, chunk_index: int, done: int, failed: int) -> bool:
    """Move a pending chunk to done and count its items, once. Call inside the chunk's transaction.

    The conditional ``pending -> done`` update is the guard: a replayed chunk counts nothing.
    """
    counted = bool(JobChunk.objects.filter(job_id=job_id, index=chunk_index, state=JobChunk.State.PENDING).update(
        state=JobChunk.State.DONE, done=done, failed=failed, finished_at=timezone.now()))
    if counted:
        job_progress(job_id=job_id, done=done, failed=failed)
    return counted


def chunk_fail(*, job_id: int, chunk_index: int, error: str) -> None:
    """Record a chunk that failed for good (retries or attempts exhausted, or a non-transient error)."""
    with transaction.atomic():
        chunk = JobChunk.objects.select_for_update().filter(
            job_id=job_id, index=chunk_index, state=JobChunk.State.PENDING).first()
        if chunk is None:
            return
        chunk.state = JobChunk.State.FAILED
        chunk.failed = chunk.n
        chunk.error = error[:5000]
        chunk.finished_at = timezone.now()
        chunk.save(update_fields=["state", "failed", "error", "finished_at"])
        job_progress(job_id=job_id, failed=chunk.n)
        Job.objects.filter(pk=job_id, error="").update(error=f"chunk {chunk_index}: {error}"[:10000])
    job_finish(job_id=job_id, only_when_complete=True)


# --- recovery --------------------------------------------------------------------

def _pending_chunks(job_id: int, *, sent_before: dt.datetime | None = None) -> list[tuple[int, list[int]]]:
    qs = JobChunk.objects.filter(job_id=job_id, state=JobChunk.State.PENDING)
    if sent_before is not None:
        qs = qs.filter(Q(sent_at__isnull=True) | Q(sent_at__lt=sent_before)).filter(
            Q(started_at__isnull=True) | Q(started_at__lt=sent_before))
    return list(qs.order_by("index").values_list("index", "conversation_ids"))


def _recover(job: Job, *, stall_cutoff: dt.datetime, chunk_cutoff: dt.datetime) -> str | None:
    """Bring one active job forward; returns what was done (None: nothing to do)."""
    has_chunks = JobChunk.objects.filter(job_id=job.pk).exists()
    if job.status == Job.Status.RUNNING and has_chunks:
        if not JobChunk.objects.filter(job_id=job.pk, state=JobChunk.State.PENDING).exists():
            if not job_finish(job_id=job.pk, only_when_complete=True):
                return None
            # Visible on the job: its last chunk committed, and the recovery did the finish that chunk could not.
            job_step(job_id=job.pk, step="finished by recovery", reason="every chunk was done")
            return "finished"
        stalled = _pending_chunks(job.pk, sent_before=chunk_cutoff)
        if stalled and (job.started_at is None or job.started_at < chunk_cutoff):
            sent = chunks_dispatch(job_id=job.pk, chunks=stalled)
            job_step(job_id=job.pk, step="resumed", chunks=[i for i, _ in stalled][:100], sent=sent)
            return f"re-sent {sent} chunks"
        return None
    if job.status == Job.Status.QUEUED and (
            job.dispatched_at is None or job.dispatched_at < stall_cutoff):
        # Never reached the broker, or no worker started it: send it again. Whichever message
        # starts it first claims it (``job_start``'s ``task_id``); the other leaves it alone.
        if job_dispatch(job_id=job.pk):
            job_step(job_id=job.pk, step="resumed", dispatched=True)
            return "dispatched"
    return None


def jobs_watchdog(*, stalled_after: int | None = None, chunk_stalled_after: int | None = None) -> dict[int, str]:
    """Finish or re-dispatch what a worker, broker or database fault left behind. Returns ``{job id: action}``.

    - a running job whose chunks are all finished is finished (its last chunk's finish step
      failed after the chunk committed);
    - pending chunks neither sent nor started for ``chunk_stalled_after`` seconds
      (``JOB_CHUNK_STALL_SECONDS``) are sent again; a copy of a chunk that meanwhile finished
      is skipped by ``chunk_begin`` and a chunk counts once however often it runs;
    - a queued job the broker never took is sent again at once; one sent but not started for
      ``stalled_after`` seconds (``JOB_STALL_SECONDS``) is sent again. A queued job whose
      ``params["waits_for_job"]`` is still active is left to wait.

    A running job without chunks (training, assessment) is not re-sent: its message waits
    unacknowledged in the broker, which redelivers it if its worker dies.
    """
    now = timezone.now()
    stalled_after = settings.JOB_STALL_SECONDS if stalled_after is None else stalled_after
    chunk_stalled_after = settings.JOB_CHUNK_STALL_SECONDS if chunk_stalled_after is None else chunk_stalled_after
    stall_cutoff = now - dt.timedelta(seconds=stalled_after)
    chunk_cutoff = now - dt.timedelta(seconds=chunk_stalled_after)
    actions: dict[int, str] = {}
    for job in Job.objects.filter(status__in=ACTIVE).order_by("pk").iterator():
        waits_for = job.params.get("waits_for_job") if job.status == Job.Status.QUEUED else None
        if waits_for and Job.objects.filter(pk=waits_for, status__in=ACTIVE).exists():
            continue  # its app dispatches it when the job it waits for finishes
        action = _recover(job, stall_cutoff=stall_cutoff, chunk_cutoff=chunk_cutoff)
        if action:
            actions[job.pk] = action
    if actions:
        logger.warning("watchdog recovered jobs: %s", actions)
    return actions


def job_resume(*, job_id: int, user=None) -> Job:
    """Resume one job now, whatever its age: send what is pending again, or re-run what failed.

    - queued: its message is sent again;
    - running: a complete job is finished, and every pending chunk is sent again;
    - failed (or cancelled) with chunks: the failed and skipped chunks go back to pending with
      their counts taken off the job, and the job runs again; its finished chunks are kept, so
      nothing is scored twice;
    - failed without chunks: the job is queued again and its task sent.
    """
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job_id)
        if job.status == Job.Status.SUCCEEDED:
            raise Conflict(_("Job %(id)s already succeeded; submit a new job to run it again.") % {"id": job.pk})
        reopened = job.status in (Job.Status.FAILED, Job.Status.CANCELLED)
        if reopened:
            redo = JobChunk.objects.filter(job_id=job.pk, state__in=[JobChunk.State.FAILED, JobChunk.State.SKIPPED])
            failed = sum(redo.values_list("failed", flat=True))
            redo.update(state=JobChunk.State.PENDING, done=0, failed=0, attempts=0, error="", finished_at=None,
                        sent_at=None, started_at=None)
            has_chunks = JobChunk.objects.filter(job_id=job.pk).exists()
            job.status = Job.Status.RUNNING if has_chunks else Job.Status.QUEUED
            job.failed = max(0, job.failed - failed)
            job.finished_at = None
            job.error = ""
            job.task_id = ""
            job.save(update_fields=["status", "failed", "finished_at", "error", "task_id"])
        audit_record(action="job.resume", actor=user, target=job, data={"kind": job.kind, "reopened": reopened})
    far_future = timezone.now() + dt.timedelta(days=1)
    action = _recover(Job.objects.get(pk=job.pk), stall_cutoff=far_future, chunk_cutoff=far_future)
    job_step(job_id=job.pk, step="resume requested", action=action or "nothing pending")
    return Job.objects.get(pk=job.pk)


def job_payload(job: Job) -> dict:
    return {
        "job_id": job.pk, "kind": job.kind, "status": job.status, "total": job.total, "done": job.done,
        "failed": job.failed, "error": job.error,
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "result": job.result,
    }


def job_cancel(*, job_id: int, user=None) -> Job:
    """Cancel a queued or running job; running chunks stop at their next batch, the rest are skipped."""
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


def schedules_setup() -> list[str]:
    """Create the beat entries of ``settings.BEAT_SCHEDULE`` that do not exist (by name), in ``TIME_ZONE``.

    An entry that exists is left exactly as a manager edited it in the admin.
    """
    created = []
    for name, entry in settings.BEAT_SCHEDULE.items():
        if PeriodicTask.objects.filter(name=name).exists():
            continue
        schedule: dict[str, Any]
        if "every_seconds" in entry:
            interval, _ = IntervalSchedule.objects.get_or_create(
                every=int(entry["every_seconds"]), period=IntervalSchedule.SECONDS)
            schedule = {"interval": interval}
        else:
            minute, hour, day_of_week = entry["crontab"].split()
            crontab, _ = CrontabSchedule.objects.get_or_create(
                minute=minute, hour=hour, day_of_week=day_of_week, day_of_month="*", month_of_year="*",
                timezone=settings.TIME_ZONE)
            schedule = {"crontab": crontab}
        PeriodicTask.objects.create(
            name=name, task=entry["task"], kwargs=json.dumps(entry.get("kwargs", {})),
            description="A default schedule (settings.BEAT_SCHEDULE); edit freely.", **schedule)
        created.append(name)
    return created
