"""The managers' console: model versions (promote, roll back) and jobs (start, follow)."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.db.models import Count
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from apps.core.exceptions import ApplicationError
from apps.core.services import audit_record
from apps.jobs.models import Job, JobChunk
from apps.registry.models import ModelVersion, Promotion, Task
from apps.registry.services import model_version_promote, model_version_rollback
from apps.registry.training import retrain_submit
from apps.scoring.services.assessment import assessment_start
from apps.scoring.services.batch import score_job_submit

from . import selectors_detail
from .access import console_required
from .forms import ConfirmForm, JobStartForm
from .templatetags.console import version_label

# Django model permissions the console's actions require (a superuser has them all; the
# manager role group is given them by ``apps.core.roles``). Without one the action answers
# 403 and its button is not shown.
MODEL_PERMISSION = "registry.change_modelversion"  # promote, roll back
JOB_PERMISSION = "jobs.add_job"  # start scoring or an assessment
RETRAIN_PERMISSIONS = ("jobs.add_job", "registry.add_modelversion")  # start retraining


def _require(request, *perms: str) -> None:
    if not request.user.has_perms(perms):
        raise PermissionDenied

# --- Models ------------------------------------------------------------------------


def _metric_names() -> dict:
    """Readable names of the metrics training records, and how to print each (``int``, ``s``, ``ratio``, ``num``)."""
    return {
        "accuracy": (_("Accuracy"), "ratio"), "macro_f1": (_("Macro F1"), "ratio"),
        "weighted_f1": (_("Weighted F1"), "ratio"), "mae": (_("Mean absolute error"), "num"),
        "rmse": (_("Root mean squared error"), "num"), "r2": (_("R²"), "num"),
        "train_seconds": (_("Training time"), "s"), "n_train": (_("Training rows"), "int"),
        "n_test": (_("Held-out rows"), "int"), "n_heldout": (_("Held-out rows"), "int"),
        "n_classes": (_("Classes"), "int"), "n": (_("Rows"), "int"),
    }


def _metric_value(key: str, value, kind: str | None = None) -> str:
    """A metric as a manager reads it: counts as whole numbers, ratios as percentages, seconds as seconds."""
    if value is None or isinstance(value, bool):
        return "—" if value is None else (_("yes") if value else _("no"))
    if not isinstance(value, (int, float)):
        return str(value)
    kind = kind or _metric_names().get(key, (key, "int" if key.startswith("n_") else "num"))[1]
    if kind == "int" or (isinstance(value, float) and value.is_integer() and key.startswith("n_")):
        return f"{int(round(value)):,}"
    if kind == "ratio":
        return f"{value * 100:.2f}%"
    if kind == "s":
        return _("%(s).1f s") % {"s": value}
    return f"{value:.4f}"


def _metric_label(key: str) -> str:
    return str(_metric_names().get(key, (key.replace("_", " "), None))[0])


def _comparison_rows(comparison: dict) -> list[dict]:
    candidate = comparison.get("candidate") or {}
    production = comparison.get("production") or {}
    rows = []
    for key in sorted(set(candidate) | set(production)):
        c, p = candidate.get(key), production.get(key)
        if isinstance(c, (dict, list)) or isinstance(p, (dict, list)):
            continue
        delta = round(c - p, 4) if isinstance(c, (int, float)) and isinstance(p, (int, float)) else None
        rows.append({
            "metric": key, "label": _metric_label(key), "candidate": c, "production": p, "delta": delta,
            "candidate_text": _metric_value(key, c), "production_text": _metric_value(key, p),
            "delta_text": ("+" if delta and delta > 0 else "") + _metric_value(key, delta) if delta is not None else "—",
        })
    return rows


def _scalar_metrics(metrics: dict) -> list[tuple[str, str]]:
    return [(_metric_label(k), _metric_value(k, v)) for k, v in sorted((metrics or {}).items())
            if not isinstance(v, (dict, list))]


def _decision_text(version) -> str:
    """Why a version is in production (or was rejected), in plain words, from its recorded comparison."""
    comparison = version.comparison or {}
    reason = comparison.get("reason") or ""
    candidate, production = comparison.get("candidate") or {}, comparison.get("production") or {}
    n = (comparison.get("heldout") or {}).get("n")
    prod_version = comparison.get("production_version")
    if not comparison:
        return ""
    if reason.startswith("promotion forced"):
        return _("Put into production without a comparison: it was the first model of this task, "
                 "installed by the demo or setup (bootstrap).")
    if reason.startswith("no production version"):
        return _("Put into production because no version of this task was in production.")
    if reason.startswith("production v") and "refused" in reason:
        return _("Put into production because the production version's files failed their integrity check.")
    if reason.startswith("empty held-out"):
        return _("Not promoted: there were no held-out conversations to compare on.")
    key = "mae" if "mae" in candidate else "macro_f1"
    c, p = candidate.get(key), production.get(key)
    if c is None or p is None:
        return reason
    values = {"metric": _metric_label(key), "c": _metric_value(key, c), "p": _metric_value(key, p),
              "v": prod_version, "n": n or 0, "m": comparison.get("margin")}
    better = (p - c) if key == "mae" else (c - p)
    if better >= float(comparison.get("margin") or 0):
        return _("Better than production v%(v)s on the same %(n)s held-out conversations: %(metric)s "
                 "%(c)s against %(p)s (at least %(m)s better was required).") % values
    return _("Not better than production v%(v)s on the same %(n)s held-out conversations: %(metric)s "
             "%(c)s against %(p)s (at least %(m)s better was required).") % values


@console_required
@require_GET
def model_list(request):
    tasks = selectors_detail.model_versions_by_task()
    for task in tasks:
        for v in task["versions"]:
            v.metric_rows = _scalar_metrics(v.metrics)
            v.comparison_rows = _comparison_rows(v.comparison or {})
            v.has_confusion = _confusion_path(v) is not None
            v.decision_text = _decision_text(v)
        production = task["production"]
        # Rolling back needs an earlier version to return to: the one the current promotion replaced.
        last = Promotion.objects.filter(
            task=task["task"], model_version=production, action=Promotion.Action.PROMOTE,
        ).order_by("-at", "-id").first() if production else None
        task["can_roll_back"] = bool(last and last.previous_id)
    return render(request, "dashboard/models.html", {
        "tasks": tasks, "can_change_models": request.user.has_perm(MODEL_PERMISSION),
    })


def _confusion_path(version) -> Path | None:
    """``confusion_matrix.png`` of an artifact, only when it lies inside ``MODEL_STORE``."""
    store = Path(settings.MODEL_STORE).resolve()
    raw = Path(version.artifact_path or "")
    base = raw if raw.is_absolute() else store / raw
    try:
        candidate = (base / "confusion_matrix.png").resolve()
    except (OSError, RuntimeError):
        return None
    if not candidate.is_relative_to(store) or not candidate.is_file():
        return None
    return candidate


@console_required
@require_GET
def model_confusion(request, pk: int):
    version = get_object_or_404(ModelVersion, pk=pk)
    path = _confusion_path(version)
    if path is None:
        raise Http404
    return FileResponse(path.open("rb"), content_type="image/png")


@console_required
@require_http_methods(["GET", "POST"])
def model_promote(request, pk: int):
    _require(request, MODEL_PERMISSION)
    version = get_object_or_404(ModelVersion, pk=pk)
    current = ModelVersion.objects.filter(task=version.task, status=ModelVersion.Status.PRODUCTION).first()
    form = ConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            model_version_promote(version=version, user=request.user, reason=form.cleaned_data["reason"])
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("%(version)s is now in production.") % {"version": version_label(version)})
        return redirect("dashboard:models")
    return render(request, "dashboard/model_confirm.html", {
        "form": form, "action": "promote", "version": version, "current": current,
        "comparison_rows": _comparison_rows(version.comparison or {}),
    })


@console_required
@require_http_methods(["GET", "POST"])
def model_rollback(request, task: str):
    _require(request, MODEL_PERMISSION)
    if task not in Task.values:
        raise Http404
    current = ModelVersion.objects.filter(task=task, status=ModelVersion.Status.PRODUCTION).first()
    promotion = (
        Promotion.objects.filter(task=task, model_version=current, action=Promotion.Action.PROMOTE)
        .select_related("previous").order_by("-at", "-id").first() if current else None
    )
    form = ConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            version = model_version_rollback(task=task, user=request.user, reason=form.cleaned_data["reason"])
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Rolled back: %(version)s is in production again.") % {
                "version": version_label(version)})
        return redirect("dashboard:models")
    return render(request, "dashboard/model_confirm.html", {
        "form": form, "action": "rollback", "task": task, "task_label": Task(task).label, "current": current,
        "version": promotion.previous if promotion else None,
    })


# --- Jobs ----------------------------------------------------------------------------


def _job_start(*, form: JobStartForm, user):
    """Call the owning app's submit service for the chosen kind of job."""
    kind = form.cleaned_data["kind"]
    if kind == "score":
        params = {"unscored": True} if form.cleaned_data.get("only_unscored") else {"all": True}
        job, _created = score_job_submit(params=params, created_by=user)
        return job
    if kind == "assess":
        date = form.cleaned_data.get("date") or (timezone.localdate() - dt.timedelta(days=1))
        job = assessment_start(date=date, created_by=user)
        if job is None:
            raise ApplicationError(_("The assessment of %(date)s has already run.") % {"date": date})
        return job

    task = form.cleaned_data.get("task")
    job, _created = retrain_submit(params={"tasks": [task]} if task else {}, created_by=user)
    return job


@console_required
@require_http_methods(["GET", "POST"])
def job_list(request):
    if request.method == "POST":
        kind = request.POST.get("kind")
        _require(request, *(RETRAIN_PERMISSIONS if kind == "retrain" else (JOB_PERMISSION,)))
    form = JobStartForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                job = _job_start(form=form, user=request.user)
            except ApplicationError as exc:
                messages.error(request, exc.message)
            else:
                audit_record(action="job.start", actor=request.user, target=job, data={"kind": job.kind})
                messages.success(request, _("Started job #%(id)s.") % {"id": job.pk})
            return redirect("dashboard:jobs")
        status = 400
    jobs = list(selectors_detail.job_list())
    for job in jobs:
        job.scope_text = _job_scope(job)
    return render(request, "dashboard/jobs.html", {
        "form": form, "jobs": jobs, "flower_url": settings.FLOWER_URL,
        "status_url": reverse("dashboard:job_status"),
        "active_ids": [j.pk for j in jobs if j.status in ("queued", "running")],
        "status_labels": _job_status_labels(),
        "can_start_jobs": request.user.has_perm(JOB_PERMISSION),
        "can_retrain": request.user.has_perms(RETRAIN_PERMISSIONS),
    }, status=status)


def _job_scope(job) -> str:
    """What a job covered, in words: its date or date range, or which conversations or tasks."""

    p = job.params or {}
    if p.get("date"):
        return _("Conversations of %(date)s") % {"date": p["date"]}
    if p.get("since") or p.get("until"):
        return _("Conversations from %(a)s to %(b)s") % {"a": p.get("since") or "…", "b": p.get("until") or "…"}
    if p.get("then_assess_job"):
        return _("Not yet scored, for assessment #%(id)s") % {"id": p["then_assess_job"]}
    if p.get("unscored"):
        return _("Conversations not scored yet")
    if p.get("all"):
        return _("All conversations")
    if p.get("agent"):
        return _("One agent's conversations")
    if p.get("conversations") or p.get("conversation_ids"):
        n = len(p.get("conversations") or p.get("conversation_ids") or [])
        return _("%(n)s chosen conversations") % {"n": n}
    if job.kind == "retrain":
        labels = dict(Task.choices)
        tasks = p.get("tasks") or list(labels)
        return _("Tasks: %(tasks)s") % {"tasks": ", ".join(str(labels.get(t, t)) for t in tasks)}
    return "—"


def _flatten(value, prefix: str = "") -> list[tuple[str, str]]:
    """A JSON value as (dotted key, printable value) rows, for a readable table instead of a dict dump."""
    rows: list[tuple[str, str]] = []
    if isinstance(value, dict):
        for k, v in value.items():
            rows.extend(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(value, list) and value and all(isinstance(v, (dict, list)) for v in value):
        for i, v in enumerate(value):
            rows.extend(_flatten(v, f"{prefix}[{i + 1}]"))
    else:
        if isinstance(value, list):
            text = ", ".join(str(v) for v in value[:20]) + (" …" if len(value) > 20 else "")
        elif isinstance(value, float):
            text = _metric_value(prefix.rsplit(".", 1)[-1], value)
        elif value is None:
            text = "—"
        else:
            text = str(value)
        rows.append((prefix or "—", text))
    return rows


def _step_row(step) -> dict:
    """One recorded step: its time and name, and its other fields as text."""
    if not isinstance(step, dict):
        return {"at": "", "name": str(step), "details": []}
    details = [(k, v) for k, v in _flatten({k: v for k, v in step.items() if k not in ("at", "step")})]
    try:
        at = timezone.localtime(dt.datetime.fromisoformat(step["at"])).strftime("%Y-%m-%d %H:%M:%S")
    except (KeyError, TypeError, ValueError):
        at = ""
    return {"at": at, "name": step.get("step", ""), "details": details}


def _job_status_labels() -> dict:
    return {k: str(v) for k, v in Job.Status.choices}


@console_required
@require_GET
def job_detail(request, pk: int):
    job = get_object_or_404(Job.objects.select_related("created_by"), pk=pk)
    chunks = job.chunks.order_by().values("state").annotate(n=Count("id"))

    job.scope_text = _job_scope(job)
    states = dict(JobChunk.State.choices)
    return render(request, "dashboard/job_detail.html", {
        "job": job, "chunks": [{"state": states.get(c["state"], c["state"]), "n": c["n"]} for c in chunks],
        "params_rows": _flatten(job.params), "result_rows": _flatten(job.result),
        "step_rows": [_step_row(s) for s in job.steps or []],
        "flower_url": settings.FLOWER_URL,
        "status_url": reverse("dashboard:job_status"), "status_labels": _job_status_labels(),
    })


@console_required
@require_GET
def job_status(request):
    try:
        ids = [int(x) for x in request.GET.get("ids", "").split(",") if x.strip()]
    except ValueError:
        return HttpResponseBadRequest("ids must be integers")
    return JsonResponse({"jobs": selectors_detail.job_status(ids=ids)})
