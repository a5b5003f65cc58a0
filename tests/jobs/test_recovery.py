"""Recovering from queue faults: the watchdog, resume (service, API, admin, command), the outbox.

Dispatch is real: messages go to the test broker, and what the broker took is read back
from ``Job.dispatched_at`` / ``JobChunk.sent_at``. The queue tests in ``tests/workers`` run
the same paths with real worker processes.
"""
import datetime as dt
from io import StringIO

import pytest
from celery import current_app
from django.core.management import call_command
from kombu import pools as kombu_pools
from django.core.management.base import CommandError
from django.utils import timezone

from apps.jobs import services
from apps.jobs.models import Job, JobChunk
from apps.scoring.services import batch

pytestmark = pytest.mark.django_db


def _ago(seconds: int) -> dt.datetime:
    return timezone.now() - dt.timedelta(seconds=seconds)


def _planned(chunk_size=40, **params):
    job, _ = services.job_create(kind="score", params={"all": True, "chunk_size": chunk_size, **params},
                                 enqueue=False)
    pending = batch.score_job_plan(job_id=job.pk)
    return job, pending


def _reset_producers():
    kombu_pools.reset()  # kombu's process-wide connection and producer pools
    current_app._pool = None
    current_app.amqp._producer_pool = None


@pytest.fixture
def broker_down(monkeypatch):
    """Point the producers at a port where no broker listens (a broker outage), then restore them.

    Celery reads ``CELERY_BROKER_URL`` from the environment before its configuration.
    """
    saved = {k: current_app.conf[k] for k in ("task_publish_retry", "broker_connection_timeout")}
    _reset_producers()
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:1/0")
    current_app.conf.update(task_publish_retry=False, broker_connection_timeout=1)
    yield
    monkeypatch.undo()
    _reset_producers()
    current_app.conf.update(saved)


def test_a_job_the_broker_refused_stays_visible_and_is_sent_by_the_next_watchdog(production, labelled, broker_down,
                                                                                django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job, created = batch.score_job_submit(params={"all": True}, idempotency_key="k-1")
    job.refresh_from_db()
    assert created and job.status == "queued" and job.dispatched_at is None  # saved, not lost, not hidden
    with django_capture_on_commit_callbacks(execute=True):
        again, created = batch.score_job_submit(params={"all": True}, idempotency_key="k-1")  # the client retries
    assert (again.pk, created) == (job.pk, False) and Job.objects.get(pk=job.pk).dispatched_at is None


def test_after_a_broker_outage_the_watchdog_sends_what_was_refused(production, labelled):
    job, _ = services.job_create(kind="score", params={"all": True}, enqueue=False)  # the broker refused it
    assert services.jobs_watchdog() == {job.pk: "dispatched"}
    assert Job.objects.get(pk=job.pk).dispatched_at is not None


def test_an_unsent_job_is_dispatched_by_the_watchdog_and_by_a_retried_submit(production, labelled,
                                                                            django_capture_on_commit_callbacks):
    unsent, _ = services.job_create(kind="score", params={"all": True}, enqueue=False)
    keyed, _ = services.job_create(kind="score", params={"all": True}, idempotency_key="k-2", enqueue=False)
    with django_capture_on_commit_callbacks(execute=True):
        again, created = services.job_create(kind="score", params={"all": True}, idempotency_key="k-2")
    assert (again.pk, created) == (keyed.pk, False)
    assert Job.objects.get(pk=keyed.pk).dispatched_at is not None  # the client's retry sent it
    assert services.jobs_watchdog() == {unsent.pk: "dispatched"}
    assert Job.objects.get(pk=unsent.pk).dispatched_at is not None
    assert services.jobs_watchdog() == {}  # sent just now: not stalled


def test_a_complete_job_left_running_is_finished(production, labelled):
    job, pending = _planned()
    for index, ids in pending:
        batch.chunk_score(job_id=job.pk, chunk_index=index, conversation_ids=ids)
    # the last chunk committed, then its finish step failed (database error, SIGKILL):
    Job.objects.filter(pk=job.pk).update(status="running", finished_at=None)
    assert services.jobs_watchdog() == {job.pk: "finished"}
    job.refresh_from_db()
    assert (job.status, job.done) == ("succeeded", 120)
    assert [s["step"] for s in job.steps][-1] == "finished by recovery"  # the job shows what recovered it
    assert services.jobs_watchdog() == {}


def test_stalled_chunks_are_sent_again_once_per_stall(production, labelled, settings):
    settings.JOB_CHUNK_STALL_SECONDS = 60
    job, pending = _planned()
    batch.chunk_score(job_id=job.pk, chunk_index=0, conversation_ids=pending[0][1])
    assert services.jobs_watchdog() == {}  # just started
    Job.objects.filter(pk=job.pk).update(started_at=_ago(600))
    JobChunk.objects.filter(job=job).update(sent_at=_ago(120))
    assert services.jobs_watchdog() == {job.pk: "re-sent 2 chunks"}
    assert JobChunk.objects.filter(job=job, state="pending", sent_at__gt=_ago(60)).count() == 2
    assert services.jobs_watchdog() == {}  # sent again just now
    # a copy of a chunk that meanwhile finished is skipped and counts nothing
    batch.chunk_score(job_id=job.pk, chunk_index=1, conversation_ids=pending[1][1])
    assert batch.chunk_score(job_id=job.pk, chunk_index=1, conversation_ids=pending[1][1]) == {"skipped": True}
    assert Job.objects.get(pk=job.pk).done == 80


def test_a_chunk_that_is_running_is_not_sent_again(production, labelled, settings):
    settings.JOB_CHUNK_STALL_SECONDS = 60
    job, pending = _planned(chunk_size=120)
    Job.objects.filter(pk=job.pk).update(started_at=_ago(600))
    JobChunk.objects.filter(job=job).update(sent_at=_ago(600))
    services.chunk_begin(job_id=job.pk, chunk_index=0)  # a worker took it just now
    assert services.jobs_watchdog() == {}


def test_an_assessment_waits_for_its_scoring_job_and_starts_when_it_finishes(production, labelled,
                                                                           django_capture_on_commit_callbacks):
    from apps.scoring.services.assessment import assessment_start

    with django_capture_on_commit_callbacks(execute=True):
        assess = assessment_start(date=timezone.localdate())
    scoring = Job.objects.get(kind="score")
    assert assess.params["waits_for_job"] == scoring.pk and assess.dispatched_at is None
    Job.objects.filter(pk=assess.pk).update(created_at=_ago(7200))
    assert assess.pk not in services.jobs_watchdog()  # its scoring job is still active
    with django_capture_on_commit_callbacks(execute=True):
        for index, ids in batch.score_job_plan(job_id=scoring.pk):
            batch.chunk_score(job_id=scoring.pk, chunk_index=index, conversation_ids=ids)
    assert Job.objects.get(pk=scoring.pk).status == "succeeded"
    assert Job.objects.get(pk=assess.pk).dispatched_at is not None  # sent by the scoring app's receiver


def test_resume_reruns_only_what_failed(production, labelled):
    job, pending = _planned()
    batch.chunk_score(job_id=job.pk, chunk_index=0, conversation_ids=pending[0][1])
    services.chunk_fail(job_id=job.pk, chunk_index=1, error="OperationalError: the database went away")
    services.job_fail(job_id=job.pk, error="OperationalError")
    assert Job.objects.get(pk=job.pk).status == "failed"
    resumed = services.job_resume(job_id=job.pk)
    assert (resumed.status, resumed.done, resumed.failed, resumed.error) == ("running", 40, 0, "")
    assert list(JobChunk.objects.filter(job=job, state="pending").values_list("index", flat=True)) == [1, 2]
    assert JobChunk.objects.filter(job=job, state="pending", sent_at__isnull=False).count() == 2
    for index, ids in pending[1:]:
        batch.chunk_score(job_id=job.pk, chunk_index=index, conversation_ids=ids)
    job.refresh_from_db()
    assert (job.status, job.done, job.failed) == ("succeeded", 120, 0)


def test_resume_refuses_a_succeeded_job(production, labelled):
    from apps.core.exceptions import Conflict

    job, pending = _planned(chunk_size=120)
    batch.chunk_score(job_id=job.pk, chunk_index=0, conversation_ids=pending[0][1])
    with pytest.raises(Conflict):
        services.job_resume(job_id=job.pk)


def test_resume_api_admin_action_and_command(api_client, admin_user_client, production, labelled):
    job, pending = _planned(chunk_size=120)
    response = api_client.post(f"/api/v1/jobs/{job.pk}/resume")
    assert response.status_code == 200 and response.json()["status"] == "running"
    assert JobChunk.objects.get(job=job).sent_at is not None
    assert api_client.post("/api/v1/jobs/999999/resume").status_code == 404

    response = admin_user_client.post("/admin/jobs/job/", {"action": "resume_selected", "_selected_action": [job.pk]})
    assert response.status_code == 302
    assert Job.objects.get(pk=job.pk).steps[-1]["step"] == "resume requested"

    out = StringIO()
    call_command("resume_jobs", str(job.pk), stdout=out)
    assert f"job {job.pk}: running" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("resume_jobs", "999999", stdout=StringIO(), stderr=StringIO())
    out = StringIO()
    call_command("resume_jobs", stdout=out)
    assert "recovered" in out.getvalue()


def test_a_failed_nightly_date_can_be_run_again(production, labelled):
    from apps.core.exceptions import Conflict
    from apps.scoring.models import AssessmentRun
    from apps.scoring.services.assessment import assessment_rerun, assessment_start

    day = timezone.localdate()
    first = assessment_start(date=day)
    assert assessment_start(date=day) is None  # a second beat does nothing
    with pytest.raises(Conflict):
        assessment_rerun(date=day)  # still running
    services.job_fail(job_id=first.pk, error="boom")
    again = assessment_rerun(date=day)
    assert again.pk != first.pk and AssessmentRun.objects.get(date=day).job_id == again.pk
