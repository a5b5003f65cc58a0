import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from apps.jobs import services
from apps.jobs.models import Job

pytestmark = pytest.mark.django_db


def test_progress_and_finish_exactly_once():
    job, created = services.job_create(kind="score", enqueue=False)
    assert created
    services.job_start(job_id=job.pk, total=10)
    services.job_progress(job_id=job.pk, done=6)
    assert not services.job_finish(job_id=job.pk, only_when_complete=True)
    services.job_progress(job_id=job.pk, done=3, failed=1)
    assert services.job_finish(job_id=job.pk, only_when_complete=True)
    assert not services.job_finish(job_id=job.pk, only_when_complete=True)
    job.refresh_from_db()
    assert (job.status, job.progress) == ("succeeded", 100.0) and "1 of 10" in job.error


def test_a_started_job_belongs_to_the_message_that_claimed_it():
    job, _ = services.job_create(kind="assess", enqueue=False)
    assert services.job_start(job_id=job.pk, task_id="first")
    assert services.job_start(job_id=job.pk, task_id="first")  # the broker redelivers the claimant's message
    assert not services.job_start(job_id=job.pk, task_id="copy")  # a copy the watchdog sent
    assert services.job_start(job_id=job.pk)  # no message id: an orchestrator that may run again
    job.refresh_from_db()
    assert (job.status, job.task_id) == ("running", "first")
    services.job_cancel(job_id=job.pk)
    assert not services.job_start(job_id=job.pk, task_id="first")


def test_idempotency_key_returns_same_job():
    a, _ = services.job_create(kind="score", idempotency_key="same", enqueue=False)
    b, created = services.job_create(kind="score", idempotency_key="same", enqueue=False)
    assert a.pk == b.pk and not created


def test_cleanup_deletes_old_results_in_batches():
    from django_celery_results.models import TaskResult

    old = timezone.now() - dt.timedelta(days=30)
    TaskResult.objects.bulk_create([TaskResult(task_id=f"t{i}", status="SUCCESS") for i in range(25)])
    TaskResult.objects.filter(task_id__in=[f"t{i}" for i in range(20)]).update(date_done=old)
    assert services.task_results_cleanup(days=7, batch_size=3) == 20
    assert TaskResult.objects.count() == 5


def test_score_command_submits_and_waits(production, labelled):
    out = StringIO()
    call_command("score", "--all", stdout=out)
    assert "queued" in out.getvalue()
    job = Job.objects.get(kind="score")
    assert job.params == {"all": True}
    with pytest.raises(CommandError):
        call_command("score", "--since", "not-a-date", stdout=StringIO())


def test_bootstrap_models_trains_promotes_and_queues(labelled, django_capture_on_commit_callbacks):
    from apps.registry.models import ModelVersion

    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("bootstrap_models", "--backend", "linear", "--tasks", "intent", "sentiment", stdout=out)
    assert set(ModelVersion.objects.filter(status="production").values_list("task", flat=True)) == {
        "intent", "sentiment"}
    score = Job.objects.get(kind="score")
    assert score.dispatched_at is not None and "scoring job" in out.getvalue()  # the broker took it


def test_bootstrap_without_labels_fails_clearly(model_store):
    with pytest.raises(CommandError, match="seed"):
        call_command("bootstrap_models", "--no-score", stdout=StringIO())
