"""The managers' console: model versions (promote, roll back) and jobs (start, follow)."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.db.models import Count
from django.http import FileResponse, Http404, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from apps.core.exceptions import ApplicationError
from apps.core.services import audit_record

from . import selectors_detail
from .forms import ConfirmForm, JobStartForm

# --- Models ------------------------------------------------------------------------


def _comparison_rows(comparison: dict) -> list[dict]:
    candidate = comparison.get("candidate") or {}
    production = comparison.get("production") or {}
    rows = []
    for key in sorted(set(candidate) | set(production)):
        c, p = candidate.get(key), production.get(key)
        if isinstance(c, (dict, list)) or isinstance(p, (dict, list)):
            continue
        delta = round(c - p, 4) if isinstance(c, (int, float)) and isinstance(p, (int, float)) else None
        rows.append({"metric": key, "candidate": c, "production": p, "delta": delta})
    return rows


def _scalar_metrics(metrics: dict) -> list[tuple[str, object]]:
    return [(k, v) for k, v in sorted((metrics or {}).items()) if not isinstance(v, (dict, list))]


@staff_member_required
@require_GET
def model_list(request):
    tasks = selectors_detail.model_versions_by_task()
    for task in tasks:
        for v in task["versions"]:
            v.metric_rows = _scalar_metrics(v.metrics)
            v.comparison_rows = _comparison_rows(v.comparison or {})
            v.has_confusion = _confusion_path(v) is not None
    return render(request, "dashboard/models.html", {"tasks": tasks})


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


@staff_member_required
@require_GET
def model_confusion(request, pk: int):
    from apps.registry.models import ModelVersion

    version = get_object_or_404(ModelVersion, pk=pk)
    path = _confusion_path(version)
    if path is None:
        raise Http404
    return FileResponse(path.open("rb"), content_type="image/png")


@staff_member_required
@require_http_methods(["GET", "POST"])
def model_promote(request, pk: int):
    from apps.registry.models import ModelVersion
    from apps.registry.services import model_version_promote

    version = get_object_or_404(ModelVersion, pk=pk)
    current = ModelVersion.objects.filter(task=version.task, status=ModelVersion.Status.PRODUCTION).first()
    form = ConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            model_version_promote(version=version, user=request.user, reason=form.cleaned_data["reason"])
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("%(version)s is now in production.") % {"version": version})
        return redirect("dashboard:models")
    return render(request, "dashboard/model_confirm.html", {
        "form": form, "action": "promote", "version": version, "current": current,
        "comparison_rows": _comparison_rows(version.comparison or {}),
    })


@staff_member_required
@require_http_methods(["GET", "POST"])
def model_rollback(request, task: str):
    from apps.registry.models import ModelVersion, Promotion, Task
    from apps.registry.services import model_version_rollback

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
            messages.success(request, _("Rolled back: %(version)s is in production again.") % {"version": version})
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
        from apps.scoring.services.batch import score_job_submit

        params = {"unscored": True} if form.cleaned_data.get("only_unscored") else {"all": True}
        job, _created = score_job_submit(params=params, created_by=user)
        return job
    if kind == "assess":
        from apps.scoring.services.assessment import assessment_start

        date = form.cleaned_data.get("date") or (timezone.localdate() - dt.timedelta(days=1))
        job = assessment_start(date=date, created_by=user)
        if job is None:
            raise ApplicationError(_("The assessment of %(date)s has already run.") % {"date": date})
        return job
    from apps.registry.training import retrain_submit

    task = form.cleaned_data.get("task")
    job, _created = retrain_submit(params={"tasks": [task]} if task else {}, created_by=user)
    return job


@staff_member_required
@require_http_methods(["GET", "POST"])
def job_list(request):
    form = JobStartForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = _job_start(form=form, user=request.user)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            audit_record(action="job.start", actor=request.user, target=job, data={"kind": job.kind})
            messages.success(request, _("Started job #%(id)s.") % {"id": job.pk})
        return redirect("dashboard:jobs")
    jobs = list(selectors_detail.job_list())
    return render(request, "dashboard/jobs.html", {
        "form": form, "jobs": jobs, "flower_url": settings.FLOWER_URL,
        "status_url": reverse("dashboard:job_status"),
        "active_ids": [j.pk for j in jobs if j.status in ("queued", "running")],
        "status_labels": _job_status_labels(),
    })


def _job_status_labels() -> dict:
    from apps.jobs.models import Job

    return {k: str(v) for k, v in Job.Status.choices}


@staff_member_required
@require_GET
def job_detail(request, pk: int):
    from apps.jobs.models import Job

    job = get_object_or_404(Job.objects.select_related("created_by"), pk=pk)
    chunks = job.chunks.order_by().values("state").annotate(n=Count("id"))
    return render(request, "dashboard/job_detail.html", {
        "job": job, "chunks": list(chunks), "flower_url": settings.FLOWER_URL,
        "status_url": reverse("dashboard:job_status"), "status_labels": _job_status_labels(),
    })


@staff_member_required
@require_GET
def job_status(request):
    try:
        ids = [int(x) for x in request.GET.get("ids", "").split(",") if x.strip()]
    except ValueError:
        return HttpResponseBadRequest("ids must be integers")
    return JsonResponse({"jobs": selectors_detail.job_status(ids=ids)})
