"""QA results put conversations into the review queue during the nightly assessment."""
import datetime as dt

import pytest
from django.utils import timezone
from django.utils import translation

from apps.dashboard.templatetags.console import reason_label
from apps.qa.assessment import qa_assessment_run
from apps.qa.models import QaResult
from apps.scoring.models import Prediction, ReviewItem
from apps.scoring.services.assessment import conversations_flag

from .conftest import BAD_EN, GOOD_ZH, make_conversation

pytestmark = pytest.mark.django_db

# No greeting, no need restated, no closing: scores below 60 without an auto-fail.
CURT = [
    ("customer", "我想查一下信用卡账单。"),
    ("agent", "自己去手机银行看。"),
]


def _day_start(day):
    return timezone.make_aware(dt.datetime.combine(day, dt.time(10)), timezone.get_current_timezone())


def test_auto_fail_and_low_score_are_flagged_once_with_reasons(default_version, settings):
    settings.QA_REVIEW_BELOW = 60
    day = timezone.localdate() - dt.timedelta(days=1)
    start = _day_start(day)
    failed = make_conversation(BAD_EN, started_at=start, language="en")
    curt = make_conversation(CURT, started_at=start)
    good = make_conversation(GOOD_ZH, started_at=start)
    ReviewItem.objects.create(conversation=curt, reasons=["manual"])

    out = qa_assessment_run(date=day)

    scores = dict(QaResult.objects.values_list("conversation_id", "score"))
    assert scores[curt.pk] < 60 and scores[good.pk] >= 60
    assert out["review_flagged"] == 1 and out["review_extended"] == 1
    assert ReviewItem.objects.get(conversation=failed).reasons == ["qa_auto_fail"]
    assert ReviewItem.objects.get(conversation=curt).reasons == ["manual", "qa_low_score"]
    assert not ReviewItem.objects.filter(conversation=good).exists()

    again = qa_assessment_run(date=day)
    assert again["review_flagged"] == 0 and again["review_extended"] == 0
    assert ReviewItem.objects.count() == 2
    assert ReviewItem.objects.get(conversation=curt).reasons == ["manual", "qa_low_score"]


def test_threshold_setting_decides_low_score(default_version, settings):
    settings.QA_REVIEW_BELOW = 0
    day = timezone.localdate() - dt.timedelta(days=1)
    make_conversation(CURT, started_at=_day_start(day))
    assert qa_assessment_run(date=day)["review_flagged"] == 0
    assert not ReviewItem.objects.exists()


def test_model_flags_add_their_reasons_to_a_qa_flagged_item(default_version):
    day = timezone.localdate() - dt.timedelta(days=1)
    conv = make_conversation(BAD_EN, started_at=_day_start(day), language="en")
    prediction = Prediction.objects.create(conversation=conv, version_key="t", sentiment="negative",
                                           scored_at=timezone.now())
    conv.prediction, conv.predicted_sentiment = prediction, "negative"
    conv.save(update_fields=["prediction", "predicted_sentiment"])

    qa_assessment_run(date=day)  # the QA receiver runs first inside the aggregation
    assert conversations_flag(date=day) == []  # already queued: not flagged anew
    assert ReviewItem.objects.get(conversation=conv).reasons == ["qa_auto_fail", "negative_sentiment"]


def test_qa_reasons_are_translated():
    with translation.override("en"):
        assert reason_label("qa_auto_fail") == "QA auto-fail"
        assert reason_label("qa_low_score") == "low QA score"
    with translation.override("zh-hans"):
        assert reason_label("qa_auto_fail") == "质检一票否决"
        assert reason_label("qa_low_score") == "质检得分低"
