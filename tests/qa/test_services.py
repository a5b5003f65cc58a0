"""QA services: versioning, scoring with evidence, idempotent upserts, reviews, disputes, assessment."""
import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from apps.agents.models import TeamLead
from apps.core.exceptions import ApplicationError, Conflict
from apps.core.models import AuditEvent
from apps.qa import services
from apps.qa.assessment import qa_assessment_run
from apps.qa.default_scorecard import DEFAULT_NAME, SECTIONS, seed_default_scorecard
from apps.qa.models import (
    Assignment,
    CriterionAnswer,
    Dispute,
    QaDailyAgent,
    QaResult,
    Scorecard,
)
from apps.webhooks.models import WebhookDelivery, WebhookSubscription
from tests.factories import AgentFactory

from .conftest import BAD_EN, GOOD_ZH, PROMISE_EN, make_conversation

pytestmark = pytest.mark.django_db

SIMPLE = [{"title_zh": "开场", "title_en": "Opening", "criteria": [{
    "key": "greeting", "question_zh": "问候？", "question_en": "Greeting?", "points": 1,
    "rule": {"expression": "1", "conditions": {"1": {"operator": "keywords", "words": ["您好", "hello"], "speaker": "agent"}}},
}]}]


def answers_of(result):
    return {a.criterion.key: a for a in result.answers.select_related("criterion")}


def test_default_scorecard_answers_and_evidence_zh(default_version):
    conv = make_conversation(GOOD_ZH)
    (result,) = services.qa_results_upsert(conversation_ids=[conv.pk])
    got = answers_of(result)
    assert {k: a.answer for k, a in got.items()} == {
        "greeting": "yes", "identity_before_details": "yes", "no_sensitive_data_request": "yes",
        "no_guaranteed_returns": "yes", "need_understood": "yes", "empathy": "yes", "responsive": "yes",
        "no_scripted_repetition": "yes", "tone": "", "closing": "yes",
    }
    assert result.score == 100.0 and not result.auto_failed
    assert {e["seq"] for e in got["greeting"].evidence} == {1}
    # The disclosure (message 7) and the verification before it (messages 3 and 5).
    evidence = got["identity_before_details"].evidence
    assert {e["seq"] for e in evidence if e["condition"] == "1"} == {7}
    assert {e["seq"] for e in evidence if e["condition"] == "2"} <= {3, 5} and evidence
    assert [e["seq"] for e in got["closing"].evidence] == [8]
    text = conv.messages.get(seq=3).text
    assert {text[a:b] for a, b in (e["span"] for e in got["empathy"].evidence)} == {"抱歉", "给您带来不便"}


def test_default_scorecard_auto_fail_en(default_version):
    conv = make_conversation(BAD_EN, language="en")
    (result,) = services.qa_results_upsert(conversation_ids=[conv.pk])
    got = answers_of(result)
    assert got["no_sensitive_data_request"].answer == "no"
    assert [e["seq"] for e in got["no_sensitive_data_request"].evidence] == [3]
    assert got["identity_before_details"].answer == "no"
    assert got["greeting"].answer == "no" and got["closing"].answer == "no"
    assert got["empathy"].answer == "no"  # the customer was negative and no apology followed
    assert result.score == 0.0 and result.auto_failed
    assert "CVV" in result.reason or "card number" in result.reason


def test_guaranteed_returns_auto_fail_and_negated_sentence(default_version):
    conv = make_conversation(PROMISE_EN, language="en")
    (result,) = services.qa_results_upsert(conversation_ids=[conv.pk])
    assert answers_of(result)["no_guaranteed_returns"].answer == "no"
    assert result.auto_failed and result.score == 0.0
    careful = make_conversation([
        ("agent", "您好，我是理财顾问小王。"),
        ("agent", "理财产品有风险，我们不保证收益，也不会向您索要密码或验证码。"),
        ("agent", "还有什么可以帮您？"),
    ])
    (ok,) = services.qa_results_upsert(conversation_ids=[careful.pk])
    got = answers_of(ok)
    assert got["no_guaranteed_returns"].answer == "yes"
    assert got["no_sensitive_data_request"].answer == "yes"
    assert not ok.auto_failed


def test_upsert_is_idempotent_and_keeps_reviewer_answers(default_version, make_user):
    conv = make_conversation(GOOD_ZH)
    first = services.qa_results_upsert(conversation_ids=[conv.pk])
    reviewer = make_user("rev", "reviewer")
    services.qa_review_submit(result=first[0], actor=reviewer,
                              answers={"greeting": {"answer": "no", "comment": "没有报工号"}, "tone": "4"})
    again = services.qa_results_upsert(conversation_ids=[conv.pk])
    again = services.qa_results_upsert(conversation_ids=[conv.pk])
    assert again[0].pk == first[0].pk
    assert QaResult.objects.count() == 1
    assert CriterionAnswer.objects.filter(result=first[0]).count() == 10
    got = answers_of(QaResult.objects.get())
    assert got["greeting"].answer == "no" and got["greeting"].auto_answer == "yes"
    assert got["greeting"].source == "reviewer" and got["greeting"].comment == "没有报工号"
    assert got["tone"].answer == "4"
    # 10 + 20 + 20 + 15 + 5 + 5 + 10 = 85 points answered, greeting's 10 lost, tone 4/5 → 7.5 of 10.
    assert QaResult.objects.get().score == round(100 * (85 - 10 + 7.5) / 95, 2)


def test_published_version_is_immutable_and_drafts_copy(default_version):
    with pytest.raises(Conflict):
        services.scorecard_version_update(version=default_version, sections=SIMPLE)
    draft = services.scorecard_draft_create(scorecard=default_version.scorecard)
    assert draft.number == 2 and draft.status == "draft"
    assert services.version_content(draft) == services.version_content(default_version)
    assert services.scorecard_draft_create(scorecard=default_version.scorecard) == draft
    services.scorecard_version_update(version=draft, sections=SIMPLE, pass_threshold=80)
    conv = make_conversation(GOOD_ZH)
    services.qa_results_upsert(conversation_ids=[conv.pk])
    services.scorecard_version_publish(version=draft)
    default_version.refresh_from_db()
    assert default_version.status == "retired"
    assert services.active_version() == draft
    services.qa_results_upsert(conversation_ids=[conv.pk])
    assert set(QaResult.objects.values_list("scorecard_version__number", flat=True)) == {1, 2}
    assert QaResult.objects.get(scorecard_version=default_version).answers.count() == 10


@pytest.mark.parametrize("mutate, field", [
    (lambda s: s[0]["criteria"][0].update(points=0), "sections.0.criteria.0.points"),
    (lambda s: s[0]["criteria"][0]["rule"].update(expression="1 && 7"), "sections.0.criteria.0.rule.expression"),
    (lambda s: s[0]["criteria"][0].update(scale="one_to_five"), "sections.0.criteria.0.scale"),
    (lambda s: s[0]["criteria"].append(dict(s[0]["criteria"][0])), "sections.0.criteria.1.key"),
    (lambda s: s[0]["criteria"][0].update(question_en=""), "sections.0.criteria.0.question_en"),
    (lambda s: s[0]["criteria"][0]["rule"]["conditions"]["1"].update(operator="regex", pattern="(a+)+$"),
     "sections.0.criteria.0.rule.conditions.1.pattern"),
])
def test_invalid_content_names_the_field_and_writes_nothing(mutate, field):
    import copy

    sections = copy.deepcopy(SIMPLE)
    mutate(sections)
    with pytest.raises(ApplicationError) as exc:
        services.scorecard_create(name="Broken", sections=sections)
    assert field in exc.value.extra
    assert not Scorecard.objects.exists()


def test_seed_is_idempotent():
    v1 = seed_default_scorecard()
    v2 = seed_default_scorecard()
    assert v1 == v2 and Scorecard.objects.filter(name=DEFAULT_NAME).count() == 1
    assert v1.status == "published" and v1.scorecard.is_active
    assert v1.sections.count() == len(SECTIONS)


def test_auto_fail_webhook_emitted_after_commit(default_version, django_capture_on_commit_callbacks):
    WebhookSubscription.objects.create(name="crm", url="http://127.0.0.1:9/h", events=["qa.auto_fail"], secret="s")
    conv = make_conversation(BAD_EN, language="en")
    with django_capture_on_commit_callbacks(execute=True):
        services.qa_results_upsert(conversation_ids=[conv.pk])
    with django_capture_on_commit_callbacks(execute=True):
        services.qa_results_upsert(conversation_ids=[conv.pk])  # still failed: no second event
    (delivery,) = WebhookDelivery.objects.filter(event="qa.auto_fail")
    assert delivery.payload["conversations"][0]["external_id"] == conv.external_id


@pytest.fixture
def dispute_world(default_version, make_user):
    agent_user = make_user("agent-a", "agent")
    other_user = make_user("agent-b", "agent")
    a = AgentFactory(team="north", user=agent_user)
    AgentFactory(team="south", user=other_user)
    lead = make_user("lead-n", "team_lead")
    TeamLead.objects.create(user=lead, team="north")
    other_lead = make_user("lead-s", "team_lead")
    TeamLead.objects.create(user=other_lead, team="south")
    conv = make_conversation(BAD_EN, agent=a, language="en")
    (result,) = services.qa_results_upsert(conversation_ids=[conv.pk])
    return {"agent_user": agent_user, "other_user": other_user, "lead": lead, "other_lead": other_lead,
            "result": result, "answers": answers_of(result)}


def test_dispute_flow_accept_recomputes_and_audits(dispute_world, django_capture_on_commit_callbacks):
    w = dispute_world
    WebhookSubscription.objects.create(name="crm", url="http://127.0.0.1:9/h", secret="s",
                                       events=["qa.dispute.opened", "qa.dispute.resolved"])
    answer = w["answers"]["no_sensitive_data_request"]
    with django_capture_on_commit_callbacks(execute=True):
        dispute = services.dispute_open(answer=answer, actor=w["agent_user"], comment="I asked for the last 3 digits only",
                                        proposed_answer="yes")
    with pytest.raises(PermissionDenied):
        services.dispute_resolve(dispute=dispute, actor=w["other_lead"], accept=True)
    with django_capture_on_commit_callbacks(execute=True):
        services.dispute_resolve(dispute=dispute, actor=w["lead"], accept=True, resolution="Agreed after listening")
    result = QaResult.objects.get(pk=w["result"].pk)
    assert not result.auto_failed and result.score > 0
    assert Dispute.objects.get().status == "accepted"
    assert list(AuditEvent.objects.filter(action__startswith="qa.dispute").order_by("pk")
                .values_list("action", "actor__username")) == [
        ("qa.dispute.open", "agent-a"), ("qa.dispute.accepted", "lead-n")]
    assert sorted(WebhookDelivery.objects.values_list("event", flat=True)) == ["qa.dispute.opened", "qa.dispute.resolved"]
    with pytest.raises(Conflict):
        services.dispute_resolve(dispute=dispute, actor=w["lead"], accept=False, resolution="again")


def test_dispute_rules(dispute_world):
    w = dispute_world
    answer = w["answers"]["greeting"]
    with pytest.raises(ApplicationError) as exc:
        services.dispute_open(answer=answer, actor=w["other_user"], comment="not mine", proposed_answer="yes")
    assert "answer" in exc.value.extra
    with pytest.raises(ApplicationError) as exc:
        services.dispute_open(answer=answer, actor=w["lead"], comment="lead", proposed_answer="yes")
    assert "answer" in exc.value.extra
    with pytest.raises(ApplicationError) as exc:
        services.dispute_open(answer=answer, actor=w["agent_user"], comment="x", proposed_answer="5")
    assert "proposed_answer" in exc.value.extra
    with pytest.raises(ApplicationError) as exc:
        services.dispute_open(answer=answer, actor=w["agent_user"], comment="", proposed_answer="yes")
    assert "comment" in exc.value.extra
    dispute = services.dispute_open(answer=answer, actor=w["agent_user"], comment="I said hello", proposed_answer="yes")
    with pytest.raises(Conflict):
        services.dispute_open(answer=answer, actor=w["agent_user"], comment="again", proposed_answer="yes")
    with pytest.raises(ApplicationError) as exc:
        services.dispute_resolve(dispute=dispute, actor=w["lead"], accept=False, resolution="")
    assert "resolution" in exc.value.extra
    services.dispute_resolve(dispute=dispute, actor=w["lead"], accept=False, resolution="No greeting in the transcript")
    assert QaResult.objects.get(pk=w["result"].pk).score == 0.0
    assert Dispute.objects.get().status == "rejected"


def test_review_needs_rights_and_valid_answers(dispute_world, make_user):
    w = dispute_world
    with pytest.raises(PermissionDenied):
        services.qa_review_submit(result=w["result"], actor=w["other_lead"], answers={"greeting": "yes"})
    with pytest.raises(PermissionDenied):
        services.qa_review_submit(result=w["result"], actor=w["agent_user"], answers={"greeting": "yes"})
    with pytest.raises(ApplicationError) as exc:
        services.qa_review_submit(result=w["result"], actor=w["lead"], answers={"tone": "yes"})
    assert "answers.tone" in exc.value.extra
    with pytest.raises(ApplicationError) as exc:
        services.qa_review_submit(result=w["result"], actor=w["lead"], answers={"nope": "yes"})
    assert "answers.nope" in exc.value.extra
    result = services.qa_review_submit(result=w["result"], actor=w["lead"],
                                       answers={"no_sensitive_data_request": {"answer": "yes", "comment": "misheard"}})
    assert result.reviewed_by == w["lead"] and not result.auto_failed
    event = AuditEvent.objects.get(action="qa.review")
    assert event.data["changes"] == [{"criterion": "no_sensitive_data_request", "from": "no", "to": "yes"}]


def test_assessment_aggregates_and_samples(default_version):
    day = timezone.localdate() - dt.timedelta(days=1)
    start = timezone.make_aware(dt.datetime.combine(day, dt.time(10)))
    a1, a2 = AgentFactory(team="north"), AgentFactory(team="south")
    make_conversation(GOOD_ZH, agent=a1, started_at=start)
    make_conversation(BAD_EN, agent=a1, started_at=start, language="en")
    make_conversation(GOOD_ZH, agent=a2, started_at=start)
    out = qa_assessment_run(date=day)
    assert out["scored"] == 3 and out["agents"] == 2
    row = QaDailyAgent.objects.get(agent=a1, date=day)
    assert row.n == 2 and row.auto_fails == 1 and row.avg_score == 50.0
    assert row.criterion_pass["greeting"] == [1, 2]
    reasons = sorted(Assignment.objects.values_list("reason", flat=True))
    assert reasons.count("auto_fail") == 1 and reasons.count("random") == 3
    again = qa_assessment_run(date=day)
    assert again["scored"] == 0 and again["assignments"] == 0
    assert QaDailyAgent.objects.count() == 2


def test_fleiss_kappa_textbook_example():
    from apps.qa.calibration import fleiss_kappa, percent_agreement

    # Fleiss (1971) style example from Wikipedia: 10 subjects, 14 raters, 5 categories → κ ≈ 0.210.
    table = [
        [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
    ]
    assert round(fleiss_kappa(table), 3) == 0.210
    assert round(percent_agreement(table), 3) == 0.378
    assert fleiss_kappa([[3, 0], [3, 0]]) is None
    assert fleiss_kappa([[2, 0], [0, 2]]) == 1.0


def test_calibration_session_report(default_version, make_user):
    from apps.qa.calibration import calibration_grade_submit, calibration_report, calibration_session_create

    r1, r2, r3 = make_user("r1", "reviewer"), make_user("r2", "reviewer"), make_user("r3", "reviewer")
    c1, c2 = make_conversation(GOOD_ZH), make_conversation(BAD_EN, language="en")
    with pytest.raises(ApplicationError) as exc:
        calibration_session_create(name="w1", version=default_version, conversation_ids=[c1.pk], reviewer_ids=[r1.pk])
    assert "reviewers" in exc.value.extra
    session = calibration_session_create(name="w1", version=default_version, conversation_ids=[c1.pk, c2.pk],
                                         reviewer_ids=[r1.pk, r2.pk, r3.pk])
    for reviewer, g1, g2 in [(r1, "yes", "no"), (r2, "yes", "no"), (r3, "yes", "yes")]:
        calibration_grade_submit(session=session, conversation=c1, reviewer=reviewer, answers={"greeting": g1})
        calibration_grade_submit(session=session, conversation=c2, reviewer=reviewer, answers={"greeting": g2})
    with pytest.raises(ApplicationError):
        calibration_grade_submit(session=session, conversation=c1, reviewer=r1, answers={"greeting": "3"})
    report = {row["criterion"]: row for row in calibration_report(session=session)}
    assert report["greeting"]["conversations"] == 2
    assert report["greeting"]["percent_agreement"] == round(100 * (1 + 1 / 3) / 2, 1)
    assert report["closing"]["conversations"] == 0 and report["closing"]["fleiss_kappa"] is None


def test_qa_score_chunk_replay_counts_once(default_version):
    from apps.jobs.models import JobChunk
    from apps.qa.jobs import qa_score_chunk, qa_score_plan, qa_score_submit

    convs = [make_conversation(GOOD_ZH), make_conversation(BAD_EN, language="en")]
    job, _ = qa_score_submit(params={"conversation_ids": [c.pk for c in convs], "chunk_size": 1})
    pending = qa_score_plan(job_id=job.pk)
    assert [ids for _, ids in pending] == [[convs[0].pk], [convs[1].pk]]
    assert qa_score_chunk(job_id=job.pk, chunk_index=0, conversation_ids=pending[0][1])["counted"]
    assert qa_score_chunk(job_id=job.pk, chunk_index=0, conversation_ids=pending[0][1]) == {"skipped": True}
    qa_score_chunk(job_id=job.pk, chunk_index=1, conversation_ids=pending[1][1])
    job.refresh_from_db()
    assert (job.status, job.done, job.total) == ("succeeded", 2, 2)
    assert QaResult.objects.count() == 2
    assert not JobChunk.objects.filter(job=job, state="pending").exists()


@pytest.mark.parametrize("params, field", [
    ({}, "params"),
    ({"all": True, "version": 999999}, "version"),
    ({"since": "yesterday"}, "since"),
    ({"all": True, "chunk_size": 0}, "chunk_size"),
    ({"all": True, "bogus": 1}, "params"),
])
def test_qa_score_submit_validation(default_version, params, field):
    from apps.qa.jobs import qa_score_submit

    with pytest.raises(ApplicationError) as exc:
        qa_score_submit(params=params)
    assert field in exc.value.extra


def test_learned_criteria_are_refused_with_the_field():
    import copy

    sections = copy.deepcopy(SIMPLE)
    sections[0]["criteria"][0]["answered_by"] = "model"
    with pytest.raises(ApplicationError) as exc:
        services.scorecard_create(name="Learned", sections=sections)
    assert "sections.0.criteria.0.answered_by" in exc.value.extra


def test_compiled_criteria_are_cached_for_published_versions_only(default_version):
    from apps.qa.models import Criterion

    published = {s.key: s.points for s in services.version_specs(default_version)}
    Criterion.objects.filter(section__version=default_version).update(points=7)  # not through the services
    assert {s.key: s.points for s in services.version_specs(default_version)} == published
    draft = services.scorecard_draft_create(scorecard=default_version.scorecard)
    services.version_specs(draft)
    Criterion.objects.filter(section__version=draft).update(points=9)
    assert {s.points for s in services.version_specs(draft)} == {9}
