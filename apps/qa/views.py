"""QA console pages under /dashboard/qa/: results with highlighted evidence, the review screen,
an agent's own results and disputes, dispute resolution, trying a rule, calibration sessions.

Every page needs a console role (``apps.core.roles``); what a page lists is scoped by it.
"""
from __future__ import annotations

import json
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from apps.core.exceptions import ApplicationError
from apps.core.roles import Role, user_can_resolve_for_agent, user_role

from . import selectors, services
from .calibration import calibration_grade_submit, calibration_report
from .jobs import rule_try
from .models import Assignment, CalibrationSession, CriterionAnswer, Dispute, SamplingRule

LOGIN_URL = "qa:login"
GRADERS = (Role.MANAGER, Role.TEAM_LEAD, Role.REVIEWER)
EXAMPLE_RULE = json.dumps({"expression": "1", "conditions": {"1": {
    "operator": "keywords", "words": ["您好", "hello"], "speaker": "agent", "first": 2}}}, ensure_ascii=False, indent=2)


def console_role(*roles):
    """Signed in with one of ``roles`` (any console role when none are named); 403 otherwise."""

    def decorator(view):
        @wraps(view)
        @login_required(login_url=LOGIN_URL)
        def wrapper(request, *args, **kwargs):
            role = user_role(request.user)
            if role is None or (roles and role not in roles):
                raise PermissionDenied
            request.qa_role = role
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def _error_message(exc: ApplicationError) -> str:
    details = "; ".join(f"{k}: {v}" for k, v in exc.extra.items()) if exc.extra else ""
    return f"{exc.message} {details}".strip()


def highlight(messages_: list[dict], evidence: list[dict]) -> list[dict]:
    """Messages with their text cut into parts, the evidence spans marked (overlapping spans merged)."""
    spans: dict[int, list[tuple[int, int]]] = {}
    for e in evidence:
        if "span" not in e:  # a learned model's confidence marks no text
            continue
        start, end = e["span"]
        spans.setdefault(e["seq"], []).append((start, end))
    out = []
    for m in messages_:
        text, parts, pos = m["text"], [], 0
        merged: list[list[int]] = []
        for start, end in sorted(spans.get(m["seq"], [])):
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        for start, end in merged:
            start, end = max(start, pos), min(end, len(text))
            if start > pos:
                parts.append({"text": text[pos:start], "mark": False})
            if end > start:
                parts.append({"text": text[start:end], "mark": True})
            pos = max(pos, end)
        if pos < len(text):
            parts.append({"text": text[pos:], "mark": False})
        out.append({**m, "parts": parts, "has_evidence": m["seq"] in spans})
    return out


@console_role()
def home(request):
    role = request.qa_role
    context = {"role": role}
    if role in GRADERS:
        context["assignments"] = selectors.assignments_for_user(user=request.user)[:50]
        context["open_disputes"] = selectors.disputes_for_user(user=request.user, status=Dispute.Status.OPEN).count()
        context["sampling_rules"] = SamplingRule.objects.all()
        context["calibrations"] = CalibrationSession.objects.filter(reviewers=request.user)[:20]
    context["recent"] = selectors.results_for_user(user=request.user).order_by("-computed_at")[:20]
    context["version"] = services.active_version()
    return render(request, "qa/home.html", context)


@console_role()
def result_list(request):
    qs = selectors.results_for_user(user=request.user).order_by("-computed_at", "-id")
    if request.GET.get("auto_failed") == "1":
        qs = qs.filter(auto_failed=True)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "qa/result_list.html", {"page": page, "auto_failed": request.GET.get("auto_failed") == "1"})


@console_role()
@require_http_methods(["GET", "POST"])
def result_detail(request, result_id: int):
    """The review screen (graders) or an agent's own result with its dispute form."""
    try:
        result = services.result_get_for(user=request.user, result_id=result_id)
    except ApplicationError:
        raise Http404 from None
    can_grade = request.qa_role in GRADERS and user_can_resolve_for_agent(request.user, result.conversation.agent)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "dispute":
                answer = get_object_or_404(CriterionAnswer, pk=request.POST.get("answer"), result=result)
                services.dispute_open(answer=answer, actor=request.user, comment=request.POST.get("comment", ""),
                                      proposed_answer=request.POST.get("proposed_answer", ""))
                messages.success(request, _("Your dispute was sent to your team lead."))
            elif can_grade:
                answers = {
                    key[len("answer-"):]: {"answer": value, "comment": request.POST.get(f"comment-{key[len('answer-'):]}", "")}
                    for key, value in request.POST.items() if key.startswith("answer-") and value
                }
                services.qa_review_submit(result=result, answers=answers, actor=request.user)
                messages.success(request, _("Grading saved; the score was recomputed."))
                nxt = selectors.assignments_for_user(user=request.user).exclude(conversation=result.conversation).first()
                if nxt is not None and nxt.result_id:
                    return redirect("qa:result", result_id=nxt.result_id)
            else:
                raise PermissionDenied
        except ApplicationError as exc:
            messages.error(request, _error_message(exc))
        return redirect("qa:result", result_id=result.pk)
    detail = selectors.result_detail(result=result)
    # ``messages`` in a template context is the flash messages of ``django.contrib.messages``:
    # the transcript rows go in as ``transcript`` only.
    rows = detail.pop("messages")
    all_evidence = [e for a in detail["answers"] for e in a.evidence]
    return render(request, "qa/result_detail.html", {
        **detail, "transcript": highlight(rows, all_evidence), "can_grade": can_grade,
        "is_agent": request.qa_role == Role.AGENT,
        "evidence_by_answer": {str(a.pk): a.evidence for a in detail["answers"]},
    })


@console_role()
@require_http_methods(["GET", "POST"])
def dispute_list(request):
    if request.method == "POST":
        dispute = get_object_or_404(selectors.disputes_for_user(user=request.user), pk=request.POST.get("dispute"))
        try:
            services.dispute_resolve(dispute=dispute, actor=request.user, accept=request.POST.get("action") == "accept",
                                     resolution=request.POST.get("resolution", ""))
            messages.success(request, _("Dispute resolved."))
        except ApplicationError as exc:
            messages.error(request, _error_message(exc))
        return redirect("qa:disputes")
    status = request.GET.get("status", Dispute.Status.OPEN)
    qs = selectors.disputes_for_user(user=request.user, status=status or None).order_by("-created_at")
    return render(request, "qa/disputes.html", {
        "page": Paginator(qs, 50).get_page(request.GET.get("page")), "status": status,
        "can_resolve": request.qa_role in GRADERS, "statuses": Dispute.Status.choices,
    })


@console_role(*GRADERS)
@require_http_methods(["GET", "POST"])
def rule_try_page(request):
    context = {"rule_text": request.POST.get("rule", EXAMPLE_RULE), "days": request.POST.get("days", "7")}
    if request.method == "POST":
        try:
            rule = json.loads(context["rule_text"] or "null")
        except json.JSONDecodeError as exc:
            messages.error(request, _("The rule is not valid JSON: %(error)s") % {"error": exc})
            return render(request, "qa/try.html", context)
        try:
            days = int(context["days"])
            out = rule_try(params={"rule": rule, "days": days, "sample": 10}, created_by=request.user)
        except ValueError:
            messages.error(request, _("days must be a whole number."))
            return render(request, "qa/try.html", context)
        except ApplicationError as exc:
            messages.error(request, _error_message(exc))
            return render(request, "qa/try.html", context)
        if "job" in out:
            messages.success(request, _("The range is large: it runs as job %(id)s.") % {"id": out["job"]})
            return redirect("dashboard:job", out["job"])
        result = out["result"]
        from apps.conversations.models import Message

        for sample in result["sample"]:
            rows = list(Message.objects.filter(conversation_id=sample["conversation_id"]).order_by("seq")
                        .values("seq", "speaker", "text"))
            sample["transcript"] = highlight(rows, sample["evidence"])
        context["result"] = result
    return render(request, "qa/try.html", context)


@console_role(*GRADERS)
@require_http_methods(["GET", "POST"])
def calibration_detail(request, session_id: int):
    session = get_object_or_404(CalibrationSession, pk=session_id)
    is_reviewer = session.reviewers.filter(pk=request.user.pk).exists()
    conversations = list(session.conversations.order_by("pk"))
    criteria = services.version_specs(session.scorecard_version)
    if request.method == "POST" and is_reviewer:
        conversation = get_object_or_404(session.conversations, pk=request.POST.get("conversation"))
        answers = {s.key: request.POST[f"answer-{s.key}"] for s in criteria if request.POST.get(f"answer-{s.key}")}
        try:
            calibration_grade_submit(session=session, conversation=conversation, reviewer=request.user, answers=answers)
            messages.success(request, _("Your grades were saved."))
        except ApplicationError as exc:
            messages.error(request, _error_message(exc))
        return redirect("qa:calibration", session_id=session.pk)
    mine = set(session.grades.filter(reviewer=request.user).values_list("conversation_id", flat=True))
    todo = next((c for c in conversations if c.pk not in mine), None) if is_reviewer else None
    transcript = list(todo.messages.order_by("seq").values("seq", "speaker", "text")) if todo else []
    return render(request, "qa/calibration.html", {
        "session": session, "criteria": criteria, "todo": todo, "transcript": highlight(transcript, []),
        "report": calibration_report(session=session), "done": len(mine), "total": len(conversations),
        "is_reviewer": is_reviewer,
    })


@console_role(*GRADERS)
def assignment_list(request):
    qs = selectors.assignments_for_user(user=request.user, status=request.GET.get("status", Assignment.Status.OPEN))
    return render(request, "qa/assignments.html", {"page": Paginator(qs, 50).get_page(request.GET.get("page"))})
