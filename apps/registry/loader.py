"""Per-process cache of loaded estimators.

Web and worker processes load each production version once (``ml.load`` verifies
every sha256 before anything is deserialised) and reload when the production set
changes. The production set sits in an ``apps.core.cache.TTLCache``: it is looked up
again after ``REGISTRY_CHECK_SECONDS`` (one query), and dropped in every process when a
promotion or rollback renews its shared generation in Django's cache (at once in the
promoting process, within ``GENERATION_CHECK_SECONDS`` in the others; with Django's cache
unreachable, within ``REGISTRY_CHECK_SECONDS``). A corrupted
artifact is refused and reported, never used.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.conf import settings

from apps.core.cache import TTLCache
from apps.core.exceptions import ServiceUnavailable

from .models import ModelVersion, Task

logger = logging.getLogger(__name__)

PRODUCTION_SHARED_KEY = "registry-production"
# Seconds between reads of the shared generation (one cache read per process per interval).
GENERATION_CHECK_SECONDS = 1.0
TASK_ORDER = (Task.INTENT, Task.SENTIMENT, Task.QUALITY)


class ModelsUnavailable(ServiceUnavailable):
    """No production model, or a production artifact failed verification."""


@dataclass(frozen=True)
class LoadedModel:
    task: str
    version_id: int
    version: int
    backend: str
    estimator: Any


@dataclass(frozen=True)
class ModelSet:
    """The estimators one prediction uses, and the key that names them together."""

    models: dict[str, LoadedModel] = field(default_factory=dict)

    def get(self, task: str) -> LoadedModel | None:
        return self.models.get(task)

    # Computed once per set (the set is immutable): every prediction answer names them.
    @cached_property
    def version_key(self) -> str:
        return "|".join(f"{t}:{self.models[t].version}" for t in TASK_ORDER if t in self.models)

    @property
    def version_ids(self) -> dict[str, int]:
        return {t: m.version_id for t, m in self.models.items()}

    @cached_property
    def versions(self) -> dict[str, dict]:
        return {t: {"id": m.version_id, "version": m.version, "backend": m.backend} for t, m in self.models.items()}

    def __bool__(self) -> bool:
        return bool(self.models)


_lock = threading.Lock()
_estimators: dict[int, LoadedModel] = {}  # version id -> loaded estimator (kept while in use)
_production = TTLCache(ttl=lambda: settings.REGISTRY_CHECK_SECONDS, maxsize=1, shared_key=PRODUCTION_SHARED_KEY,
                       sync_seconds=GENERATION_CHECK_SECONDS)


def bump_generation() -> None:
    """Make every process sharing the cache reload the production set (after promote/rollback).

    With the shared cache down only this process reloads at once; the others within
    ``REGISTRY_CHECK_SECONDS`` (the TTL cache logs the outage).
    """
    _production.invalidate()


def reset() -> None:
    """Forget everything loaded (tests, or after a settings change)."""
    with _lock:
        _estimators.clear()
    bump_generation()


_threads_limited = False


def _limit_threads() -> None:
    """One native thread per process for inference (``ML_NUM_THREADS``, default 1).

    Web and worker processes already give the parallelism; OpenMP/BLAS pools on top of
    them oversubscribe the cores and multiply the time of a one-row prediction.
    """
    global _threads_limited
    if _threads_limited:
        return
    _threads_limited = True
    limit = settings.ML_NUM_THREADS
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=limit)
    except Exception:  # pragma: no cover - threadpoolctl ships with scikit-learn
        logger.warning("could not limit native thread pools", exc_info=True)


def _load(mv: ModelVersion) -> LoadedModel:
    import ml

    _limit_threads()

    cached = _estimators.get(mv.pk)
    if cached is not None:
        return cached
    try:
        estimator = ml.load(mv.artifact_path)
    except ml.ArtifactError as exc:
        logger.error("refusing model %s (id %s): %s", mv, mv.pk, exc)
        raise ModelsUnavailable(
            f"The artifact of {mv.task} v{mv.version} failed verification and was refused: {exc}",
            {"task": mv.task, "version": mv.version},
        ) from exc
    loaded = LoadedModel(task=mv.task, version_id=mv.pk, version=mv.version, backend=mv.backend, estimator=estimator)
    _estimators[mv.pk] = loaded
    return loaded


def models_for(version_ids: dict[str, int] | list[int]) -> ModelSet:
    """Load a fixed set of versions (a batch job pins the versions it started with)."""
    ids = list(version_ids.values()) if isinstance(version_ids, dict) else list(version_ids)
    with _lock:
        missing = [i for i in ids if i not in _estimators]
        if missing:
            for mv in ModelVersion.objects.filter(pk__in=missing):
                _load(mv)
        absent = [i for i in ids if i not in _estimators]
        if absent:
            raise ModelsUnavailable(f"Model versions {absent} do not exist.")
        return ModelSet({_estimators[i].task: _estimators[i] for i in ids})


def _production_load() -> ModelSet:
    versions = list(
        ModelVersion.objects.filter(status=ModelVersion.Status.PRODUCTION, task__in=TASK_ORDER).order_by("pk")
    )
    loaded = ModelSet({mv.task: _load(mv) for mv in versions})
    # Drop estimators no longer in production (a pinned job reloads them if needed).
    ids = {mv.pk for mv in versions}
    for stale in [k for k, m in _estimators.items() if k not in ids and m.task in TASK_ORDER]:
        del _estimators[stale]
    return loaded


def production_models(*, required: bool = True) -> ModelSet:
    """The production estimators of the core tasks (intent, sentiment, quality), loaded once per
    process and reloaded when they change."""
    models = _production.get("production")
    if models is None or (required and not models):
        with _lock:
            models = _production.get("production")
            if models is None or (required and not models):
                models = _production_load()
                _production.set("production", models)
    if required and not models:
        raise ModelsUnavailable(
            "No model is in production yet. Train and promote one (manage.py bootstrap_models, "
            "or promote a version in the admin)."
        )
    return models


def production_model(task: str) -> LoadedModel | None:
    """The production estimator of one task outside the core set (a learned QA criterion's
    ``qa:<key>``), loaded once per process per version; None when the task has no production version."""
    version_id = (
        ModelVersion.objects.filter(task=task, status=ModelVersion.Status.PRODUCTION).values_list("pk", flat=True).first()
    )
    with _lock:
        for stale in [k for k, m in _estimators.items() if m.task == task and k != version_id]:
            del _estimators[stale]  # a version of this task no longer in production
    if version_id is None:
        return None
    return models_for([version_id]).get(task)
