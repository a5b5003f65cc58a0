"""Console roles: groups with their permissions, and object-level scoping of querysets."""
import pytest
from django.contrib.auth.models import Group

from apps.agents.models import Agent, TeamLead
from apps.conversations.models import Conversation
from apps.core.roles import Role, roles_setup, scope_queryset, user_can_resolve_for_agent, user_can_see_agent, user_role
from tests.factories import AgentFactory, ConversationFactory
from tests.scoring.fixtures import model_store  # noqa: F401

pytestmark = pytest.mark.django_db


def _user(django_user_model, name, role=None, **extra):
    user = django_user_model.objects.create_user(username=name, password="pw-123456!", **extra)
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def world(django_user_model):
    roles_setup()
    a1 = AgentFactory(team="north")
    a2 = AgentFactory(team="south")
    c1, c2 = ConversationFactory(agent=a1), ConversationFactory(agent=a2)
    lead = _user(django_user_model, "lead", Role.TEAM_LEAD)
    TeamLead.objects.create(user=lead, team="north")
    agent_user = _user(django_user_model, "agent1", Role.AGENT)
    a1.user = agent_user
    a1.save()
    return {"a1": a1, "a2": a2, "c1": c1, "c2": c2, "lead": lead, "agent_user": agent_user}


def test_setup_creates_groups_with_permissions_and_is_idempotent():
    first = roles_setup()
    second = roles_setup()
    assert first == second
    assert set(first) == {"manager", "team_lead", "reviewer", "agent"}
    manager = Group.objects.get(name="manager")
    assert manager.permissions.filter(codename="change_scorecard").exists()
    agent = Group.objects.get(name="agent")
    assert agent.permissions.filter(codename="add_dispute").exists()
    assert not agent.permissions.filter(codename="change_scorecard").exists()


def test_roles_of_users(django_user_model, world):
    assert user_role(world["lead"]) == Role.TEAM_LEAD
    assert user_role(world["agent_user"]) == Role.AGENT
    assert user_role(_user(django_user_model, "staff", is_staff=True)) is None
    assert user_role(_user(django_user_model, "nobody")) is None
    both = _user(django_user_model, "both", Role.AGENT)
    both.groups.add(Group.objects.get(name=Role.REVIEWER))
    assert user_role(both) == Role.REVIEWER


def test_team_lead_sees_only_their_teams(world):
    qs = scope_queryset(world["lead"], Conversation.objects.all(), agent_path="agent")
    assert list(qs) == [world["c1"]]
    agents = scope_queryset(world["lead"], Agent.objects.all(), agent_path="")
    assert list(agents) == [world["a1"]]
    assert user_can_see_agent(world["lead"], world["a1"])
    assert not user_can_see_agent(world["lead"], world["a2"])
    assert user_can_resolve_for_agent(world["lead"], world["a1"])
    assert not user_can_resolve_for_agent(world["lead"], world["a2"])


def test_agent_user_sees_only_own_work(django_user_model, world):
    qs = scope_queryset(world["agent_user"], Conversation.objects.all(), agent_path="agent")
    assert list(qs) == [world["c1"]]
    assert not user_can_see_agent(world["agent_user"], world["a2"])
    assert not user_can_resolve_for_agent(world["agent_user"], world["a1"])
    unlinked = _user(django_user_model, "agent2", Role.AGENT)
    assert not scope_queryset(unlinked, Conversation.objects.all(), agent_path="agent").exists()


def test_setup_roles_command(capsys):
    from django.core.management import call_command

    call_command("setup_roles")
    assert "team_lead:" in capsys.readouterr().out
    assert Group.objects.filter(name__in=["manager", "team_lead", "reviewer", "agent"]).count() == 4


def test_api_keys_are_managers_or_integrations(world):
    from apps.core.auth import APIKeyUser
    from apps.core.services import api_key_create

    admin_key, _ = api_key_create(name="admin", scopes=["read", "admin"])
    read_key, _ = api_key_create(name="reader", scopes=["read"])
    admin, reader = APIKeyUser(admin_key), APIKeyUser(read_key)
    assert user_role(admin) == Role.MANAGER and user_role(reader) == Role.INTEGRATION
    assert scope_queryset(reader, Conversation.objects.all(), agent_path="agent").count() == 2
    assert user_can_resolve_for_agent(admin, world["a2"])
    assert not user_can_resolve_for_agent(reader, world["a2"])


# Every console page and action, and API endpoints of each scope, that a role could open.
CONSOLE_PAGES = [
    "/dashboard/", "/dashboard/conversations/", "/dashboard/conversations/export.csv", "/dashboard/teams/",
    "/dashboard/review/", "/dashboard/review/agreement/", "/dashboard/models/", "/dashboard/jobs/",
    "/dashboard/jobs/status.json", "/dashboard/alerts/", "/dashboard/qa/", "/dashboard/qa/results/",
    "/dashboard/qa/disputes/", "/dashboard/qa/assignments/", "/dashboard/qa/try/",
]
CONSOLE_ACTIONS = [
    "/dashboard/models/{version}/promote/", "/dashboard/models/intent/rollback/", "/dashboard/jobs/",
    "/dashboard/review/start/", "/dashboard/conversations/{conversation}/review/", "/dashboard/alerts/1/acknowledge/",
    "/dashboard/qa/try/", "/dashboard/qa/disputes/",
]
API_READS = ["/api/v1/conversations/", "/api/v1/customers/", "/api/v1/agents/", "/api/v1/models/",
             "/api/v1/jobs/", "/api/v1/qa/scorecards/", "/api/v1/qa/results/", "/api/v1/qa/disputes/",
             "/api/v1/webhooks/subscriptions"]
API_WRITES = [("/api/v1/predict", {"text": "balance please"}), ("/api/v1/jobs/score", {"all": True}),
              ("/api/v1/jobs/retrain", {}), ("/api/v1/qa/score", {"all": True}),
              ("/api/v1/qa/scorecards/", {"name": "x"}), ("/api/v1/conversations/bulk", {"items": []}),
              ("/api/v1/webhooks/subscriptions", {"url": "https://example.com/hook", "events": ["job.finished"]})]


def _walk(client, conversation, version) -> dict[str, int]:
    answers = {}
    for path in CONSOLE_PAGES + API_READS:
        answers[f"GET {path}"] = client.get(path).status_code
    for path in CONSOLE_ACTIONS:
        path = path.format(conversation=conversation.pk, version=version.pk)
        answers[f"POST {path}"] = client.post(path, {"kind": "score", "task": "intent"}).status_code
    for path, body in API_WRITES:
        answers[f"POST {path}"] = client.post(path, body, content_type="application/json").status_code
    return answers


@pytest.fixture
def walk_world(world, model_store):
    from apps.registry import services as registry_services
    from tests.registry.test_services import _estimator

    version = registry_services.model_version_register(task="intent", backend="linear", estimator=_estimator())
    return {"conversation": world["c1"], "version": version}


def test_staff_without_a_role_has_no_console_or_api_power(client, django_user_model, world, walk_world):
    """The staff flag opens the Django admin only: no role, no group, no permission, nothing else."""
    staff = _user(django_user_model, "bare-staff", is_staff=True)
    assert user_role(staff) is None
    assert not scope_queryset(staff, Conversation.objects.all(), agent_path="agent").exists()
    assert not user_can_see_agent(staff, world["a1"]) and not user_can_resolve_for_agent(staff, world["a1"])
    client.force_login(staff)
    answers = _walk(client, **walk_world)
    allowed = {call: status for call, status in answers.items() if status not in (403, 405)}
    assert not allowed, allowed
    assert client.get("/admin/").status_code == 200


def test_a_superuser_keeps_every_power(client, django_user_model, world, walk_world):
    root = _user(django_user_model, "root", is_staff=True, is_superuser=True)
    assert user_role(root) == Role.MANAGER
    assert scope_queryset(root, Conversation.objects.all(), agent_path="agent").count() == 2
    assert user_can_resolve_for_agent(root, world["a2"])
    client.force_login(root)
    answers = _walk(client, **walk_world)
    refused = {call: status for call, status in answers.items() if status in (401, 403)}
    assert not refused, refused
