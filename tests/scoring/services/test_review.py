"""Review services: verdicts, queue order, and model-vs-reviewer agreement."""
import datetime as dt

import pytest
from django.utils import timezone

from apps.core.exceptions import ApplicationError
from apps.core.models import AuditEvent
from apps.registry.models import ModelVersion
from apps.scoring.services import review
from apps.scoring.models import Prediction, ReviewItem
from tests.factories import ConversationFactory

pytestmark = pytest.mark.django_db


def _version(task, n, status="production"):
    return ModelVersion.objects.create(task=task, backend="linear", version=n, artifact_path=f"{task}/v{n}",
                                       sha256="0" * 64, status=status if n == 1 else "candidate")


def _scored(intent="余额查询", sentiment="negative", quality=2.0, versions=None):
    conv = ConversationFactory(predicted_intent=intent, predicted_sentiment=sentiment, predicted_quality=quality)
    versions = versions or {}
    pred = Prediction.objects.create(
        conversation=conv, version_key=f"k{conv.pk}", intent=intent, sentiment=sentiment, quality_score=quality,
        intent_version=versions.get("intent"), sentiment_version=versions.get("sentiment"),
        quality_version=versions.get("quality"), scored_at=timezone.now(),
    )
    conv.prediction = pred
    conv.save(update_fields=["prediction"])
    return conv


def test_submit_stores_verdict_reviewer_time_and_audit(staff_user):
    conv = _scored()
    item = ReviewItem.objects.create(conversation=conv, reasons=["negative_sentiment"])
    before = timezone.now()
    item = review.review_submit(item=item, intent="投诉建议", sentiment="neutral", quality="3.5", reviewer=staff_user)
    item.refresh_from_db()
    assert item.status == ReviewItem.Status.REVIEWED
    assert (item.intent, item.sentiment, item.quality) == ("投诉建议", "neutral", 3.5)
    assert item.reviewer == staff_user
    assert item.reviewed_at >= before
    assert item.prediction_id == conv.prediction_id  # frozen: what the reviewer judged
    event = AuditEvent.objects.get(action="review.submit")
    assert event.actor == staff_user and event.target_id == str(item.pk)
    assert sorted(event.data["corrected"]) == ["intent", "quality", "sentiment"]


@pytest.mark.parametrize("bad", [
    {"intent": "", "sentiment": "neutral", "quality": 3},
    {"intent": "x", "sentiment": "angry", "quality": 3},
    {"intent": "x", "sentiment": "neutral", "quality": 6},
    {"intent": "x", "sentiment": "neutral", "quality": "abc"},
])
def test_submit_rejects_invalid_verdicts(staff_user, bad):
    item = ReviewItem.objects.create(conversation=_scored())
    with pytest.raises(ApplicationError):
        review.review_submit(item=item, reviewer=staff_user, **bad)
    item.refresh_from_db()
    assert item.status == ReviewItem.Status.PENDING


def test_pick_adds_any_conversation_and_requeues_reviewed(staff_user):
    conv = _scored()
    item = review.review_pick(conversation=conv, user=staff_user)
    assert item.status == "pending" and item.reasons == ["manual"] and item.prediction_id == conv.prediction_id
    review.review_submit(item=item, intent="a", sentiment="neutral", quality=3, reviewer=staff_user)
    again = review.review_pick(conversation=conv, user=staff_user, reason="second look")
    assert again.pk == item.pk
    assert again.status == "pending"
    assert again.reasons == ["manual", "second look"]
    assert AuditEvent.objects.filter(action="review.pick").count() == 2


def test_next_walks_the_queue_and_wraps(staff_user):
    items = [ReviewItem.objects.create(conversation=_scored()) for _ in range(3)]
    assert review.review_next(user=staff_user) == items[0]
    assert review.review_next(user=staff_user, after_id=items[0].pk) == items[1]
    assert review.review_next(user=staff_user, after_id=items[2].pk) == items[0]  # wraps
    review.review_submit(item=items[1], intent="a", sentiment="neutral", quality=3, reviewer=staff_user)
    assert review.review_next(user=staff_user, after_id=items[0].pk) == items[2]
    review.review_skip(item=items[0], user=staff_user)
    review.review_skip(item=items[2], user=staff_user)
    assert review.review_next(user=staff_user) is None


def test_agreement_kappa_on_a_known_table(staff_user):
    # model -> reviewer: 4 of 6 agree; model marginals 2/2/2, reviewer 3/2/1
    # p_o = 4/6, p_e = (2*3 + 2*2 + 2*1) / 36 = 1/3, kappa = (2/3 - 1/3) / (2/3) = 0.5
    v1 = {"sentiment": _version("sentiment", 1), "intent": _version("intent", 1), "quality": _version("quality", 1)}
    table = [("negative", "negative"), ("negative", "negative"), ("neutral", "neutral"),
             ("positive", "positive"), ("positive", "neutral"), ("neutral", "negative")]
    quality = [(2.0, 2.5), (4.0, 4.0), (3.0, 1.0), (5.0, 5.0), (1.5, 1.5), (2.0, 3.0)]  # MAD = (0.5 + 0 + 2 + 0 + 0 + 1) / 6
    for (model_s, human_s), (model_q, human_q) in zip(table, quality):
        conv = _scored(intent="余额查询", sentiment=model_s, quality=model_q, versions=v1)
        item = ReviewItem.objects.create(conversation=conv)
        review.review_submit(item=item, intent="余额查询", sentiment=human_s, quality=human_q, reviewer=staff_user)
    stats = review.agreement_stats()
    s = stats["sentiment"]["overall"]
    assert s["n"] == 6
    assert s["accuracy"] == pytest.approx(4 / 6, abs=1e-4)
    assert s["kappa"] == pytest.approx(0.5, abs=1e-4)
    assert stats["sentiment"]["by_version"][0]["version"] == 1
    assert stats["quality"]["overall"]["mad"] == pytest.approx(3.5 / 6, abs=1e-4)
    # All intents identical on both sides: accuracy 1, kappa undefined (not a fake number).
    assert stats["intent"]["overall"]["accuracy"] == 1.0
    assert stats["intent"]["overall"]["kappa"] is None


def test_agreement_per_model_version_and_since(staff_user):
    v1 = _version("sentiment", 1)
    v2 = _version("sentiment", 2)
    for version, human in [(v1, "positive"), (v1, "negative"), (v2, "negative"), (v2, "negative")]:
        conv = _scored(sentiment="negative", versions={"sentiment": version})
        item = ReviewItem.objects.create(conversation=conv)
        review.review_submit(item=item, intent="x", sentiment=human, quality=3, reviewer=staff_user)
    by_version = {r["version"]: r for r in review.agreement_stats()["sentiment"]["by_version"]}
    assert by_version[1]["accuracy"] == 0.5 and by_version[1]["n"] == 2
    assert by_version[2]["accuracy"] == 1.0
    future = timezone.now() + dt.timedelta(days=1)
    assert review.agreement_stats(since=future)["sentiment"]["overall"]["n"] == 0
