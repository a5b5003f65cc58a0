"""QA console pages: the review screen with evidence, an agent's own results and disputes, resolution."""
import pytest

from apps.agents.models import TeamLead
from apps.core.models import AuditEvent
from apps.qa import services
from apps.qa.models import Dispute, QaResult
from tests.factories import AgentFactory

from .conftest import BAD_EN, GOOD_ZH, make_conversation

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(default_version, make_user):
    agent_user, other_user = make_user("ag1", "agent"), make_user("ag2", "agent")
    a1 = AgentFactory(team="north", user=agent_user)
    a2 = AgentFactory(team="south", user=other_user)
    lead, reviewer = make_user("lead1", "team_lead"), make_user("rev1", "reviewer")
    TeamLead.objects.create(user=lead, team="north")
    mine = make_conversation(BAD_EN, agent=a1, language="en")
    theirs = make_conversation(GOOD_ZH, agent=a2)
    services.qa_results_upsert(conversation_ids=[mine.pk, theirs.pk])
    return {"agent": agent_user, "lead": lead, "reviewer": reviewer,
            "mine": QaResult.objects.get(conversation=mine), "theirs": QaResult.objects.get(conversation=theirs)}


def test_pages_need_a_role(client, world, make_user):
    assert client.get("/dashboard/qa/").status_code == 302  # to the QA sign-in page
    client.force_login(make_user("nobody"))
    assert client.get("/dashboard/qa/").status_code == 403


def test_review_screen_shows_evidence_and_saves_an_override(client, world):
    client.force_login(world["reviewer"])
    page = client.get(f"/dashboard/qa/results/{world['theirs'].pk}/").content.decode()
    assert "<mark>您好</mark>" in page or "<mark>您好，我是客服小李</mark>" in page
    assert 'name="answer-greeting"' in page
    response = client.post(f"/dashboard/qa/results/{world['theirs'].pk}/",
                           {"answer-greeting": "no", "comment-greeting": "工号没报", "answer-tone": "3"})
    assert response.status_code == 302
    result = QaResult.objects.get(pk=world["theirs"].pk)
    answers = {a.criterion.key: a for a in result.answers.select_related("criterion")}
    assert answers["greeting"].answer == "no" and answers["greeting"].source == "reviewer"
    assert result.score < 100 and result.reviewed_by == world["reviewer"]
    assert AuditEvent.objects.filter(action="qa.review", actor=world["reviewer"]).exists()


def test_agent_sees_own_results_only_and_disputes_then_lead_resolves(client, world):
    client.force_login(world["agent"])
    listing = client.get("/dashboard/qa/results/").content.decode()
    assert world["mine"].conversation.external_id in listing
    assert world["theirs"].conversation.external_id not in listing
    assert client.get(f"/dashboard/qa/results/{world['theirs'].pk}/").status_code == 404
    page = client.get(f"/dashboard/qa/results/{world['mine'].pk}/").content.decode()
    assert 'name="answer-greeting"' not in page and 'value="dispute"' in page
    answer = world["mine"].answers.get(criterion__key="no_sensitive_data_request")
    client.post(f"/dashboard/qa/results/{world['mine'].pk}/", {"action": "dispute", "answer": answer.pk,
                                                               "proposed_answer": "yes", "comment": "I asked for 3 digits of the phone"})
    dispute = Dispute.objects.get()
    assert dispute.opened_by == world["agent"]
    # Another agent's answer cannot be disputed, even by posting its id.
    other = world["theirs"].answers.get(criterion__key="greeting")
    client.post(f"/dashboard/qa/results/{world['mine'].pk}/", {"action": "dispute", "answer": other.pk,
                                                               "proposed_answer": "no", "comment": "x"})
    assert Dispute.objects.count() == 1

    client.force_login(world["lead"])
    assert world["mine"].conversation.external_id in client.get("/dashboard/qa/disputes/").content.decode()
    client.post("/dashboard/qa/disputes/", {"dispute": dispute.pk, "action": "accept", "resolution": "listened: fine"})
    dispute.refresh_from_db()
    assert dispute.status == "accepted" and dispute.resolved_by == world["lead"]
    result = QaResult.objects.get(pk=world["mine"].pk)
    assert not result.auto_failed and result.score > 0


def test_try_a_rule_page(client, world):
    client.force_login(world["reviewer"])
    rule = '{"expression": "1", "conditions": {"1": {"operator": "regex", "pattern": "CVV", "speaker": "agent"}}}'
    page = client.post("/dashboard/qa/try/", {"rule": rule, "days": "1"}).content.decode()
    assert "<mark>CVV</mark>" in page
    page = client.post("/dashboard/qa/try/", {"rule": '{"expression": "9", "conditions": {}}', "days": "1"}).content.decode()
    assert "rule.conditions" in page
    client.force_login(world["agent"])
    assert client.get("/dashboard/qa/try/").status_code == 403


def test_highlight_merges_overlapping_spans():
    from apps.qa.views import highlight

    (m,) = highlight([{"seq": 1, "speaker": "agent", "text": "abcdefgh"}],
                     [{"seq": 1, "span": [1, 3]}, {"seq": 1, "span": [2, 5]}, {"seq": 1, "span": [7, 8]}])
    assert [(p["text"], p["mark"]) for p in m["parts"]] == [("a", False), ("bcde", True), ("fg", False), ("h", True)]
