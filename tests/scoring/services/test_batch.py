import datetime as dt

import pytest
from django.db.models import Count
from django.utils import timezone

from apps.conversations.models import Conversation
from apps.jobs import services as job_services
from apps.jobs.models import Job, JobChunk
from apps.scoring.services import batch as scoring_jobs
from apps.scoring import services
from apps.scoring.models import Prediction

pytestmark = pytest.mark.django_db


def test_predict_texts_answers_every_field(production, settings):
    out = services.predict_texts(texts=["what is my account balance", "this service is terrible, i am angry"])
    assert len(out) == 2
    first = out[0]
    assert first["intent"] == "balance_inquiry"
    assert 0 <= first["intent_confidence"] <= 1
    assert len(first["intent_top"]) == 3 and first["intent_top"][0]["label"] == first["intent"]
    assert set(first["sentiment_scores"]) == {"negative", "neutral", "positive"}
    assert 1 <= first["quality_score"] <= 5
    assert set(first["model_versions"]) == {"intent", "sentiment", "quality"}
    assert first["version_key"] == "intent:1|sentiment:1|quality:1"
    assert out[1]["sentiment"] == "negative"


def test_uncertain_when_below_threshold_or_gap(production, settings):
    settings.CONFIDENCE_THRESHOLD = 1.01
    assert services.predict_texts(texts=["balance"])[0]["uncertain"] is True
    settings.CONFIDENCE_THRESHOLD = 0.0
    settings.CONFIDENCE_MIN_GAP = 1.01
    assert services.predict_texts(texts=["balance"])[0]["uncertain"] is True
    settings.CONFIDENCE_MIN_GAP = 0.0
    result = services.predict_texts(texts=["balance"])[0]
    assert result["uncertain"] is False and "uncertain" not in result["flags"]


def _run_job(params, chunk_size=25):
    job, _ = job_services.job_create(kind="score", params={**params, "chunk_size": chunk_size}, enqueue=False)
    pending = scoring_jobs.score_job_plan(job_id=job.pk)
    return job, pending


def test_scoring_job_predicts_each_conversation_once(production, labelled):
    job, pending = _run_job({"all": True})
    assert len(pending) == 5  # 120 / 25
    for index, ids in pending:
        scoring_jobs.chunk_score(job_id=job.pk, conversation_ids=ids, chunk_index=index)
    job.refresh_from_db()
    assert (job.status, job.total, job.done, job.failed) == ("succeeded", 120, 120, 0)
    assert Prediction.objects.filter(job=job).count() == 120
    conv = Conversation.objects.get(pk=labelled[0])
    assert conv.prediction.job_id == job.pk and conv.predicted_intent == conv.prediction.intent
    assert conv.predicted_quality is not None


def test_replayed_chunk_counts_once_and_duplicates_nothing(production, labelled):
    job, pending = _run_job({"all": True})
    index, ids = pending[0]
    scoring_jobs.chunk_score(job_id=job.pk, conversation_ids=ids, chunk_index=index)
    again = scoring_jobs.chunk_score(job_id=job.pk, conversation_ids=ids, chunk_index=index)  # redelivery
    assert again == {"skipped": True}  # a finished chunk is not predicted again
    job.refresh_from_db()
    assert job.done == len(ids)
    dupes = Prediction.objects.values("conversation", "version_key").annotate(n=Count("id")).filter(n__gt=1)
    assert not dupes.exists()
    # A replayed orchestrator re-sends the same plan, not a new split.
    assert [i for i, _ in scoring_jobs.score_job_plan(job_id=job.pk)] == [1, 2, 3, 4]


def test_job_targets_agent_and_external_ids(production, labelled):
    conv = Conversation.objects.select_related("agent").get(pk=labelled[0])
    job, _ = _run_job({"agent": conv.agent.external_id})
    job.refresh_from_db()
    assert job.total == 60
    job2, _ = _run_job({"conversations": [conv.external_id]})
    job2.refresh_from_db()
    assert job2.total == 1


def test_unscored_skips_what_production_scored(production, labelled):
    job, pending = _run_job({"all": True})
    for index, ids in pending:
        scoring_jobs.chunk_score(job_id=job.pk, conversation_ids=ids, chunk_index=index)
    job2, pending2 = _run_job({"unscored": True})
    job2.refresh_from_db()
    assert pending2 == [] and job2.status == "succeeded" and job2.total == 0


def test_cancelled_job_skips_its_chunks(production, labelled):
    job, pending = _run_job({"all": True})
    job_services.job_cancel(job_id=job.pk)
    scoring_jobs.chunk_score(job_id=job.pk, conversation_ids=pending[0][1], chunk_index=pending[0][0])
    assert not Prediction.objects.exists()
    assert JobChunk.objects.filter(job=job, state="skipped").count() == 1


def test_failed_chunk_is_counted_and_job_finishes(production, labelled):
    job, pending = _run_job({"all": True}, chunk_size=60)
    scoring_jobs.chunk_score(job_id=job.pk, conversation_ids=pending[0][1], chunk_index=0)
    job_services.chunk_fail(job_id=job.pk, chunk_index=1, error="boom")
    job.refresh_from_db()
    assert (job.status, job.done, job.failed) == ("succeeded", 60, 60)
    assert "60 of 120" in job.error


def test_job_finished_is_delivered_to_webhook_subscribers(production, labelled, django_capture_on_commit_callbacks):
    from apps.webhooks.models import WebhookDelivery, WebhookSubscription

    WebhookSubscription.objects.create(name="crm", url="https://crm.example.com/hook", secret="s" * 32,
                                       events=["job.finished"], active=True)
    with django_capture_on_commit_callbacks(execute=True):
        job, pending = _run_job({"conversations": ["T000-000001"]})
        scoring_jobs.chunk_score(job_id=job.pk, conversation_ids=pending[0][1], chunk_index=0)
    delivery = WebhookDelivery.objects.get()
    assert delivery.event == "job.finished"
    assert delivery.payload["job_id"] == job.pk and delivery.payload["done"] == 1
    assert delivery.payload["status"] == "succeeded"


def test_a_chunk_that_keeps_killing_its_worker_is_failed(production, labelled, settings):
    """Each start without an outcome counts; past JOB_CHUNK_MAX_ATTEMPTS the chunk fails instead of running."""
    settings.JOB_CHUNK_MAX_ATTEMPTS = 2
    job, pending = _run_job({"all": True}, chunk_size=60)
    scoring_jobs.chunk_score(job_id=job.pk, conversation_ids=pending[0][1], chunk_index=0)
    for _ in range(2):  # two deliveries whose worker died mid-chunk
        assert job_services.chunk_begin(job_id=job.pk, chunk_index=1)
    out = scoring_jobs.chunk_score(job_id=job.pk, conversation_ids=pending[1][1], chunk_index=1)
    assert out == {"skipped": True}
    chunk = JobChunk.objects.get(job=job, index=1)
    assert chunk.state == "failed" and "attempts" in chunk.error and chunk.attempts == 3
    job.refresh_from_db()
    assert (job.status, job.done, job.failed) == ("succeeded", 60, 60)
    assert Prediction.objects.count() == 60


def test_transient_retries_are_not_held_against_a_chunk(production, labelled, settings):
    settings.JOB_CHUNK_MAX_ATTEMPTS = 1
    job, pending = _run_job({"all": True}, chunk_size=120)
    assert job_services.chunk_begin(job_id=job.pk, chunk_index=0, retries=0)
    # the database failed mid-chunk; Celery retries the task (retries=1): not a poison chunk
    out = scoring_jobs.chunk_score(job_id=job.pk, conversation_ids=pending[0][1], chunk_index=0, retries=1)
    assert out["counted"] and Job.objects.get(pk=job.pk).status == "succeeded"


def test_after_a_promotion_a_job_no_longer_moves_the_conversations_prediction(production, labelled):
    """The job keeps the versions it started with; the denormalised prediction follows production."""
    from apps.registry import services as registry_services

    job, pending = _run_job({"all": True}, chunk_size=60)
    scoring_jobs.chunk_score(job_id=job.pk, conversation_ids=pending[0][1], chunk_index=0)
    old = registry_services.model_version_register(task="intent", backend="linear",
                                                   estimator_dir=production["intent"].artifact_path)
    registry_services.model_version_promote(version=old)
    scoring_jobs.chunk_score(job_id=job.pk, conversation_ids=pending[1][1], chunk_index=1)
    assert Prediction.objects.filter(job=job).count() == 120  # the job's results are complete
    first, second = pending[0][1][0], pending[1][1][0]
    assert Conversation.objects.get(pk=first).prediction_id is not None  # scored while current
    assert Conversation.objects.get(pk=second).prediction_id is None  # not pointed at a retired version


def test_changed_conversation_content_drops_its_predictions(production, labelled):
    from apps.conversations.services import conversations_upsert

    job, pending = _run_job({"conversations": ["T000-000002"]})
    scoring_jobs.chunk_score(job_id=job.pk, conversation_ids=pending[0][1], chunk_index=0)
    conv = Conversation.objects.get(external_id="T000-000002")
    assert Prediction.objects.filter(conversation=conv).exists()
    conversations_upsert(items=[{"external_id": "T000-000002", "customer": conv.customer.external_id,
                                 "started_at": conv.started_at, "messages": [
                                     {"speaker": "customer", "text": "a new text entirely"}]}])
    assert not Prediction.objects.filter(conversation=conv).exists()


def test_submit_requires_a_target(production):
    from apps.core.exceptions import ApplicationError

    with pytest.raises(ApplicationError, match="Say what to score"):
        scoring_jobs.score_job_submit(params={})


def test_a_caller_cannot_chain_an_assessment_to_a_scoring_job(production):
    """Only the nightly assessment links a scoring job to itself; through the service it is refused."""
    from apps.core.exceptions import ApplicationError

    assess, _ = job_services.job_create(kind="assess", params={}, enqueue=False)
    with pytest.raises(ApplicationError, match="Unknown parameters: then_assess_job"):
        scoring_jobs.score_job_submit(params={"all": True, "then_assess_job": assess.pk})
    assert not Job.objects.filter(kind="score").exists()


def test_corrupted_production_artifact_fails_the_job(production, labelled):
    from apps.registry import loader
    from apps.registry.models import ModelVersion

    loader.reset()
    mv = ModelVersion.objects.get(task="intent", status="production")
    with open(f"{mv.artifact_path}/pipeline.skops", "ab") as handle:
        handle.write(b"x")
    job, _ = job_services.job_create(kind="score", params={"all": True}, enqueue=False)
    with pytest.raises(loader.ModelsUnavailable, match="refused"):
        scoring_jobs.score_job_plan(job_id=job.pk)
    assert not Prediction.objects.exists()
    assert Job.objects.get(pk=job.pk).status == "queued"


def test_upserted_rows_read_back_as_written(production, labelled):
    job, pending = _run_job({"conversations": ["T000-000003"]})
    scoring_jobs.chunk_score(job_id=job.pk, conversation_ids=pending[0][1], chunk_index=0)
    p = Prediction.objects.get()
    assert isinstance(p.intent_top, list) and p.intent_top[0]["label"] == p.intent
    assert isinstance(p.sentiment_scores, dict) and set(p.sentiment_scores) == {"negative", "neutral", "positive"}
    assert isinstance(p.flags, list) and p.job_id == job.pk and p.intent_version_id == production["intent"].pk
    assert p.conversation.prediction_id == p.pk


def test_resent_orchestrator_sends_only_pending_chunks(production, labelled):
    job, pending = _run_job({"all": True})
    for index, ids in pending[:3]:
        scoring_jobs.chunk_score(job_id=job.pk, conversation_ids=ids, chunk_index=index)
    assert [i for i, _ in scoring_jobs.score_job_plan(job_id=job.pk)] == [3, 4]
