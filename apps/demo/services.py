"""The demo contact centre's people and history, written through the apps' own services.

``demo_users_ensure`` gives the console one login per role: a manager, a reviewer, a team
lead per team and an agent user linked to the busiest active agent of each team.
``demo_nights_run`` makes the console look like a contact centre after a few nights: it runs
the scoring jobs waiting in the queue and the nightly assessment of each of the last nights
synchronously in this process, through the same services the workers call (the workers are
not up yet when ``make demo`` seeds). ``demo_disputes_open`` has a few agent users dispute a
criterion of their own QA results and a team lead resolve one, through the QA services.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from apps.agents.models import Agent, TeamLead
from apps.alerts.models import AlertRule
from apps.alerts.reports import team_reports_send
from apps.core.roles import Role, roles_setup
from apps.jobs.models import Job
from apps.qa.models import Answer, Criterion, CriterionAnswer, Dispute
from apps.qa.services import dispute_open, dispute_resolve
from apps.scoring.models import ReviewItem
from apps.scoring.services.assessment import assessment_aggregate, assessment_start
from apps.scoring.services.batch import chunk_score, score_job_plan

logger = logging.getLogger(__name__)

# Reserved for examples (RFC 2606): the demo's e-mails go to files under ``var/mail``, never out.
EMAIL_DOMAIN = "demo.example"
MANAGER_USERNAME = "manager"
REVIEWER_USERNAME = "reviewer"
DISPUTE_COMMENTS = {
    "zh": "我在对话里已经做到了，请复核这一项。",
    "en": "I did do this in the conversation; please look at this item again.",
}
RESOLUTION = {"zh": "复核录音后确认坐席已做到，接受申诉。", "en": "Checked the transcript: the agent did it. Accepted."}


# An alert rule the demo adds next to the default ones: the generated agents' QA averages sit
# between about 80 and 100, under the defaults' thresholds, so this one shows alerts firing.
DEMO_ALERT_RULE = {"metric": "qa_score", "scope": "agent", "window_days": 7, "comparison": "below",
                   "threshold": 90.0, "min_volume": 5}
DEMO_ALERT_RULE_NAMES = {"zh": "演示：坐席质检得分低于 90（7 天）", "en": "Demo: agent QA score below 90 (7 days)"}


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    scope: str  # the team a lead leads or the agent an agent user is, blank for the others


def demo_users_ensure(*, password: str) -> list[DemoUser]:
    """Create (or reset the password of) the demo's console users; safe to run again.

    Team leads are ``lead-1`` ... in the order of the teams' names; agent users are
    ``agent-<external id>`` for the active agent with the most conversations in each team.
    Every user's e-mail address is ``<username>@demo.example``, so the alerts and weekly
    reports sent to team leads are written as files by the demo's e-mail backend.
    """
    roles_setup()
    groups = {g.name: g for g in Group.objects.filter(name__in=[Role.MANAGER, Role.TEAM_LEAD, Role.REVIEWER, Role.AGENT])}
    hashed = make_password(password)  # one hash for all: the demo's users share one password
    teams = list(Agent.objects.exclude(team="").order_by("team").values_list("team", flat=True).distinct())
    busiest = {}
    for agent in (Agent.objects.filter(active=True).exclude(team="")
                  .annotate(n=Count("conversations")).order_by("team", "-n", "external_id")):
        busiest.setdefault(agent.team, agent)
    users: list[DemoUser] = []
    with transaction.atomic():
        users.append(_user(MANAGER_USERNAME, groups[Role.MANAGER], hashed, "Demo manager"))
        users.append(_user(REVIEWER_USERNAME, groups[Role.REVIEWER], hashed, "Demo reviewer"))
        for i, team in enumerate(teams, start=1):
            user = _user(f"lead-{i}", groups[Role.TEAM_LEAD], hashed, team, scope=team)
            TeamLead.objects.get_or_create(user_id=_user_id(user.username), team=team)
            users.append(user)
        for team in teams:
            agent = busiest.get(team)
            if agent is None:
                continue
            user = _user(f"agent-{agent.external_id.lower()}", groups[Role.AGENT], hashed, agent.name,
                         scope=agent.external_id)
            Agent.objects.filter(pk=agent.pk).update(user_id=_user_id(user.username))
            users.append(user)
    return users


def _user_id(username: str) -> int:
    return get_user_model().objects.only("pk").get(username=username).pk


def _user(username: str, group, hashed: str, first_name: str, *, scope: str = "") -> DemoUser:
    User = get_user_model()
    user, _ = User.objects.get_or_create(username=username, defaults={"first_name": first_name[:150]})
    user.password, user.is_staff, user.is_active = hashed, True, True
    user.email = f"{username}@{EMAIL_DOMAIN}"
    user.save(update_fields=["password", "is_staff", "is_active", "email"])
    user.groups.set([group])
    return DemoUser(username=username, role=group.name, scope=scope)


def _score_waiting_jobs() -> int:
    """Run the scoring jobs still waiting for a worker here, chunk by chunk. Returns conversations scored."""
    n = 0
    for job_id in Job.objects.filter(kind="score", status=Job.Status.QUEUED).order_by("pk").values_list(
            "pk", flat=True):
        for index, ids in score_job_plan(job_id=job_id):
            n += chunk_score(job_id=job_id, chunk_index=index, conversation_ids=ids).get("done", 0)
    return n


def demo_alert_rule_ensure() -> AlertRule:
    """The demo's alert rule, named in the installation's language; kept as it is when it exists."""
    name = DEMO_ALERT_RULE_NAMES["zh" if settings.LANGUAGE_CODE.startswith("zh") else "en"]
    rule, _ = AlertRule.objects.get_or_create(name=name, defaults=DEMO_ALERT_RULE)
    return rule


def demo_nights_run(*, nights: int, today: dt.date | None = None) -> dict:
    """Score what is waiting, then assess each of the ``nights`` days before ``today`` (oldest first).

    A night already assessed is skipped, so running it again changes nothing. The assessment's
    own scoring job and the aggregation run here; the messages the services also sent to the
    broker find their jobs finished when a worker starts, and do nothing. Each night evaluates
    the alert rules (e-mailed to the teams' leads); when any night was assessed, the weekly
    team reports are sent once at the end, as the beat would on a Monday. ``flagged`` counts the
    conversations the nights put in the review queue, whichever flag (model or QA) put them there.
    """
    today = today or timezone.localdate()
    demo_alert_rule_ensure()
    queued_before = ReviewItem.objects.count()
    scored = _score_waiting_jobs()
    assessed = []
    for back in range(nights, 0, -1):
        date = today - dt.timedelta(days=back)
        job = assessment_start(date=date)
        if job is None:
            continue
        scored += _score_waiting_jobs()
        assessment_aggregate(job_id=job.pk)
        assessed.append(date.isoformat())
    flagged = ReviewItem.objects.count() - queued_before
    reports = team_reports_send(today=today) if assessed else {}
    return {"scored": scored, "assessed": assessed, "flagged": flagged,
            "reports": sorted(team for team, recipients in reports.items() if recipients)}


def demo_disputes_open(*, n: int = 3, resolve: int = 1) -> dict:
    """The first ``n`` demo agent users each dispute their latest automatic "no" (criteria only a
    reviewer answers excepted); the agent's team lead accepts the first ``resolve`` of them.
    Nothing happens once a demo agent user has disputed, so running it again changes nothing."""
    agents = list(Agent.objects.filter(user__isnull=False).select_related("user").order_by("external_id"))
    if Dispute.objects.filter(opened_by__in=[agent.user for agent in agents]).exists():
        return {"opened": 0, "resolved": 0}
    opened = []
    for agent in agents:
        if len(opened) >= n:
            break
        answer = (CriterionAnswer.objects
                  .filter(result__conversation__agent=agent, answer=Answer.NO, source=CriterionAnswer.Source.AUTO)
                  .exclude(criterion__answered_by=Criterion.AnsweredBy.REVIEWER)
                  .select_related("result__conversation", "criterion")
                  .order_by("-result__conversation__started_at", "pk").first())
        if answer is None:
            continue
        language = "en" if answer.result.conversation.language == "en" else "zh"
        opened.append(dispute_open(answer=answer, actor=agent.user, comment=DISPUTE_COMMENTS[language],
                                   proposed_answer=Answer.YES))
    resolved = 0
    for dispute in opened[:resolve]:
        conversation = dispute.answer.result.conversation
        lead = TeamLead.objects.filter(team=conversation.agent.team).select_related("user").first()
        if lead is None:
            continue
        language = "en" if conversation.language == "en" else "zh"
        dispute_resolve(dispute=dispute, actor=lead.user, accept=True, resolution=RESOLUTION[language])
        resolved += 1
    return {"opened": len(opened), "resolved": resolved}

