import datetime as dt
import json

import pytest
from django.utils import timezone

from apps.jobs import services as job_services
from apps.jobs.models import Job
from apps.scoring.services import assessment
from apps.scoring.services import batch as scoring_jobs
from apps.scoring.models import AgentDailyQuality, AssessmentRun, ReviewItem
from tests.factories import AgentFactory
from tests.scoring.data import make_conversations

pytestmark = pytest.mark.django_db
DAY = dt.date(2024, 5, 6)


def _score_all():
    job, _ = job_services.job_create(kind="score", params={"all": True}, enqueue=False)
    for index, ids in scoring_jobs.score_job_plan(job_id=job.pk):
        scoring_jobs.chunk_score(job_id=job.pk, conversation_ids=ids, chunk_index=index)


def test_start_is_guarded_per_date(production):
    first = assessment.assessment_start(date=DAY)
    assert first is not None and first.kind == "assess"
    assert assessment.assessment_start(date=DAY) is None
    assert AssessmentRun.objects.count() == 1
    assert Job.objects.filter(kind="score", params__then_assess_job=first.pk).count() == 1


def test_aggregate_flags_and_reviewed_labels_win(production):
    agents = [AgentFactory(), AgentFactory()]
    ids = make_conversations(40, seed=5, day=DAY, agents=agents, prefix="D")
    make_conversations(8, seed=6, day=DAY + dt.timedelta(days=1), agents=agents, prefix="E")  # other day
    _score_all()
    job, _ = job_services.job_create(kind="assess", params={"date": DAY.isoformat()}, enqueue=False)
    result = assessment.assessment_aggregate(job_id=job.pk)
    assert result == {"date": "2024-05-06", "agents": 2, "flagged": 10}  # 10 complaints are negative
    rows = {r.agent_id: r for r in AgentDailyQuality.objects.filter(date=DAY)}
    assert sum(r.volume for r in rows.values()) == 40
    assert sum(r.flagged_count for r in rows.values()) == 10
    assert abs(sum(r.negative_share * r.volume for r in rows.values()) - 10) < 1e-6
    # A manager's review overrides the prediction in the next aggregation.
    item = ReviewItem.objects.filter(conversation__agent=agents[1]).first()
    item.status, item.quality, item.sentiment, item.reviewed_at = "reviewed", 5.0, "positive", timezone.now()
    item.save()
    before = rows[agents[1].pk]
    assessment.agent_daily_aggregate(date=DAY)
    after = AgentDailyQuality.objects.get(agent=agents[1], date=DAY)
    assert after.negative_share < before.negative_share and after.mean_quality > before.mean_quality
    assert after.resolution_rate is not None and 0 <= after.resolution_rate <= 1


def test_aggregate_runs_once_per_claim_and_never_when_cancelled(production):
    make_conversations(10, seed=5, day=DAY, agents=[AgentFactory()], prefix="C")
    _score_all()
    job, _ = job_services.job_create(kind="assess", params={"date": DAY.isoformat()}, enqueue=False)
    job_services.job_start(job_id=job.pk, task_id="first")  # another worker runs it now
    assert assessment.assessment_aggregate(job_id=job.pk, task_id="copy") == {}
    assert not AgentDailyQuality.objects.exists()
    assert assessment.assessment_aggregate(job_id=job.pk, task_id="first")["agents"] == 1  # its redelivery
    cancelled, _ = job_services.job_create(kind="assess", params={"date": DAY.isoformat()}, enqueue=False)
    job_services.job_cancel(job_id=cancelled.pk)
    AgentDailyQuality.objects.all().delete()
    assert assessment.assessment_aggregate(job_id=cancelled.pk, task_id="x") == {}
    assert not AgentDailyQuality.objects.exists()


def test_flagging_twice_creates_no_duplicates(production, settings):
    settings.CONFIDENCE_THRESHOLD = 1.01  # everything uncertain
    make_conversations(12, seed=8, day=DAY, prefix="F")
    _score_all()
    assert len(assessment.conversations_flag(date=DAY)) == 12
    assert assessment.conversations_flag(date=DAY) == []
    assert all("low_confidence" in r for r in ReviewItem.objects.values_list("reasons", flat=True))


def test_flagged_events_are_batched(production, monkeypatch):
    from apps.webhooks.models import WebhookDelivery, WebhookSubscription

    WebhookSubscription.objects.create(name="crm", url="https://crm.example.com/hook", secret="s" * 32,
                                       events=["conversation.flagged"], active=True)
    monkeypatch.setattr(assessment, "FLAG_EVENT_BATCH", 4)
    make_conversations(40, seed=9, day=DAY, prefix="G")
    _score_all()
    job, _ = job_services.job_create(kind="assess", params={"date": DAY.isoformat()}, enqueue=False)
    result = assessment.assessment_aggregate(job_id=job.pk)
    flagged = list(WebhookDelivery.objects.filter(event="conversation.flagged"))
    assert result["flagged"] == 10
    assert len(flagged) == 3 and sum(len(d.payload["conversations"]) for d in flagged) == 10


def test_default_schedule_exists_and_setup_is_idempotent(settings):
    from django_celery_beat.models import PeriodicTask

    from apps.jobs.services import schedules_setup

    task = PeriodicTask.objects.get(task="scoring.nightly_assessment")
    assert (task.crontab.hour, task.crontab.minute, str(task.crontab.timezone)) == ("2", "0", settings.TIME_ZONE)
    assert schedules_setup() == []
    task.delete()
    settings.TIME_ZONE = "Europe/Berlin"
    assert schedules_setup() == ["nightly quality assessment"]
    assert str(PeriodicTask.objects.get(task="scoring.nightly_assessment").crontab.timezone) == "Europe/Berlin"
    reply = PeriodicTask.objects.filter(task="scoring.rebuild_reply_index").order_by("name")
    assert [(t.crontab.day_of_week, json.loads(t.kwargs)) for t in reply] == [("0", {"full": True}), ("*", {"full": False})]
    watchdog = PeriodicTask.objects.get(task="jobs.watchdog")
    assert (watchdog.interval.every, watchdog.interval.period, watchdog.queue) == (
        settings.JOB_WATCHDOG_SECONDS, "seconds", "default")
    assert not PeriodicTask.objects.filter(task="scoring.resume_stalled_jobs").exists()
