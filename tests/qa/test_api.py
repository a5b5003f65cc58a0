"""The QA API: scorecards through versions and publishing, results with evidence, disputes, roles."""
import pytest
from rest_framework.test import APIClient

from apps.agents.models import TeamLead
from apps.core.services import api_key_create
from apps.qa import services
from apps.qa.models import QaResult, Scorecard
from tests.factories import AgentFactory

from .conftest import BAD_EN, GOOD_ZH, make_conversation

pytestmark = pytest.mark.django_db

CARD = {
    "name": "Bank QA", "pass_threshold": 80,
    "sections": [{
        "title_zh": "合规", "title_en": "Compliance",
        "criteria": [
            {"key": "greeting", "question_zh": "问候？", "question_en": "Greeting?", "points": 10,
             "rule": {"expression": "1", "conditions": {
                 "1": {"operator": "keywords", "words": ["您好", "hello"], "speaker": "agent", "first": 2}}}},
            {"key": "verify_first", "question_zh": "先核身？", "question_en": "Verified before details?", "points": 20,
             "rule": {"expression": "!1 || 2", "conditions": {
                 "1": {"operator": "regex", "pattern": "余额|账单金额|balance", "speaker": "agent"},
                 "2": {"operator": "regex", "pattern": "验证|核实|verif|date of birth", "speaker": "agent",
                       "anchor": {"condition": "1", "where": "before"}}}}},
            {"key": "no_cvv", "question_zh": "未索要安全码？", "question_en": "No CVV asked?", "points": 0,
             "auto_fail": True,
             "rule": {"expression": "1", "answer_when_true": "no", "conditions": {
                 "1": {"operator": "regex", "pattern": "cvv|安全码", "speaker": "agent"}}}},
        ],
    }],
}


def key_client(*scopes):
    _, key = api_key_create(name="k-" + "-".join(scopes), scopes=list(scopes))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def session_client(user):
    client = APIClient()
    client.force_login(user)
    return client


def test_build_publish_and_score_through_the_api():
    admin = key_client("read", "write", "admin")
    created = admin.post("/api/v1/qa/scorecards/", CARD, format="json")
    assert created.status_code == 201, created.json()
    version_id = created.json()["versions"][0]["id"]
    published = admin.post(f"/api/v1/qa/versions/{version_id}/publish", {}, format="json")
    assert published.status_code == 200 and published.json()["status"] == "published"
    assert Scorecard.objects.get().is_active

    good = make_conversation(GOOD_ZH)
    bad = make_conversation(BAD_EN, language="en")
    services.qa_results_upsert(conversation_ids=[good.pk, bad.pk])

    body = admin.get(f"/api/v1/qa/results/?conversation={good.external_id}").json()
    (result,) = body["results"]
    answers = {a["key"]: a for a in result["answers"]}
    assert result["score"] == 100.0 and not result["auto_failed"]
    assert [e["seq"] for e in answers["greeting"]["evidence"]] == [1]
    assert {e["seq"] for e in answers["verify_first"]["evidence"] if e["condition"] == "1"} == {7}
    assert {e["seq"] for e in answers["verify_first"]["evidence"] if e["condition"] == "2"} == {3, 5}

    body = admin.get(f"/api/v1/qa/results/?conversation={bad.external_id}").json()
    (result,) = body["results"]
    answers = {a["key"]: a for a in result["answers"]}
    assert result["score"] == 0.0 and result["auto_failed"]
    assert answers["no_cvv"]["answer"] == "no" and [e["seq"] for e in answers["no_cvv"]["evidence"]] == [3]
    assert answers["verify_first"]["answer"] == "no"


def test_published_version_is_immutable_over_the_api():
    admin = key_client("read", "admin")
    scorecard = admin.post("/api/v1/qa/scorecards/", CARD, format="json").json()
    version_id = scorecard["versions"][0]["id"]
    admin.post(f"/api/v1/qa/versions/{version_id}/publish", {}, format="json")
    edit = admin.patch(f"/api/v1/qa/versions/{version_id}/", {"pass_threshold": 50}, format="json")
    assert edit.status_code == 409
    draft = admin.post(f"/api/v1/qa/scorecards/{scorecard['id']}/draft", format="json")
    assert draft.status_code == 201 and draft.json()["number"] == 2
    assert draft.json()["sections"] == admin.get(f"/api/v1/qa/versions/{version_id}/").json()["sections"]
    edit = admin.patch(f"/api/v1/qa/versions/{draft.json()['id']}/", {"pass_threshold": 50}, format="json")
    assert edit.status_code == 200 and edit.json()["pass_threshold"] == 50


@pytest.mark.parametrize("mutate, field", [
    (lambda c: c["sections"][0]["criteria"][1]["rule"].update(expression="1 && 3"),
     "sections.0.criteria.1.rule.expression"),
    (lambda c: c["sections"][0]["criteria"][1]["rule"]["conditions"]["1"].update(anchor={"condition": "2"}),
     "sections.0.criteria.1.rule.conditions"),
    (lambda c: c["sections"][0]["criteria"][2]["rule"]["conditions"]["1"].update(pattern="(a+)+$"),
     "sections.0.criteria.2.rule.conditions.1.pattern"),
    (lambda c: c["sections"][0]["criteria"][0].update(points=0), "sections.0.criteria.0.points"),
])
def test_bad_scorecards_get_4xx_with_the_field(mutate, field):
    import copy

    card = copy.deepcopy(CARD)
    mutate(card)
    response = key_client("read", "admin").post("/api/v1/qa/scorecards/", card, format="json")
    # A rule is an object the schema cannot describe further: the rule engine's "no" is 422.
    assert response.status_code == (422 if ".rule" in field else 400)
    assert any(k.startswith(field) for k in response.json()["extra"]), response.json()
    assert not Scorecard.objects.exists()


def test_scorecard_writes_need_admin_scope():
    response = key_client("read", "write").post("/api/v1/qa/scorecards/", CARD, format="json")
    assert response.status_code == 403
    assert APIClient().get("/api/v1/qa/results/").status_code in (401, 403)


@pytest.fixture
def people(default_version, make_user):
    me, other = make_user("agent-me", "agent"), make_user("agent-other", "agent")
    a_me = AgentFactory(team="north", user=me)
    a_other = AgentFactory(team="south", user=other)
    lead = make_user("lead-north", "team_lead")
    TeamLead.objects.create(user=lead, team="north")
    mine = make_conversation(BAD_EN, agent=a_me, language="en")
    theirs = make_conversation(BAD_EN, agent=a_other, language="en")
    services.qa_results_upsert(conversation_ids=[mine.pk, theirs.pk])
    return {"me": me, "lead": lead, "mine": QaResult.objects.get(conversation=mine),
            "theirs": QaResult.objects.get(conversation=theirs)}


def test_agent_sees_only_own_results_and_disputes_only_own(people):
    me = session_client(people["me"])
    listed = me.get("/api/v1/qa/results/").json()["results"]
    assert [r["id"] for r in listed] == [people["mine"].pk]
    assert me.get(f"/api/v1/qa/results/{people['theirs'].pk}/").status_code == 404
    theirs_answer = people["theirs"].answers.get(criterion__key="greeting")
    response = me.post("/api/v1/qa/disputes/", {"answer": theirs_answer.pk, "proposed_answer": "yes",
                                                "comment": "not mine"}, format="json")
    assert response.status_code == 400 and "answer" in response.json()["extra"]
    mine_answer = people["mine"].answers.get(criterion__key="no_sensitive_data_request")
    response = me.post("/api/v1/qa/disputes/", {"answer": mine_answer.pk, "proposed_answer": "maybe",
                                                "comment": "x"}, format="json")
    assert response.status_code == 400 and "proposed_answer" in response.json()["extra"]
    response = me.post("/api/v1/qa/disputes/", {"answer": mine_answer.pk, "proposed_answer": "yes",
                                                "comment": "I asked for the last 3 digits of the phone"}, format="json")
    assert response.status_code == 201
    dispute_id = response.json()["id"]
    assert me.post(f"/api/v1/qa/disputes/{dispute_id}/resolve", {"accept": True}, format="json").status_code == 403

    lead = session_client(people["lead"])
    response = lead.post(f"/api/v1/qa/disputes/{dispute_id}/resolve", {"accept": True, "resolution": "ok"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "accepted"
    people["mine"].refresh_from_db()
    assert not people["mine"].auto_failed and people["mine"].score > 0


def test_rule_try_endpoint(default_version):
    make_conversation(GOOD_ZH)
    make_conversation(BAD_EN, language="en")
    rule = {"expression": "1", "conditions": {"1": {"operator": "regex", "pattern": "cvv|安全码", "speaker": "agent"}}}
    response = key_client("read", "admin").post("/api/v1/qa/rules/try", {"rule": rule, "days": 1}, format="json")
    assert response.status_code == 200, response.json()
    result = response.json()["result"]
    assert result["conversations"] == 2 and result["hits"] == 1 and result["hit_rate"] == 0.5
    assert [e["seq"] for e in result["sample"][0]["evidence"]] == [3]
    bad = key_client("read", "admin").post("/api/v1/qa/rules/try", {"rule": {"expression": "2", "conditions": rule["conditions"]}},
                                           format="json")
    assert bad.status_code == 422 and "rule.expression" in bad.json()["extra"]


def test_schema_lists_the_qa_endpoints_with_their_methods(admin_user_client):
    import json

    paths = json.loads(admin_user_client.get("/api/schema/?format=json").content)["paths"]
    methods = {path: set(ops) - {"parameters"} for path, ops in paths.items() if "/qa/" in path}
    assert methods["/api/v1/qa/scorecards/"] == {"get", "post"}
    assert methods["/api/v1/qa/scorecards/{scorecard_id}/draft"] == {"post"}
    assert methods["/api/v1/qa/versions/{version_id}/"] == {"get", "patch"}
    assert methods["/api/v1/qa/versions/{version_id}/publish"] == {"post"}
    assert methods["/api/v1/qa/results/{result_id}/"] == {"get"}
    assert methods["/api/v1/qa/disputes/"] == {"get", "post"}
    assert methods["/api/v1/qa/rules/try"] == {"post"}


def test_qa_score_job_endpoint(default_version):
    conv = make_conversation(GOOD_ZH)
    client = key_client("read", "write")
    response = client.post("/api/v1/qa/score", {"conversation_ids": [conv.pk]}, format="json")
    assert response.status_code == 201 and response.json()["kind"] == "qa_score"
    bad = client.post("/api/v1/qa/score", {"since": "soon"}, format="json")
    assert bad.status_code == 400 and "since" in bad.json()["extra"]["fields"]


def test_hostile_input_gets_4xx_not_5xx(default_version):
    client = key_client("read", "write", "admin")
    huge = 2**70
    assert client.get(f"/api/v1/qa/results/{huge}/").status_code == 404
    assert client.post(f"/api/v1/qa/scorecards/{huge}/draft", format="json").status_code == 404
    assert client.get("/api/v1/qa/results/?conversation=a%00b").status_code == 400
    assert client.get("/api/v1/qa/disputes/?status=nope").status_code == 400
    assert client.post("/api/v1/qa/score", {"since": "2026-02-31"}, format="json").status_code == 400
    assert client.post("/api/v1/qa/score", {"version": str(huge), "all": True}, format="json").status_code == 400
    assert client.post("/api/v1/qa/score", {"conversation_ids": [huge]}, format="json").status_code == 400
    rule = {"expression": "1", "conditions": {"1": {"operator": "keywords", "words": ["a\x00b"]}}}
    response = client.post("/api/v1/qa/rules/try", {"rule": rule}, format="json")
    assert response.status_code == 422 and "rule" in response.json()["extra"]
