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
    scoring_jobs.chunk_fail(job_id=job.pk, chunk_index=1, error="boom")
    job.refresh_from_db()
    assert (job.status, job.done, job.failed) == ("succeeded", 60, 60)
    assert "60 of 120" in job.error


def test_job_finished_emits_webhook(production, labelled, monkeypatch, django_capture_on_commit_callbacks):
    events = []
    monkeypatch.setattr(job_services, "webhook_emit", lambda **kw: events.append(kw) or 1)
    with django_capture_on_commit_callbacks(execute=True):
        job, pending = _run_job({"conversations": ["T000-000001"]})
        scoring_jobs.chunk_score(job_id=job.pk, conversation_ids=pending[0][1], chunk_index=0)
    assert [e["event"] for e in events] == ["job.finished"]
    assert events[0]["payload"]["done"] == 1 and events[0]["payload"]["status"] == "succeeded"


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


def _age(job, seconds):
    """Move a job's start and its chunks' finish times ``seconds`` into the past."""
    past = timezone.now() - dt.timedelta(seconds=seconds)
    Job.objects.filter(pk=job.pk).update(created_at=past, started_at=past)
    JobChunk.objects.filter(job=job).exclude(finished_at=None).update(finished_at=past)


def test_stalled_job_is_sent_again_once_per_stall(production, labelled, monkeypatch):
    sent = []
    monkeypatch.setattr(job_services, "job_enqueue", lambda *, job_id: sent.append(job_id))
    job, pending = _run_job({"all": True})
    scoring_jobs.chunk_score(job_id=job.pk, conversation_ids=pending[0][1], chunk_index=pending[0][0])
    assert job_services.stalled_jobs_resume(stalled_after=60) == []  # a chunk just finished
    _age(job, 120)
    assert job_services.stalled_jobs_resume(stalled_after=60) == [job.pk]
    assert sent == [job.pk]
    job.refresh_from_db()
    assert job.steps[-1]["step"] == "resumed" and job.steps[-1]["pending"] == 4
    assert job_services.stalled_jobs_resume(stalled_after=60) == []  # the resume itself is progress
    assert job_services.stalled_jobs_resume(stalled_after=0) == [job.pk]


def test_resume_covers_lost_orchestrators_and_leaves_finished_jobs(production, labelled, monkeypatch):
    sent = []
    monkeypatch.setattr(job_services, "job_enqueue", lambda *, job_id: sent.append(job_id))
    queued, _ = job_services.job_create(kind="score", params={"all": True}, enqueue=False)
    done, pending = _run_job({"all": True}, chunk_size=200)
    scoring_jobs.chunk_score(job_id=done.pk, conversation_ids=pending[0][1], chunk_index=0)
    assess, _ = job_services.job_create(kind="assess", params={}, enqueue=False)
    retrain, _ = job_services.job_create(kind="retrain", params={}, enqueue=False)
    running, _ = job_services.job_create(kind="retrain", params={}, enqueue=False)
    job_services.job_start(job_id=running.pk, task_id="its-message")  # unacknowledged: Redis redelivers it
    imported, _ = job_services.job_create(kind="import", params={}, enqueue=False)
    for job in (queued, done, assess, retrain, running, imported):
        _age(job, 120)
    assert job_services.stalled_jobs_resume(stalled_after=60) == [queued.pk, assess.pk, retrain.pk]
    assert sent == [queued.pk, assess.pk, retrain.pk]
    assert job_services.stalled_jobs_resume(stalled_after=60) == []  # resumed just now


def test_an_assessment_waiting_for_its_scoring_job_is_not_stalled(production, labelled, monkeypatch):
    sent = []
    monkeypatch.setattr(job_services, "job_enqueue", lambda *, job_id: sent.append(job_id))
    assess, _ = job_services.job_create(kind="assess", params={"date": "2024-05-06"}, enqueue=False)
    scoring, _ = job_services.job_create(kind="score", params={"unscored": True, "then_assess_job": assess.pk},
                                         enqueue=False)
    job_services.job_start(job_id=scoring.pk)
    _age(assess, 7200)
    assert job_services.stalled_jobs_resume(stalled_after=60) == []  # its scoring runs
    job_services.job_finish(job_id=scoring.pk, result={})
    assert job_services.stalled_jobs_resume(stalled_after=60) == []  # its finish just sent the assessment
    Job.objects.filter(pk=scoring.pk).update(finished_at=timezone.now() - dt.timedelta(seconds=120))
    assert job_services.stalled_jobs_resume(stalled_after=60) == [assess.pk]  # that message was lost
    assert sent == [assess.pk]


def test_resent_orchestrator_sends_only_pending_chunks(production, labelled):
    job, pending = _run_job({"all": True})
    for index, ids in pending[:3]:
        scoring_jobs.chunk_score(job_id=job.pk, conversation_ids=ids, chunk_index=index)
    assert [i for i, _ in scoring_jobs.score_job_plan(job_id=job.pk)] == [3, 4]
