"""The managers' console: thin views over selectors and services (console permission, ``access``).

Overview, conversations, agents and the review queue; models and jobs are in ``views_ops``.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import replace
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.agents.models import Agent
from apps.conversations.models import Conversation
from apps.core.exceptions import ApplicationError
from apps.core.labels import Channel, Sentiment
from apps.core.services import audit_record
from apps.scoring.services import review as review_services
from apps.scoring.services.suggestions import suggestion_texts
from apps.scoring.models import ReviewItem

from . import exports, selectors, selectors_detail, selectors_teams
from .access import agent_visible_or_403, console_required, conversations_scoped, led_teams
from .forms import ConversationFilterForm, OverviewFilterForm, PickForm, ReviewForm

EXPORT_FORMATS = ("csv", "xlsx")


def _export_header(keys: list[str]) -> list[str]:
    """Column headings of an export in the request's language (the order of ``keys``)."""
    labels = {
        "external_id": _("Conversation id"), "started_at": _("Started"), "ended_at": _("Ended"),
        "channel": _("Channel"), "language": _("Language"), "customer_id": _("Customer id"),
        "customer_segment": _("Customer segment"), "customer_vip_level": _("Customer VIP level"),
        "agent_id": _("Agent id"), "agent_name": _("Agent"), "agent_team": _("Team"), "resolved": _("Resolved"),
        "csat": _("CSAT"), "n_messages": _("Messages"), "predicted_intent": _("Predicted intent"),
        "predicted_sentiment": _("Predicted sentiment"), "predicted_quality": _("Predicted quality"),
        "uncertain": _("Uncertain"), "intent_confidence": _("Intent confidence"),
        "sentiment_confidence": _("Sentiment confidence"), "review_status": _("Review status"),
        "reviewed_intent": _("Reviewed intent"), "reviewed_sentiment": _("Reviewed sentiment"),
        "reviewed_quality": _("Reviewed quality"), "reviewed_at": _("Reviewed at"), "intent": _("Intent"),
        "sentiment": _("Sentiment"), "quality": _("Quality"), "date": _("Day"), "volume": _("Volume"),
        "mean_quality": _("Mean quality"), "negative_share": _("Negative share"),
        "resolution_rate": _("Resolution rate"), "flagged": _("Flagged"), "team_mean_quality": _("Team mean quality"),
        "qa_score": _("Mean QA score"), "qa_auto_fails": _("QA auto-fails"),
    }
    return [str(labels.get(k, k)) for k in keys]


def _filter_query(filters: selectors.ConversationFilters) -> str:
    """The overview filters as a query string the drill-down links carry along."""
    params = {}
    if filters.date_from:
        params["date_from"] = filters.date_from.isoformat()
    if filters.date_to:
        params["date_to"] = filters.date_to.isoformat()
    for key in ("channel", "team", "intent"):
        if getattr(filters, key):
            params[key] = getattr(filters, key)
    if filters.group != "day":
        params["group"] = filters.group
    return urlencode(params)


def _read_filters(request, form_class=None):
    """The GET filter form, its filters and the status to answer with.

    An invalid filter is never ignored silently: the page answers 400 and shows which
    field is wrong next to that field; the figures then use the valid fields only.
    """
    form_class = form_class or OverviewFilterForm
    form = form_class(request.GET or None, teams=selectors.team_choices())
    if not form.is_bound:
        return form, selectors.ConversationFilters(), 200
    status = 200 if form.is_valid() else 400
    return form, form.to_filters(), status


def _filter_errors_response(form) -> HttpResponseBadRequest:
    """A 400 for a download whose filters are invalid: the field-level messages as JSON."""
    return JsonResponse({"errors": {k: [str(m) for m in v] for k, v in form.errors.items()}}, status=400)


def _labels() -> dict:
    return {
        "sentiment": dict(Sentiment.choices),
        "channel": dict(Channel.choices),
    }


# --- Overview ---------------------------------------------------------------


@console_required(agent_redirect=True)
@require_GET
def overview(request):
    form, filters, status = _read_filters(request)
    data = selectors.overview_data(filters)
    filters = data["filters"]
    labels = _labels()
    weekday_names = [_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun")]
    chart_data = {
        "days": data["days"],
        "daily_volume": data["daily_volume"],
        "daily_quality": data["daily_quality"],
        "sentiment_daily": data["sentiment_daily"],
        "sentiment": data["sentiment"],
        "intents": data["intents"],
        "channels": data["channels"],
        "quality_hist": data["quality_hist"],
        "agents": data["agents"][:20],
        "labels": labels,
        "filter_query": _filter_query(filters),
        "conversations_url": reverse("dashboard:conversations"),
        "agent_url": reverse("dashboard:agent", args=[0]).replace("/0/", "/{id}/"),
        "text": {
            "conversations": _("Conversations"),
            "mean_quality": _("Mean quality"),
            "team_mean_quality": _("Team mean quality"),
            "volume": _("Volume"),
            "quality": _("Quality"),
            "click_hint": _("Click a bar to open the matching conversations."),
        },
    }
    bucket_rows = _bucket_rows(data, filters)
    chart_data["bucket_queries"] = [r["query"] for r in bucket_rows]
    heat_rows = [
        {"name": weekday_names[i], "wd": i + 1, "cells": [
            {"hour": h, "n": n, "alpha": round(n / data["heatmap_max"], 3) if data["heatmap_max"] else 0}
            for h, n in enumerate(row)
        ]}
        for i, row in enumerate(data["heatmap"])
    ]
    return render(request, "dashboard/overview.html", {
        "form": form,
        "filters": filters,
        "data": data,
        "kpis": data["kpis"],
        "chart_data": chart_data,
        "heat_rows": heat_rows,
        "hours": list(range(24)),
        "intent_options": selectors.intent_choices(),
        "filter_query": _filter_query(filters),
        "sentiment_rows": [(labels["sentiment"][s], data["sentiment"][s]) for s in selectors.SENTIMENTS],
        "channel_rows": [(labels["channel"].get(c, c), n) for c, n in data["channels"]],
        "quality_rows": list(zip(selectors.QUALITY_BINS, data["quality_hist"])),
        "daily_rows": bucket_rows,
        "kpi_changes": data["kpi_changes"],
        "group": data["group"],
        "qa": selectors_teams.qa_figures(filters=filters, team=filters.team or None),
        "qa_days": selectors_teams.qa_days(filters=filters, team=filters.team or None),
    }, status=status)


def _bucket_rows(data: dict, filters: selectors.ConversationFilters) -> list[dict]:
    """The trend table's rows, each with the conversation-list query of its day, week or month."""
    rows = []
    base = {k: v for k, v in (("channel", filters.channel), ("team", filters.team), ("intent", filters.intent)) if v}
    starts = [dt.date.fromisoformat(d) for d in data["days"]]
    for i, start in enumerate(starts):
        end = (starts[i + 1] - dt.timedelta(days=1)) if i + 1 < len(starts) else filters.date_to
        start = max(start, filters.date_from)
        rows.append({
            "label": data["days"][i], "volume": data["daily_volume"][i], "quality": data["daily_quality"][i],
            "sentiments": [data["sentiment_daily"][s][i] for s in selectors.SENTIMENTS],
            "query": urlencode({**base, "date_from": start.isoformat(), "date_to": end.isoformat()}),
        })
    return rows


# --- Conversations ------------------------------------------------------------




@console_required
@require_GET
def conversation_list(request):
    form, filters, status = _read_filters(request, ConversationFilterForm)
    filters = filters.with_default_range()
    paginator = Paginator(conversations_scoped(request.user, selectors_detail.conversation_list(filters)), 50)
    page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "dashboard/conversation_list.html", {
        "form": form, "filters": filters, "page": page, "query": query.urlencode(),
        "intent_options": selectors.intent_choices(),
    }, status=status)


def _export_filters_for(user, filters: selectors.ConversationFilters) -> selectors.ConversationFilters:
    """The export's filters narrowed to a team lead's team; 403 for a team that is not theirs.

    A lead of one team exports that team without naming it; a lead of several names one.
    """
    teams = led_teams(user)
    if teams is None:
        return filters
    if not filters.team and len(teams) == 1:
        return replace(filters, team=next(iter(teams)))
    if filters.team not in teams:
        raise PermissionDenied
    return filters


@console_required
@require_GET
def conversation_export(request, fmt: str):
    if fmt not in EXPORT_FORMATS:
        raise Http404
    form, filters, status = _read_filters(request, ConversationFilterForm)
    if status != 200:
        return _filter_errors_response(form)
    filters = _export_filters_for(request.user, filters.with_default_range())
    audit_record(action="export", actor=request.user, data={
        "what": "conversations", "format": fmt, "filters": request.GET.dict(),
        "date_from": filters.date_from.isoformat(), "date_to": filters.date_to.isoformat(),
    })
    name = f"conversations_{filters.date_from:%Y%m%d}-{filters.date_to:%Y%m%d}.{fmt}"
    rows = selectors_detail.conversation_export_rows(filters)
    if fmt == "csv":
        return exports.csv_response(name, _export_header(selectors_detail.CONVERSATION_EXPORT_HEADER), rows)
    return exports.xlsx_response(name, _export_header(selectors_detail.CONVERSATION_EXPORT_HEADER), rows,
                                 sheet="conversations")


@console_required
@require_GET
def conversation_detail(request, pk: int):
    try:
        conversation = selectors_detail.conversation_detail(conversation_id=pk)
    except Conversation.DoesNotExist:
        raise Http404
    agent_visible_or_403(request.user, conversation.agent)
    review = getattr(conversation, "review", None)
    return render(request, "dashboard/conversation_detail.html", {
        "conversation": conversation, "review": review, "prediction": conversation.prediction,
        "pick_form": PickForm(), "suggestions": _suggestions(conversation),
    })


@console_required
@require_POST
def conversation_pick(request, pk: int):
    conversation = get_object_or_404(Conversation, pk=pk)
    agent_visible_or_403(request.user, conversation.agent)
    form = PickForm(request.POST)
    reason = (form.cleaned_data.get("reason") if form.is_valid() else "") or "manual"
    item = review_services.review_pick(conversation=conversation, user=request.user, reason=reason)
    messages.success(request, _("Added to the review queue."))
    return redirect("dashboard:review_item", pk=item.pk)


def _suggestions(conversation) -> list[str]:
    """Reply suggestions from the scoring app's rules for the conversation's predictions."""
    if not conversation.predicted_intent and not conversation.predicted_sentiment:
        return []
    try:
        texts = suggestion_texts(
            intent=conversation.predicted_intent, sentiment=conversation.predicted_sentiment,
            quality=conversation.predicted_quality, language=conversation.language,
        )
    except Exception:  # suggestions are a convenience; never break the review screen
        return []
    return [str(t) for t in (texts or [])][:5]


# --- Agent report --------------------------------------------------------------


@console_required
@require_GET
def agent_report(request, pk: int):
    agent = get_object_or_404(Agent, pk=pk)
    agent_visible_or_403(request.user, agent)
    form, filters, status = _read_filters(request)
    report = selectors_detail.agent_report(agent=agent, filters=filters)
    report["qa"] = selectors_teams.qa_figures(filters=report["filters"], agent=agent)
    report["team_qa"] = selectors_teams.qa_figures(filters=report["filters"], team=report["team"])
    chart = {
        "days": [r["date"].isoformat() for r in report["daily"]],
        "mean_quality": [r["mean_quality"] for r in report["daily"]],
        "team_mean_quality": [r["team_mean_quality"] for r in report["daily"]],
        "volume": [r["volume"] for r in report["daily"]],
        "negative_share": [r["negative_share"] for r in report["daily"]],
        "conversations_url": reverse("dashboard:conversations"),
        "filter_query": urlencode({"agent": agent.pk}),
        "text": {
            "mean_quality": _("Mean quality"), "team_mean_quality": _("Team mean quality"),
            "volume": _("Volume"), "negative_share": _("Negative share"),
        },
    }
    return render(request, "dashboard/agent_report.html", {
        "form": form, "report": report, "agent": agent, "chart_data": chart,
        "filter_query": _filter_query(report["filters"]),
    }, status=status)


@console_required
@require_GET
def agent_export(request, pk: int, fmt: str):
    if fmt not in EXPORT_FORMATS:
        raise Http404
    agent = get_object_or_404(Agent, pk=pk)
    agent_visible_or_403(request.user, agent)
    form, filters, status = _read_filters(request)
    if status != 200:
        return _filter_errors_response(form)
    report = selectors_detail.agent_report(agent=agent, filters=filters)
    f = report["filters"]
    audit_record(action="export", actor=request.user, target=agent, data={
        "what": "agent_report", "format": fmt, "date_from": f.date_from.isoformat(), "date_to": f.date_to.isoformat(),
    })
    qa = {r["date"]: r for r in selectors_teams.qa_days(filters=f, agent=agent)}
    daily = ({**r, "qa_score": qa.get(r["date"], {}).get("avg_score"),
              "qa_auto_fails": qa.get(r["date"], {}).get("auto_fails")} for r in report["daily"])
    rows = ([r[k] for k in selectors_detail.AGENT_EXPORT_HEADER] for r in daily)
    name = f"agent_{agent.external_id}_{f.date_from:%Y%m%d}-{f.date_to:%Y%m%d}.{fmt}"
    if fmt == "csv":
        return exports.csv_response(name, _export_header(selectors_detail.AGENT_EXPORT_HEADER), rows)
    return exports.xlsx_response(name, _export_header(selectors_detail.AGENT_EXPORT_HEADER), rows, sheet="daily")


# --- Review queue -----------------------------------------------------------------


@console_required
@require_GET
def review_queue(request):
    status = request.GET.get("status") or ReviewItem.Status.PENDING
    if status not in ReviewItem.Status.values:
        status = ReviewItem.Status.PENDING
    paginator = Paginator(selectors_detail.review_queue(status=status), 50)
    page = paginator.get_page(request.GET.get("page"))
    return render(request, "dashboard/review_queue.html", {
        "page": page, "status": status, "counts": selectors_detail.review_counts(),
        "statuses": ReviewItem.Status.choices,
    })


@console_required
@require_GET
def review_start(request):
    item = review_services.review_next(user=request.user)
    if item is None:
        messages.info(request, _("The review queue is empty."))
        return redirect("dashboard:review")
    return redirect("dashboard:review_item", pk=item.pk)


@console_required
@require_http_methods(["GET", "POST"])
def review_item(request, pk: int):
    try:
        item = selectors_detail.review_item_detail(item_id=pk)
    except ReviewItem.DoesNotExist:
        raise Http404
    conversation = item.conversation
    prediction = item.prediction or conversation.prediction
    if request.method == "POST":
        if request.POST.get("action") == "skip":
            review_services.review_skip(item=item, user=request.user)
            messages.info(request, _("Skipped."))
            return _redirect_next(request, item)
        form = ReviewForm(request.POST)
        if form.is_valid():
            try:
                review_services.review_submit(
                    item=item, intent=form.cleaned_data["intent"], sentiment=form.cleaned_data["sentiment"],
                    quality=form.cleaned_data["quality"], reviewer=request.user,
                )
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Saved the review of %(id)s.") % {"id": conversation.external_id})
                return _redirect_next(request, item)
    else:
        form = ReviewForm(initial={
            "intent": item.intent or conversation.predicted_intent,
            "sentiment": item.sentiment or conversation.predicted_sentiment or None,
            # The model's score exactly as predicted: confirming without a change keeps it.
            "quality": item.quality if item.quality is not None else conversation.predicted_quality,
        })
    next_item = review_services.review_next(user=request.user, after_id=item.pk)
    prev_item = selectors_detail.review_prev(before_id=item.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "dashboard/review_item.html", {
        "item": item, "conversation": conversation, "prediction": prediction, "form": form,
        "next_item": next_item if next_item and next_item.pk != item.pk else None, "prev_item": prev_item,
        "intent_options": selectors.intent_choices(), "suggestions": _suggestions(conversation),
        "counts": selectors_detail.review_counts(), "sentiments": Sentiment.choices,
    }, status=status)


def _redirect_next(request, item):
    nxt = review_services.review_next(user=request.user, after_id=item.pk)
    if nxt is None:
        messages.info(request, _("The review queue is empty."))
        return redirect("dashboard:review")
    return redirect("dashboard:review_item", pk=nxt.pk)


@console_required
@require_GET
def review_agreement(request):
    days = request.GET.get("days")
    since = None
    if days and days.isdigit() and int(days) > 0:
        since = timezone.now() - dt.timedelta(days=int(days))
    stats = review_services.agreement_stats(since=since)
    return render(request, "dashboard/agreement.html", {"stats": stats, "days": days or ""})
