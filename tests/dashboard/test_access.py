"""Who may open the console's pages: real users in the role groups of ``apps.core.roles``."""
import pytest
from django.contrib.auth.models import Group

from apps.agents.models import TeamLead
from apps.core.roles import Role, roles_setup

MANAGER_PAGES = [
    "/dashboard/", "/dashboard/conversations/", "/dashboard/teams/", "/dashboard/review/",
    "/dashboard/review/agreement/", "/dashboard/models/", "/dashboard/jobs/", "/dashboard/alerts/",
]


def _user(django_user_model, username: str, role: str):
    roles_setup()
    user = django_user_model.objects.create_user(username=username, password="pw-123456!", is_staff=True)
    user.groups.set([Group.objects.get(name=role)])
    return user


@pytest.fixture
def agent_client(client, known, django_user_model):
    alice = known["agents"][0]
    user = _user(django_user_model, "alice", Role.AGENT)
    alice.user = user
    alice.save(update_fields=["user"])
    client.force_login(user)
    return client


@pytest.fixture
def lead_client(client, known, django_user_model):
    user = _user(django_user_model, "lead-t1", Role.TEAM_LEAD)
    TeamLead.objects.create(user=user, team="t1")
    client.force_login(user)
    return client


def test_agent_user_is_sent_from_the_overview_to_their_own_qa_results(agent_client):
    response = agent_client.get("/dashboard/")
    assert response.status_code == 302 and response.url == "/dashboard/qa/results/"
    own = agent_client.get(response.url)
    assert own.status_code == 200
    # The top bar offers no manager page it could not open.
    for path in MANAGER_PAGES[1:]:
        assert f'href="{path}"' not in own.content.decode(), path


def test_agent_user_gets_403_on_every_other_manager_page(agent_client, known):
    alice, _, carol = known["agents"]
    c1 = known["conversations"][0]
    pages = MANAGER_PAGES[1:] + [
        f"/dashboard/agents/{alice.pk}/", f"/dashboard/agents/{carol.pk}/", f"/dashboard/conversations/{c1.pk}/",
        "/dashboard/teams/t1/", "/dashboard/conversations/export.csv", f"/dashboard/agents/{alice.pk}/export.csv",
        "/dashboard/jobs/status.json",
    ]
    for path in pages:
        assert agent_client.get(path).status_code == 403, path
    assert agent_client.post(f"/dashboard/conversations/{c1.pk}/review/").status_code == 403


def test_staff_user_without_a_console_permission_gets_403(client, django_user_model, db):
    user = django_user_model.objects.create_user(username="bare", password="pw-123456!", is_staff=True)
    client.force_login(user)
    for path in MANAGER_PAGES:
        assert client.get(path).status_code == 403, path


@pytest.mark.parametrize("role", [Role.MANAGER, Role.REVIEWER])
def test_manager_and_reviewer_open_every_manager_page(client, known, django_user_model, role):
    client.force_login(_user(django_user_model, role, role))
    for path in MANAGER_PAGES:
        assert client.get(path).status_code == 200, path
    assert 'href="/dashboard/models/"' in client.get("/dashboard/qa/").content.decode()


def test_manager_group_holds_the_console_actions(client, known, django_user_model):
    user = _user(django_user_model, "boss", Role.MANAGER)
    assert user.has_perms(["registry.change_modelversion", "registry.add_modelversion", "jobs.add_job",
                           "alerts.change_alert"])
    client.force_login(user)
    assert client.get("/dashboard/jobs/").context["can_start_jobs"] is True


def test_team_lead_sees_only_their_teams_agents_and_conversations(lead_client, known):
    alice, bob, carol = known["agents"]
    c1, c2, c3, c4, c5 = known["conversations"]
    assert lead_client.get("/dashboard/").status_code == 200
    listed = lead_client.get("/dashboard/conversations/?date_from=2026-03-01&date_to=2026-03-31")
    assert {c.pk for c in listed.context["page"].object_list} == {c1.pk, c2.pk, c3.pk}
    assert lead_client.get(f"/dashboard/conversations/{c1.pk}/").status_code == 200
    assert lead_client.get(f"/dashboard/conversations/{c4.pk}/").status_code == 403
    assert lead_client.get(f"/dashboard/agents/{bob.pk}/").status_code == 200
    assert lead_client.get(f"/dashboard/agents/{carol.pk}/").status_code == 403
    assert lead_client.get(f"/dashboard/agents/{carol.pk}/export.csv").status_code == 403
    assert lead_client.get("/dashboard/teams/t1/").status_code == 200
    assert lead_client.get("/dashboard/teams/t2/").status_code == 403
    teams = lead_client.get("/dashboard/teams/?date_from=2026-03-01&date_to=2026-03-31").context["rows"]
    assert [r["team"] for r in teams] == ["t1"]


def test_team_lead_export_holds_only_their_team(lead_client, known):
    ok = lead_client.get("/dashboard/conversations/export.csv?date_from=2026-03-01&date_to=2026-03-31")
    body = b"".join(ok.streaming_content).decode("utf-8-sig")
    ids = {c.external_id for c in known["conversations"]}
    own = {c.external_id for c in known["conversations"][:3]}
    assert {i for i in ids if i in body} == own
    assert lead_client.get("/dashboard/conversations/export.csv?team=t2").status_code == 403


def test_anonymous_visitor_is_sent_to_sign_in(client, db):
    response = client.get("/dashboard/jobs/")
    assert response.status_code == 302 and response.url.startswith("/admin/login/")
