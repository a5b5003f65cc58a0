"""The one base class of every task: late acknowledgement, transient-error retries, job failure.

- ``acks_late`` + ``reject_on_worker_lost``: a worker killed mid-task loses nothing; the broker
  redelivers the message and the task's service makes the replay harmless.
- Transient database errors (``OperationalError``, ``InterfaceError``) are retried with
  exponential backoff and full jitter (``retry_jitter``), capped at ``TASK_RETRY_BACKOFF_MAX``
  seconds, ``TASK_MAX_RETRIES`` times: the retries of a backlog spread out over an outage
  instead of all being spent in its first minute. Anything else is a bug or bad data and fails.
- ``queue_name``: the queue of the task, which the app's router reads (``csplatform/celery.py``).
- ``on_failure`` records the final failure through the jobs service on the task's job
  (``job_arg`` names the argument that carries its id); a chunk task records its chunk.

Importing this module (and any task module) touches no model: services are imported when a
task runs, after Django is set up, so ``celery -A csplatform call <task>`` works anywhere.
"""
from __future__ import annotations

import inspect
import logging

from billiard.exceptions import WorkerLostError
from celery import Task
from django.conf import settings
from django.db import InterfaceError, OperationalError

logger = logging.getLogger(__name__)

TRANSIENT_ERRORS = (OperationalError, InterfaceError)


class PlatformTask(Task):
    acks_late = True
    reject_on_worker_lost = True
    ignore_result = True
    autoretry_for = TRANSIENT_ERRORS
    retry_backoff = 2
    retry_jitter = True
    retry_backoff_max = settings.TASK_RETRY_BACKOFF_MAX
    max_retries = settings.TASK_MAX_RETRIES
    soft_time_limit = 540
    time_limit = 600
    job_arg: str | None = None
    """Name of the argument carrying the id of the job this task works for (None: no job)."""
    queue_name: str | None = None
    """The queue this task runs on, declared by every task; ``csplatform.celery``'s router sends it
    there. (Celery's own ``queue`` task attribute is deprecated in favour of ``task_routes``.)"""

    def on_retry(self, exc, task_id, args, kwargs, einfo) -> None:
        # Celery's Django fixup closes a broken connection after the task; the retry opens a new one.
        logger.warning("%s[%s] retries after %s: %s", self.name, task_id, type(exc).__name__, exc)

    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        if self.job_arg is None or isinstance(exc, WorkerLostError):
            return  # no job to mark; or the broker redelivers the message of a lost worker
        call = dict(zip(self._argnames(), args)) | kwargs
        error = f"{type(exc).__name__}: {exc}"[:5000]
        try:
            self.record_failure(call, error)
        except Exception:
            # The database is down too: the job stays active and the watchdog takes it up later.
            logger.exception("%s[%s] could not record its failure: %s", self.name, task_id, error)

    def record_failure(self, call: dict, error: str) -> None:
        from apps.jobs import services as job_services  # the app registry is ready only when tasks run

        job_services.job_fail(job_id=int(call[self.job_arg]), error=error)

    def _argnames(self) -> list[str]:
        return list(inspect.signature(self.run).parameters)


class ChunkTask(PlatformTask):
    """A chunk of a job: a final failure fails the chunk (the job finishes when all chunks have)."""

    job_arg = "job_id"

    def record_failure(self, call: dict, error: str) -> None:
        from apps.jobs import services as job_services

        job_services.chunk_fail(job_id=int(call["job_id"]), chunk_index=int(call["chunk_index"]), error=error)
