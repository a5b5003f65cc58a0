"""Console roles: groups with their permissions, and object-level scoping of querysets."""
import pytest
from django.contrib.auth.models import Group

from apps.agents.models import Agent, TeamLead
from apps.conversations.models import Conversation
from apps.core.roles import Role, roles_setup, scope_queryset, user_can_resolve_for_agent, user_can_see_agent, user_role
from tests.factories import AgentFactory, ConversationFactory

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
    assert user_role(_user(django_user_model, "staff", is_staff=True)) == Role.MANAGER
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
