"""Model registry: register, promote and roll back model versions.

Artifacts live under ``settings.MODEL_STORE/<task>/v<N>/``. They are written into a
temporary directory next to their final place and renamed into it, so a worker killed
mid-write (SIGTERM/SIGKILL during training) leaves at worst a ``.tmp-*`` directory,
never a half-written ``v<N>``. Every production change is one transaction that
retires the old version, sets the new one, appends a ``Promotion`` row and an audit
event; the partial unique constraint guarantees one production version per task.
"""
from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.exceptions import ApplicationError, Conflict, NotFound
from apps.core.services import audit_record

from . import loader
from .models import ModelVersion, Promotion, Task, task_is_known

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"


class ProductionChanged(Conflict):
    """Another version became production after the candidate was compared with the old one."""


class ArtifactRefused(ApplicationError):
    """An artifact failed verification (missing file, sha256 mismatch, unknown type)."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def task_store(task: str) -> Path:
    return Path(settings.MODEL_STORE) / task.replace(":", "-")


def _stage_artifact(*, task: str, estimator_dir: str | Path | None, estimator: Any) -> Path:
    """Write or copy the artifact into a temporary directory inside the task's store."""
    import ml

    store = task_store(task)
    store.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".tmp-", dir=store))
    try:
        target = staging / "artifact"
        if estimator is not None:
            estimator.save(target)
        else:
            shutil.copytree(Path(estimator_dir), target)
        # Refuse to register what we could not load later: verify every hash now.
        try:
            ml.read_manifest(target, known_backends=ml.BACKENDS)
        except ml.ArtifactError as exc:
            raise ArtifactRefused(f"Refusing to register a broken artifact: {exc}") from exc
        return target
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def model_version_register(
    *,
    task: str,
    backend: str,
    training_data: dict | None = None,
    metrics: dict | None = None,
    estimator_dir: str | Path | None = None,
    estimator: Any = None,
    comparison: dict | None = None,
    job=None,
    user=None,
) -> ModelVersion:
    """Store an artifact as the next version of ``task`` (status candidate)."""
    if not task_is_known(task):
        raise ApplicationError(f"Unknown task {task!r}.", {"tasks": [*Task.values, "qa:<criterion key>"]})
    if (estimator_dir is None) == (estimator is None):
        raise ApplicationError("Give exactly one of estimator_dir or estimator.")
    staged = _stage_artifact(task=task, estimator_dir=estimator_dir, estimator=estimator)
    sha = _sha256(staged / MANIFEST)
    store = task_store(task)
    try:
        floor = 1
        for _attempt in range(50):
            db_max = ModelVersion.objects.filter(task=task).aggregate(m=Max("version"))["m"] or 0
            version = max(db_max + 1, floor)
            final = store / f"v{version}"
            try:
                if final.exists():
                    raise FileExistsError(final)
                os.rename(staged, final)  # atomic on one filesystem
            except OSError:
                # A directory without a row (another registration in flight, or a crash between
                # rename and insert): never overwrite it, take the next number.
                logger.warning("model store already holds %s; trying the next version number", final)
                floor = version + 1
                continue
            try:
                with transaction.atomic():
                    mv = ModelVersion.objects.create(
                        task=task, backend=backend, version=version, artifact_path=str(final), sha256=sha,
                        training_data=training_data or {}, metrics=metrics or {}, comparison=comparison or {},
                        job=job,
                    )
                    audit_record(
                        action="model.register", actor=user, target=mv,
                        data={"task": task, "version": version, "backend": backend, "sha256": sha},
                    )
            except IntegrityError:
                os.rename(final, staged)  # lost the race for this number; keep the files, retry
                floor = version + 1
                continue
            return mv
        raise Conflict(f"Could not allocate a version number for {task}.")
    finally:
        shutil.rmtree(staged.parent, ignore_errors=True)


_NOT_GIVEN = object()


def model_version_promote(*, version: ModelVersion, user=None, reason: str = "",
                          action: str = Promotion.Action.PROMOTE, expected_production: Any = _NOT_GIVEN,
                          ) -> ModelVersion:
    """Make ``version`` the production model of its task (atomically).

    ``expected_production``: the id of the version the candidate was compared with (None: there
    was none). Under the task's row lock the promotion checks it is still the production version
    and raises ``ProductionChanged`` otherwise, so two retrains at once cannot replace a better
    model promoted in between.
    """
    with transaction.atomic():
        # Lock the task's rows so two promotions of one task serialise.
        rows = list(ModelVersion.objects.select_for_update().filter(task=version.task).order_by("id"))
        version = next((mv for mv in rows if mv.pk == version.pk), None)
        if version is None:
            raise NotFound("Model version not found.")
        if version.status == ModelVersion.Status.PRODUCTION:
            raise Conflict(f"{version} is already in production.")
        previous = next((mv for mv in rows if mv.status == ModelVersion.Status.PRODUCTION), None)
        if expected_production is not _NOT_GIVEN and (previous.pk if previous else None) != expected_production:
            raise ProductionChanged(
                _("The production version of %(task)s changed after the candidate was compared with it; "
                  "not promoted (retrain to compare with the new one).") % {"task": version.task})
        now = timezone.now()
        if previous is not None:
            previous.status = ModelVersion.Status.RETIRED
            previous.save(update_fields=["status"])
        version.status = ModelVersion.Status.PRODUCTION
        version.promoted_at = now
        version.promoted_by = user if getattr(user, "pk", None) else None
        version.save(update_fields=["status", "promoted_at", "promoted_by"])
        Promotion.objects.create(
            task=version.task, model_version=version, previous=previous, action=action, at=now,
            by=version.promoted_by, reason=reason[:255],
        )
        audit_record(
            action=f"model.{action}", actor=user, target=version,
            data={"task": version.task, "version": version.version,
                  "previous": previous.version if previous else None, "reason": reason},
        )
        transaction.on_commit(loader.bump_generation)
    return version


def model_version_rollback(*, task: str, user=None, reason: str = "") -> ModelVersion:
    """Return ``task`` to the version that was in production before the current one was promoted."""
    current = ModelVersion.objects.filter(task=task, status=ModelVersion.Status.PRODUCTION).first()
    if current is None:
        raise Conflict(f"No production version of {task} to roll back from.")
    promotion = (
        Promotion.objects.filter(task=task, model_version=current, action=Promotion.Action.PROMOTE)
        .select_related("previous").order_by("-at", "-id").first()
    )
    if promotion is None or promotion.previous is None:
        raise Conflict(f"{current} has no earlier production version to roll back to.")
    return model_version_promote(
        version=promotion.previous, user=user, reason=reason or f"rollback from v{current.version}",
        action=Promotion.Action.ROLLBACK,
    )


def model_version_reject(*, version: ModelVersion, reason: str) -> ModelVersion:
    version.status = ModelVersion.Status.REJECTED
    version.comparison = {**(version.comparison or {}), "decision": "rejected", "reason": reason}
    version.save(update_fields=["status", "comparison"])
    audit_record(action="model.reject", target=version, data={"reason": reason})
    return version


def production_at(*, task: str, at) -> ModelVersion | None:
    """The version that was in production for ``task`` at moment ``at`` (None before the first)."""
    promotion = (
        Promotion.objects.filter(task=task, at__lte=at).select_related("model_version")
        .order_by("-at", "-id").first()
    )
    return promotion.model_version if promotion else None
