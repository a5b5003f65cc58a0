"""The demo's users, nights of assessment and disputes (apps.demo.services), on seeded demo data."""
import datetime as dt
import io

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command

from apps.agents.models import Agent, TeamLead
from apps.core.roles import Role, scope_queryset, user_role
from apps.demo.services import DEMO_ALERT_RULE_NAMES, demo_disputes_open, demo_nights_run, demo_users_ensure

ANCHOR = dt.date(2025, 6, 2)
SEED = ["--conversations", "160", "--customers", "40", "--agents", "10", "--days", "4",
        "--anchor-date", ANCHOR.isoformat()]


def seed(*extra):
    out = io.StringIO()
    call_command("seed_demo", *SEED, *extra, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def production_models(model_store, trained_artifacts):
    from apps.registry import services

    for task, path in trained_artifacts.items():
        backend = "quality" if task == "quality" else "linear"
        services.model_version_promote(
            version=services.model_version_register(task=task, backend=backend, estimator_dir=path))


@pytest.mark.django_db
def test_users_one_per_role_team_leads_per_team_agents_linked():
    from apps.conversations.models import Conversation

    seed()
    users = demo_users_ensure(password="demo-pass-123")
    teams = sorted(set(Agent.objects.exclude(team="").values_list("team", flat=True)))
    by_role = {}
    for user in users:
        by_role.setdefault(user.role, []).append(user)
    assert [u.username for u in by_role[Role.MANAGER]] == ["manager"]
    assert [u.username for u in by_role[Role.REVIEWER]] == ["reviewer"]
    assert sorted(u.scope for u in by_role[Role.TEAM_LEAD]) == teams
    assert len(by_role[Role.AGENT]) == len(teams)
    User = get_user_model()
    for user in users:
        assert user_role(User.objects.get(username=user.username)) == user.role
    for user in (by_role[Role.MANAGER][0], by_role[Role.AGENT][0]):  # one shared password
        assert authenticate(username=user.username, password="demo-pass-123") is not None
    for lead in by_role[Role.TEAM_LEAD]:
        assert list(TeamLead.objects.filter(user__username=lead.username).values_list("team", flat=True)) == [lead.scope]
    for agent_user in by_role[Role.AGENT]:
        account = User.objects.get(username=agent_user.username)
        agent = Agent.objects.get(user=account)
        assert agent.external_id == agent_user.scope and agent.active
        # The busiest agent of the team, and they see their own conversations only.
        mine = scope_queryset(account, Conversation.objects.all(), agent_path="agent")
        assert mine.count() == Conversation.objects.filter(agent=agent).count() > 0
        others = Agent.objects.filter(team=agent.team, active=True).exclude(pk=agent.pk)
        assert all(Conversation.objects.filter(agent=o).count() <= mine.count() for o in others)

    # Again (a second make demo): same users, new password, nothing duplicated.
    n_users, n_leads = User.objects.count(), TeamLead.objects.count()
    assert demo_users_ensure(password="other-pass-456") == users
    assert (User.objects.count(), TeamLead.objects.count()) == (n_users, n_leads)
    assert authenticate(username="manager", password="other-pass-456") is not None


@pytest.mark.django_db
def test_seed_demo_users_option_writes_the_logins_for_demo_credentials(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    out = seed("--users")
    assert "manager (manager)" in out and "lead-1 (team_lead)" in out
    values = dict(line.split("=", 1) for line in (tmp_path / "demo-credentials.env").read_text().splitlines())
    assert values["DEMO_USERS"].startswith("manager:manager,reviewer:reviewer,lead-1:team_lead")
    password = values["DEMO_USERS_PASSWORD"]
    assert authenticate(username="reviewer", password=password) is not None

    printed = io.StringIO()
    call_command("demo_credentials", stdout=printed)
    assert f"/ password {password}" in printed.getvalue() and "reviewer (reviewer)" in printed.getvalue()
    seed("--users")  # the password is kept across runs
    assert authenticate(username="reviewer", password=password) is not None


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_nights_are_scored_assessed_and_flagged_once(production_models):
    from apps.conversations.models import Conversation
    from apps.jobs.models import Job
    from apps.qa.models import QaDailyAgent, QaResult
    from apps.scoring.models import AgentDailyQuality, AssessmentRun, Prediction, ReviewItem

    seed("--scorecard")
    history = demo_nights_run(nights=3, today=ANCHOR)
    assert history["assessed"] == [(ANCHOR - dt.timedelta(days=d)).isoformat() for d in (3, 2, 1)]
    # Every conversation was scored by the production models, in this process.
    assert Prediction.objects.values("conversation").distinct().count() == Conversation.objects.count()
    assert history["scored"] == Conversation.objects.count()
    assert set(AssessmentRun.objects.values_list("date", flat=True)) == {
        ANCHOR - dt.timedelta(days=d) for d in (1, 2, 3)}
    assert set(Job.objects.filter(kind="assess").values_list("status", flat=True)) == {Job.Status.SUCCEEDED}
    assert history["flagged"] == ReviewItem.objects.count() > 0
    days = set(AgentDailyQuality.objects.values_list("date", flat=True))
    assert days == {ANCHOR - dt.timedelta(days=d) for d in (1, 2, 3)}

    # The default scorecard graded every conversation as it was scored; the nights aggregated QA.
    assert QaResult.objects.count() == Conversation.objects.count()
    assert QaResult.objects.filter(auto_failed=True).exists() and QaResult.objects.filter(score__gte=70).exists()
    assert set(QaDailyAgent.objects.values_list("date", flat=True)) == days

    again = demo_nights_run(nights=3, today=ANCHOR)
    assert again == {"scored": 0, "assessed": [], "flagged": 0, "reports": []}
    assert AssessmentRun.objects.count() == 3


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_nights_e_mail_alerts_and_weekly_reports_to_the_team_leads(production_models, settings, tmp_path):
    from email import message_from_bytes

    from apps.alerts.models import Alert

    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    seed("--scorecard")
    users = demo_users_ensure(password="demo-pass-123")
    leads = {u.scope: f"{u.username}@demo.example" for u in users if u.role == Role.TEAM_LEAD}
    assert get_user_model().objects.get(username="lead-1").email == "lead-1@demo.example"

    history = demo_nights_run(nights=3, today=ANCHOR)
    assert Alert.objects.filter(rule__name__in=DEMO_ALERT_RULE_NAMES.values()).exists()
    emailed = Alert.objects.exclude(emailed_to="")
    assert emailed.exists()
    for alert in emailed:
        assert leads[alert.team] in alert.emailed_to
    assert history["reports"] == sorted(leads)

    # The file backend appends each message and a line of 79 dashes; one file may hold several.
    separator = b"\n" + b"-" * 79 + b"\n"
    messages = [message_from_bytes(part) for p in sorted((tmp_path / "mail").iterdir())
                for part in p.read_bytes().split(separator) if part.strip()]
    recipients = [m["To"] for m in messages]
    assert len(messages) == emailed.count() + len(leads)
    assert set(leads.values()) <= {r for r in recipients}
    charts = [part for m in messages for part in m.walk() if part.get_content_type() == "image/png"]
    assert charts, "the weekly reports carry their charts as images"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_agent_users_dispute_their_own_results_and_a_team_lead_resolves_one(production_models):
    from apps.qa.models import CriterionAnswer, Dispute, QaResult

    seed("--scorecard")
    demo_users_ensure(password="demo-pass-123")
    demo_nights_run(nights=1, today=ANCHOR)
    before = dict(QaResult.objects.values_list("pk", "score"))

    assert demo_disputes_open(n=2, resolve=1) == {"opened": 2, "resolved": 1}
    disputes = list(Dispute.objects.select_related("opened_by", "resolved_by", "answer__result__conversation__agent"))
    assert len(disputes) == 2 and {d.status for d in disputes} == {Dispute.Status.OPEN, Dispute.Status.ACCEPTED}
    for dispute in disputes:
        agent = dispute.answer.result.conversation.agent
        assert dispute.opened_by == agent.user and dispute.proposed_answer == "yes"  # their own result
    accepted = next(d for d in disputes if d.status == Dispute.Status.ACCEPTED)
    agent = accepted.answer.result.conversation.agent
    assert accepted.resolved_by.led_teams.filter(team=agent.team).exists()
    answer = CriterionAnswer.objects.get(pk=accepted.answer_id)
    assert answer.answer == "yes" and answer.source == CriterionAnswer.Source.REVIEWER
    result = QaResult.objects.get(pk=answer.result_id)
    assert result.auto_failed or result.score > before[result.pk]  # the accepted dispute raised the score

    assert demo_disputes_open(n=2, resolve=1) == {"opened": 0, "resolved": 0}
    assert Dispute.objects.count() == 2


@pytest.mark.django_db
def test_demo_nights_needs_production_models(model_store):
    seed()
    with pytest.raises(CommandError, match="bootstrap_models"):
        call_command("demo_nights", "--nights", "2", stdout=io.StringIO())
    with pytest.raises(CommandError):
        call_command("demo_nights", "--nights", "0", stdout=io.StringIO())
