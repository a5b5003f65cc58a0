"""The weekly e-mail per team: its figures against the week before, its agents, its worst QA
criteria, and two charts as inline PNG images (matplotlib).

The charts carry no words (the e-mail's language is in the HTML around them, and a server may
have no CJK font): bars and lines over dates, agents by their external ids.
"""
from __future__ import annotations

import datetime as dt
import io
import logging
from dataclasses import dataclass
from email.mime.image import MIMEImage

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from apps.agents.models import Agent, TeamLead
from apps.dashboard.selectors import ConversationFilters
from apps.dashboard.selectors_teams import team_data
from apps.qa.models import Criterion
from apps.qa.selectors import criteria_failed_most, qa_trend

from .models import TeamReport
from .services import addresses_parse, team_lead_emails

logger = logging.getLogger(__name__)


@dataclass
class Chart:
    cid: str
    png: bytes


def report_week(*, today: dt.date) -> tuple[dt.date, dt.date]:
    """The last full week (Monday to Sunday) before ``today``."""
    monday = today - dt.timedelta(days=today.weekday())
    return monday - dt.timedelta(days=7), monday - dt.timedelta(days=1)


def _worst_criteria(*, team: str, start: dt.date, end: dt.date, language: str) -> list[dict]:
    rows = criteria_failed_most(since=start, until=end, team=team, limit=5)
    names = {}
    for key, zh, en in Criterion.objects.filter(key__in=[r["key"] for r in rows]).order_by("id").values_list(
            "key", "question_zh", "question_en"):
        names[key] = zh if language.startswith("zh") else en
    return [{**r, "name": names.get(r["key"], r["key"])} for r in rows]


def _qa_summary(*, team: str, start: dt.date, end: dt.date) -> dict | None:
    rows = qa_trend(since=start, until=end, team=team)
    n = sum(r["n"] for r in rows)
    if not n:
        return None
    scored = [(r["avg_score"], r["n"]) for r in rows if r["avg_score"] is not None]
    mean = sum(s * k for s, k in scored) / sum(k for _, k in scored) if scored else None
    return {"n": n, "avg_score": round(mean, 2) if mean is not None else None,
            "auto_fails": sum(r["auto_fails"] or 0 for r in rows)}


def _charts(data: dict) -> list[Chart]:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    charts = []
    trend = data["trend"]
    fig, ax = plt.subplots(figsize=(6.4, 2.8), dpi=110)
    days = [r["bucket"].strftime("%m-%d") for r in trend]
    ax.bar(days, [r["total"] for r in trend], color="#56B4E9", edgecolor="#0072B2", hatch="..")
    ax.set_ylim(bottom=0)
    q = ax.twinx()
    q.plot(days, [r["mean_quality"] for r in trend], color="#D55E00", marker="s", linestyle="--")
    q.set_ylim(1, 5)
    for spine in ("top",):
        ax.spines[spine].set_visible(False)
        q.spines[spine].set_visible(False)
    fig.tight_layout()
    charts.append(Chart("trend", _png(fig)))
    plt.close(fig)

    agents = [a for a in data["agents"] if a["mean_quality"] is not None][:15]
    if agents:
        fig, ax = plt.subplots(figsize=(6.4, 0.35 * len(agents) + 0.8), dpi=110)
        labels = [a["external_id"] for a in agents][::-1]
        values = [a["mean_quality"] for a in agents][::-1]
        team_mean = data["summary"]["mean_quality"]
        ax.barh(labels, values, color="#0072B2")
        if team_mean is not None:
            ax.axvline(team_mean, color="#D55E00", linestyle="--")
        for y, v in enumerate(values):
            ax.text(v + 0.03, y, f"{v:.2f}", va="center", fontsize=8)
        ax.set_xlim(1, 5.4)
        ax.spines["top"].set_visible(False)
        ax.spines["right"].set_visible(False)
        fig.tight_layout()
        charts.append(Chart("agents", _png(fig)))
        plt.close(fig)
    return charts


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def team_report_build(*, report: TeamReport, today: dt.date) -> tuple[str, str, str, list[Chart]]:
    """Subject, plain text, HTML and chart images of one team's weekly report."""

    start, end = report_week(today=today)
    data = team_data(team=report.team, filters=ConversationFilters(date_from=start, date_to=end, group="day"))
    ids = {a.pk: a.external_id for a in Agent.objects.filter(pk__in=[a["id"] for a in data["agents"]])}
    for a in data["agents"]:
        a["external_id"] = ids.get(a["id"], str(a["id"]))
    with translation.override(report.language):
        context = {
            "report": report, "data": data, "start": start, "end": end,
            "qa": _qa_summary(team=report.team, start=start, end=end),
            "worst_criteria": _worst_criteria(team=report.team, start=start, end=end, language=report.language),
            "console_url": settings.CONSOLE_URL.rstrip("/"),
        }
        charts = _charts(data)
        context["charts"] = {c.cid: c.cid for c in charts}
        subject = _("Weekly report of %(team)s, %(start)s to %(end)s") % {"team": report.team, "start": start,
                                                                          "end": end}
        text = render_to_string("alerts/email/team_report.txt", context)
        html = render_to_string("alerts/email/team_report.html", context)
    return subject, text, html, charts


def team_report_send(*, report: TeamReport, today: dt.date | None = None) -> list[str]:
    """Send one team's weekly report to its leads and extra recipients. Returns the recipients."""
    recipients = addresses_parse(report.recipients)
    recipients += [e for e in team_lead_emails(team=report.team) if e not in recipients]
    if not recipients:
        return []
    subject, text, html, charts = team_report_build(report=report, today=today or timezone.localdate())
    message = EmailMultiAlternatives(subject=subject, body=text, to=recipients)
    message.attach_alternative(html, "text/html")
    message.mixed_subtype = "related"
    for chart in charts:
        image = MIMEImage(chart.png, "png")
        image.add_header("Content-ID", f"<{chart.cid}>")
        image.add_header("Content-Disposition", "inline", filename=f"{chart.cid}.png")
        message.attach(image)
    message.send()
    report.last_sent_at = timezone.now()
    report.last_sent_to = ", ".join(recipients)
    report.save(update_fields=["last_sent_at", "last_sent_to"] if report.pk else None)
    return recipients


def team_reports_send(*, today: dt.date | None = None) -> dict[str, list[str]]:
    """Send the weekly reports (the beat entry ``weekly team reports``). Returns team -> recipients.

    Every team with a lead gets one in ``LANGUAGE_CODE`` (its ``TeamReport`` row is created on the
    first send, to edit in the admin); a team without a lead only when it has an active row; an
    inactive row stops a team's report.
    """

    rows = {r.team: r for r in TeamReport.objects.all()}
    teams = set(TeamLead.objects.values_list("team", flat=True)) | {t for t, r in rows.items() if r.active}
    sent = {}
    for team in sorted(teams):
        report = rows.get(team) or TeamReport(team=team, language=settings.LANGUAGE_CODE)
        if not report.active:
            continue
        try:
            sent[report.team] = team_report_send(report=report, today=today)
        except Exception:  # one team's failure must not stop the others' reports
            logger.exception("weekly report of team %s failed", report.team)
    return sent
