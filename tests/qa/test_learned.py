"""Learned criteria: trained from reviewers' answers through the registry, gated, then answering."""
import random
from pathlib import Path

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from apps.core.exceptions import ApplicationError
from apps.core.services import api_key_create
from apps.qa import services
from apps.qa.learned import criterion_model_train, reviewer_answers
from apps.qa.models import Criterion, CriterionAnswer, QaResult
from apps.registry import loader
from apps.registry.models import ModelVersion

from .conftest import make_conversation

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

POLITE = {
    "zh": ["您好，很高兴为您服务。", "请您稍等，我马上为您查询。", "感谢您的耐心等待。", "非常抱歉给您带来不便。",
           "麻烦您提供一下卡号后四位，谢谢。", "祝您生活愉快，再见！"],
    "en": ["Hello, thank you for contacting us.", "Could you please wait a moment while I check?",
           "Thank you for your patience.", "I'm sorry for the trouble.", "Would you kindly confirm the last four digits?",
           "Have a lovely day, goodbye!"],
}
RUDE = {
    "zh": ["说重点。", "等着。", "这个我早就说过了。", "你自己去网点问。", "快点报卡号。", "没别的事就挂了。"],
    "en": ["Get to the point.", "Wait.", "I already told you that.", "Go ask at a branch yourself.",
           "Card number, now.", "If that's all, I'm hanging up."],
}
NEUTRAL = {
    "zh": ["这笔交易是昨天发生的。", "账单日是每月五号。", "额度调整需要三个工作日。", "手机银行可以查到明细。"],
    "en": ["The transaction happened yesterday.", "Your statement date is the fifth.",
           "A limit change takes three working days.", "The app shows the details."],
}
CUSTOMER = {"zh": ["我想问一下信用卡账单。", "为什么扣了我的钱？", "好的。"],
            "en": ["I have a question about my card bill.", "Why was I charged?", "OK."]}

CARD = [{"title_zh": "服务", "title_en": "Service", "criteria": [
    {"key": "greeting", "question_zh": "问候？", "question_en": "Greeting?", "points": 10,
     "rule": {"expression": "1", "conditions": {
         "1": {"operator": "keywords", "words": ["您好", "hello"], "speaker": "agent", "first": 2}}}},
    {"key": "courteous", "question_zh": "用语礼貌？", "question_en": "Courteous wording?", "points": 10,
     "answered_by": "reviewer"},
]}]


def generated(rng, polite: bool):
    language = rng.choice(["zh", "en"])
    pool = POLITE if polite else RUDE
    turns = []
    for i in range(rng.randint(2, 4)):
        turns.append(("customer", rng.choice(CUSTOMER[language])))
        agent = rng.sample(pool[language], 2) if i == 0 else [rng.choice(pool[language] + NEUTRAL[language])]
        turns += [("agent", text) for text in agent]
    return make_conversation(turns, language=language), language


@pytest.fixture
def reviewed(make_user):
    """A published scorecard whose ``courteous`` criterion reviewers answered on 240 generated conversations."""
    scorecard = services.scorecard_create(name="Learned card", sections=CARD)
    version = services.scorecard_version_publish(version=scorecard.versions.get())
    reviewer = make_user("rev", "reviewer")
    rng = random.Random(7)
    convs = [generated(rng, polite=i % 2 == 0)[0] for i in range(240)]
    results = {r.conversation_id: r for r in services.qa_results_upsert(conversation_ids=[c.pk for c in convs])}
    for i, conv in enumerate(convs):
        services.qa_review_submit(result=results[conv.pk], actor=reviewer,
                                  answers={"courteous": {"answer": "yes" if i % 2 == 0 else "no"}})
    loader.reset()
    yield {"scorecard": scorecard, "version": version, "reviewer": reviewer, "rng": rng}
    loader.reset()


def _switch_to_model(scorecard):
    draft = services.scorecard_draft_create(scorecard=scorecard)
    sections = services.version_content(draft)
    sections[0]["criteria"][1]["answered_by"] = "model"
    return draft, sections


def test_switch_refused_until_trained_then_model_answers_with_confidence(reviewed, settings):
    criterion = Criterion.objects.get(key="courteous", section__version=reviewed["version"])
    assert len(reviewer_answers(key="courteous").labels) == 240

    admin = APIClient()
    _, key = api_key_create(name="adm", scopes=["read", "write", "admin"])
    admin.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    draft, sections = _switch_to_model(reviewed["scorecard"])
    refused = admin.patch(f"/api/v1/qa/versions/{draft.pk}/", {"sections": sections}, format="json")
    assert refused.status_code == 400
    assert "sections.0.criteria.1.answered_by" in str(refused.json())

    settings.QA_LEARNED_MIN_ANSWERS = 241
    with pytest.raises(ApplicationError) as exc:
        criterion_model_train(criterion_id=criterion.pk)
    assert "criterion" in exc.value.extra
    assert not ModelVersion.objects.filter(task="qa:courteous").exists()

    settings.QA_LEARNED_MIN_ANSWERS = 200
    out = criterion_model_train(criterion_id=criterion.pk)
    assert out["decision"] == "promoted" and out["n_answers"] == 240
    assert out["candidate"]["agreement"] >= 0.9 and out["candidate"]["kappa"] >= 0.8
    mv = ModelVersion.objects.get(task="qa:courteous")
    assert mv.status == "production" and mv.metrics["agreement"] == out["candidate"]["agreement"]
    assert mv.comparison["heldout"]["n"] == out["candidate"]["n"] > 0

    accepted = admin.patch(f"/api/v1/qa/versions/{draft.pk}/", {"sections": sections}, format="json")
    assert accepted.status_code == 200, accepted.json()
    new_version = services.scorecard_version_publish(version=draft)

    rng = random.Random(99)
    polite, _ = generated(rng, polite=True)
    rude, _ = generated(rng, polite=False)
    services.qa_results_upsert(conversation_ids=[polite.pk, rude.pk], version=new_version)
    got = {
        a.result.conversation_id: a
        for a in CriterionAnswer.objects.filter(criterion__key="courteous", result__scorecard_version=new_version)
        .select_related("result")
    }
    assert got[polite.pk].answer == "yes" and got[rude.pk].answer == "no"
    for answer in got.values():
        assert answer.source == "auto"
        (evidence,) = answer.evidence
        assert evidence["model"] == "qa:courteous" and evidence["version"] == mv.version
        assert 0.5 <= evidence["confidence"] <= 1.0
    score = QaResult.objects.get(conversation=rude, scorecard_version=new_version).score
    assert score < 100  # the model's "no" counts in the score

    # The model's own answers never feed back into its training data.
    assert len(reviewer_answers(key="courteous").labels) == 240


def test_promotion_gate_rejects_a_model_no_better_than_production(reviewed):
    criterion = Criterion.objects.get(key="courteous", section__version=reviewed["version"])
    first = criterion_model_train(criterion_id=criterion.pk)
    again = criterion_model_train(criterion_id=criterion.pk)  # same answers: no gain over production
    assert first["decision"] == "promoted" and again["decision"] == "rejected"
    assert again["production"]["kappa"] == again["candidate"]["kappa"]
    statuses = dict(ModelVersion.objects.filter(task="qa:courteous").values_list("version", "status"))
    assert statuses == {first["version"]: "production", again["version"]: "rejected"}


def test_management_command_trains_by_key(reviewed, capsys):
    call_command("train_criterion_model", "courteous")
    assert '"decision": "promoted"' in capsys.readouterr().out
    assert ModelVersion.objects.filter(task="qa:courteous", status="production").count() == 1


def test_admin_shows_agreement_and_console_shows_confidence(reviewed, client, admin_user):
    criterion = Criterion.objects.get(key="courteous", section__version=reviewed["version"])
    client.force_login(admin_user)
    page = client.get(f"/admin/qa/section/{criterion.section_id}/change/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "240 reviewer answers (training needs 200)." in page and "No model trained yet" in page

    out = criterion_model_train(criterion_id=criterion.pk)
    agreement = f"{100 * out['candidate']['agreement']:.1f}%"
    page = client.get(f"/admin/qa/section/{criterion.section_id}/change/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"Model v{out['version']} (in production): agrees with reviewers on {agreement} of " \
           f"{out['candidate']['n']} held-out answers" in page
    page = client.get(f"/admin/qa/section/{criterion.section_id}/change/",
                      HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert f"与质检员一致 {agreement}" in page

    draft, sections = _switch_to_model(reviewed["scorecard"])
    services.scorecard_version_update(version=draft, sections=sections)
    version = services.scorecard_version_publish(version=draft)
    conv, _ = generated(random.Random(5), polite=True)
    (result,) = services.qa_results_upsert(conversation_ids=[conv.pk], version=version)
    client.force_login(reviewed["reviewer"])
    page = client.get(f"/dashboard/qa/results/{result.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"learned model v{out['version']}, confidence" in page


def test_tampered_artifact_leaves_the_criterion_unanswered_and_is_replaced(reviewed):
    criterion = Criterion.objects.get(key="courteous", section__version=reviewed["version"])
    first = criterion_model_train(criterion_id=criterion.pk)
    draft, sections = _switch_to_model(reviewed["scorecard"])
    services.scorecard_version_update(version=draft, sections=sections)
    version = services.scorecard_version_publish(version=draft)
    mv = ModelVersion.objects.get(pk=first["model_version_id"])
    model_file = next(p for p in Path(mv.artifact_path).rglob("*") if p.is_file() and p.name != "manifest.json")
    model_file.write_bytes(model_file.read_bytes() + b"tampered")
    loader.reset()

    conv, _ = generated(random.Random(3), polite=False)
    (result,) = services.qa_results_upsert(conversation_ids=[conv.pk], version=version)
    answers = {a.criterion.key: a for a in result.answers.select_related("criterion")}
    assert answers["courteous"].answer == "" and answers["courteous"].evidence == []
    assert answers["greeting"].answer == "no"  # the rules still answer

    again = criterion_model_train(criterion_id=criterion.pk)  # same data, but production is refused
    assert again["decision"] == "promoted" and "refused" in again["reason"]
