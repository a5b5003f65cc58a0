"""The job kinds other apps register: which Celery task runs a kind, and how a caller submits one.

The jobs app knows no kind of its own. Each app that owns a kind of batch work registers it
once, in its ``AppConfig.ready()``::

    job_kind_register(name="score", task="scoring.score_job", chunk_task="scoring.score_chunk",
                      submit=score_job_submit)

The jobs service then dispatches a job by task name (``send_task``), so ``apps/`` never
imports ``workers/``.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from apps.core.exceptions import ApplicationError


@dataclass(frozen=True)
class JobKind:
    name: str
    task: str
    """Celery task name that runs (or orchestrates) a job of this kind; called with ``job_id``."""
    chunk_task: str | None = None
    """Celery task name of one chunk, called with ``job_id, chunk_index, conversation_ids``."""
    submit: Callable | None = None
    """The owning app's validated submit service: ``submit(*, params, created_by, idempotency_key)``."""
    label: str = ""
    """What people read (lazily translated); the name when empty."""


_kinds: dict[str, JobKind] = {}


def job_kind_register(*, name: str, task: str, chunk_task: str | None = None,
                      submit: Callable | None = None, label: str = "") -> JobKind:
    """Register (or re-register, idempotently) one job kind."""
    kind = JobKind(name=name, task=task, chunk_task=chunk_task, submit=submit, label=label)
    _kinds[name] = kind
    return kind


def job_kind_get(name: str) -> JobKind:
    try:
        return _kinds[name]
    except KeyError:
        raise ApplicationError(f"Unknown job kind {name!r}.", {"kinds": sorted(_kinds)}) from None


def job_kinds() -> list[str]:
    return sorted(_kinds)


def job_kind_choices() -> list[tuple[str, str]]:
    """``Job.kind``'s choices: the registered kinds (read when a form, filter or schema needs them)."""
    return [(name, _kinds[name].label or name) for name in sorted(_kinds)]
