"""The queue with REAL worker processes (never eager).

Each test starts ``celery -A csplatform worker -Q default,gpu -c 1 --pool prefork`` as a
subprocess pointed at the test database pytest-django created, so the worker sees the
rows this (transactional) test commits. Works on PostgreSQL + Redis and on the embedded
defaults (SQLite file under VAR_DIR + kombu's filesystem broker); the SIGKILL test needs a
broker that redelivers unacknowledged messages (Redis), see its skip reason.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db.models import Count

from apps.jobs.models import Job, JobChunk
from apps.scoring.models import AgentDailyQuality, AssessmentRun, Prediction, ReviewItem

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

DEADLINE = 120


def _database_url() -> str:
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db.get("USER") or ""
    if db.get("PASSWORD"):
        auth += f":{db['PASSWORD']}"
    return f"postgres://{auth}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


def _broker_is_redis() -> bool:
    return settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://"))


def _purge_broker() -> None:
    from csplatform.celery import app

    if _broker_is_redis():
        import redis

        client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
        client.delete("default", "gpu", "unacked", "unacked_index", "unacked_mutex")
        return
    for sub in ("queue", "processed"):
        folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS.get(f"data_folder_in" if sub == "queue" else
                                                                   "processed_folder", ""))
        if folder.is_dir():
            for path in folder.iterdir():
                path.unlink(missing_ok=True)
    app.control.purge()


class Worker:
    def __init__(self, tmp_path: Path, **extra_env: str):
        self.log = tmp_path / f"worker-{uuid.uuid4().hex[:6]}.log"
        self.env = {
            **os.environ, "DATABASE_URL": _database_url(), "MODEL_STORE": str(settings.MODEL_STORE),
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL, "VAR_DIR": str(settings.VAR_DIR),
            "LOG_LEVEL": "WARNING", **extra_env,
        }
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Worker":
        cmd = [sys.executable, "-m", "celery", "-A", "csplatform", "worker", "-Q", "default,gpu", "-c", "1",
               "--pool", "prefork", "-n", f"test-{uuid.uuid4().hex[:8]}@%h", "--without-gossip",
               "--without-mingle", "-l", "WARNING"]
        self.handle = open(self.log, "ab")
        self.proc = subprocess.Popen(cmd, cwd=settings.BASE_DIR, env=self.env, stdout=self.handle,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def kill(self) -> None:
        """SIGKILL the worker and its pool child at once (no chance to ack or requeue)."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        # Tests assert on committed rows, so a cold stop is enough (and fast); the broker is purged after.
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        self.handle.close()

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""


@pytest.fixture
def worker_factory(tmp_path, model_store):
    _purge_broker()
    started: list[Worker] = []

    def start(**env) -> Worker:
        w = Worker(tmp_path, **env).start()
        started.append(w)
        return w

    yield start
    for w in started:
        w.stop()
    _purge_broker()


def wait_for(predicate, what: str, workers=(), deadline: float = DEADLINE, describe=None):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    logs = "\n".join(w.tail() for w in workers)
    state = f"\n--- state ---\n{describe()}" if describe else ""
    raise AssertionError(f"timed out waiting for {what}{state}\n--- worker log ---\n{logs}")


def _job_state(job_id) -> str:
    """What a stuck job looks like: progress, the chunks still pending and the broker's unacked set."""
    import redis

    job = Job.objects.get(pk=job_id)
    pending = list(JobChunk.objects.filter(job_id=job_id, state=JobChunk.State.PENDING).values_list("index", flat=True))
    state = f"job {job.status} done {job.done}/{job.total} failed {job.failed}; pending chunks {pending}; steps {job.steps}"
    if not _broker_is_redis():
        return state
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    return (f"{state}; broker: default {client.llen('default')} gpu {client.llen('gpu')} "
            f"unacked {client.hlen('unacked')} mutex ttl {client.ttl('unacked_mutex')}")


def _finished(job_id):
    job = Job.objects.get(pk=job_id)
    return job if job.status in ("succeeded", "failed", "cancelled") else None


def _finished_or_resumed(job_id, stalled_after=30):
    """What the platform does while a job runs: the broker redelivers, and beat's watchdog re-sends
    the chunks of a job that stalled (Redis loses a message taken by a worker killed before it
    recorded it as unacknowledged)."""
    from apps.jobs.services import jobs_watchdog

    jobs_watchdog(stalled_after=stalled_after, chunk_stalled_after=stalled_after)
    return _finished(job_id)


def _assert_one_prediction_each(job, n):
    counts = Prediction.objects.filter(version_key=job.params["version_key"]).values("conversation") \
        .annotate(n=Count("id"))
    assert counts.count() == n, "missing predictions"
    assert not counts.filter(n__gt=1).exists(), "duplicate predictions"


def test_scoring_job_completes_with_one_prediction_each(worker_factory, production, labelled):
    from apps.scoring.services.batch import score_job_submit

    w = worker_factory()
    job, _ = score_job_submit(params={"all": True, "chunk_size": 25})
    job = wait_for(lambda: _finished(job.pk), "the scoring job", [w])
    assert (job.status, job.total, job.done, job.failed) == ("succeeded", 120, 120, 0), job.error
    _assert_one_prediction_each(job, 120)


@pytest.mark.skipif(
    not settings.CELERY_BROKER_URL.startswith("redis"),
    reason="kombu's filesystem transport deletes a message when it is delivered, so a SIGKILLed worker's "
           "unacknowledged chunk is never redelivered; run with CELERY_BROKER_URL=redis://... for this test",
)
def test_sigkill_mid_job_loses_and_duplicates_nothing(worker_factory, production):
    from tests.scoring.data import make_conversations

    from apps.scoring.services.batch import score_job_submit

    make_conversations(1500, seed=7, prefix="K")
    # Redeliver the dead worker's chunk within seconds. kombu sweeps unacknowledged messages back only
    # every interval x throttle seconds (10 x 10 by default) and under a mutex that a worker killed
    # mid-sweep holds for unacked_mutex_expire (300 s): both shortened, or one unlucky kill outlasts
    # the deadline.
    env = {"CELERY_VISIBILITY_TIMEOUT": "3", "CELERY_BROKER_TRANSPORT_OPTIONS": json.dumps(
        {"unacked_restore_interval": 1, "unacked_restore_throttle": 1, "unacked_mutex_expire": 5})}
    first = worker_factory(**env)
    job, _ = score_job_submit(params={"all": True, "chunk_size": 50})
    wait_for(lambda: Job.objects.get(pk=job.pk).done >= 200, "some chunks done", [first])
    first.kill()
    mid = Job.objects.get(pk=job.pk)
    assert mid.status == "running" and mid.done < mid.total, "the job finished before the kill; use more data"
    second = worker_factory(**env)
    job = wait_for(lambda: _finished_or_resumed(job.pk), "the job after the restart", [first, second],
                   deadline=180, describe=lambda: _job_state(job.pk))
    assert (job.status, job.done, job.failed) == ("succeeded", job.total, 0), job.error
    assert job.total == 1620
    _assert_one_prediction_each(job, 1620)


def test_lost_messages_are_sent_again_by_the_watchdog(worker_factory, production):
    """Every message of a running job lost (the in-flight chunk and the queue): the plan in the database
    is enough to finish it, on either broker."""
    from tests.scoring.data import make_conversations

    from apps.jobs.services import job_resume
    from apps.scoring.services.batch import score_job_submit

    make_conversations(600, seed=11, prefix="L")
    first = worker_factory()
    job, _ = score_job_submit(params={"all": True, "chunk_size": 50})
    wait_for(lambda: Job.objects.get(pk=job.pk).done >= 100, "some chunks done", [first])
    first.kill()
    _purge_broker()
    mid = Job.objects.get(pk=job.pk)
    assert mid.status == "running" and mid.done < mid.total, "the job finished before the kill; use more data"
    second = worker_factory()
    assert job_resume(job_id=job.pk).status == "running"  # the one-click recovery (API, admin, command)
    job = wait_for(lambda: _finished(job.pk), "the resumed job", [first, second], describe=lambda: _job_state(job.pk))
    assert (job.status, job.done, job.failed, job.total) == ("succeeded", 720, 0, 720), job.error
    assert [s["step"] for s in job.steps].count("resume requested") == 1
    _assert_one_prediction_each(job, 720)


def test_lost_assessment_message_is_sent_again_and_runs_once(worker_factory, production):
    """An assessment's only message lost before any worker took it: the watchdog sends it again; a
    late copy of the lost one runs nothing a second time."""
    from tests.factories import AgentFactory
    from tests.scoring.data import make_conversations

    from apps.jobs.services import job_create, job_dispatch, jobs_watchdog

    day = dt.date(2024, 3, 4)
    make_conversations(30, seed=4, day=day, agents=[AgentFactory()], prefix="R")
    job, _ = job_create(kind="assess", params={"date": day.isoformat()})  # sent on commit
    _purge_broker()
    w = worker_factory()
    assert jobs_watchdog(stalled_after=0) == {job.pk: "dispatched"}
    job_dispatch(job_id=job.pk)  # the lost message turns up after all
    job = wait_for(lambda: _finished(job.pk), "the re-sent assessment", [w], describe=lambda: _job_state(job.pk))
    time.sleep(1.5)  # give the copy the chance to run
    job.refresh_from_db()
    steps = [s["step"] for s in job.steps]
    assert job.status == "succeeded" and job.task_id, job.error
    assert (steps.count("resumed"), steps.count("aggregated")) == (1, 1), steps
    assert job.result["date"] == day.isoformat()


def test_nightly_assessment_fired_twice_aggregates_once(worker_factory, production):
    from tests.factories import AgentFactory
    from tests.scoring.data import make_conversations

    from workers.scoring import nightly_assessment

    day = dt.date(2024, 3, 1)
    agents = [AgentFactory(), AgentFactory()]
    make_conversations(80, seed=3, day=day, agents=agents, prefix="N")
    w = worker_factory()
    nightly_assessment.delay(day.isoformat())
    nightly_assessment.delay(day.isoformat())
    run = wait_for(lambda: AssessmentRun.objects.filter(date=day, job__status="succeeded").first(),
                   "the assessment", [w])
    time.sleep(1.5)  # give a duplicate (if any) the chance to show up
    assert AssessmentRun.objects.count() == 1
    assert Job.objects.filter(kind="assess").count() == 1
    assert Job.objects.filter(kind="score").count() == 1
    rows = {r.agent_id: r for r in AgentDailyQuality.objects.filter(date=day)}
    assert set(rows) == {a.pk for a in agents} and sum(r.volume for r in rows.values()) == 80
    negatives = sum("negative_sentiment" in r for r in ReviewItem.objects.values_list("reasons", flat=True))
    assert negatives == 20  # the complaint intent is negative
    assert sum(r.flagged_count for r in rows.values()) == ReviewItem.objects.count()
    assert all(0 <= r.negative_share <= 1 and r.mean_quality for r in rows.values())
    assert run.job.result["agents"] == 2


def test_better_candidate_is_promoted_worse_is_not(worker_factory, labelled, trained_artifacts, tmp_path):
    import ml

    from apps.registry import services
    from apps.registry.models import ModelVersion
    from apps.registry.training import retrain_submit
    from tests.scoring.data import generate_rows

    # Production: a model trained on shuffled labels (clearly bad).
    rows = generate_rows(120)
    labels = [r["intent"] for r in rows]
    random.Random(1).shuffle(labels)
    bad = ml.build("intent", "linear").fit([r["text"] for r in rows], labels)
    services.model_version_promote(version=services.model_version_register(task="intent", backend="linear",
                                                                           estimator=bad))
    w = worker_factory()
    better, _ = retrain_submit(params={"tasks": ["intent"]})
    better = wait_for(lambda: _finished(better.pk), "the first retraining", [w])
    assert better.status == "succeeded" and "tasks" in better.result, (better.error, better.steps)
    assert better.result["tasks"]["intent"]["decision"] == "promoted"
    assert ModelVersion.objects.get(task="intent", status="production").version == 2

    worse, _ = retrain_submit(params={"tasks": ["intent"], "hyperparams": {"intent": {"C": 1e-4}}})
    worse = wait_for(lambda: _finished(worse.pk), "the second retraining", [w])
    assert worse.status == "succeeded" and "tasks" in worse.result, (worse.error, worse.steps)
    outcome = worse.result["tasks"]["intent"]
    assert outcome["decision"] == "rejected", outcome
    assert outcome["candidate"]["macro_f1"] <= outcome["production"]["macro_f1"]
    assert ModelVersion.objects.get(task="intent", status="production").version == 2
    assert ModelVersion.objects.get(task="intent", version=3).status == "rejected"
    steps = [s["step"] for s in worse.steps]
    assert steps[:5] == ["dataset", "trained", "evaluated production", "registered", "rejected"]


def test_corrupted_artifact_is_refused_by_the_worker(worker_factory, production, labelled):
    from apps.jobs.services import job_create

    mv = production["intent"]
    with open(Path(mv.artifact_path) / "pipeline.skops", "ab") as handle:
        handle.write(b"corrupted")
    w = worker_factory()
    job, _ = job_create(kind="score", params={"all": True})
    job = wait_for(lambda: _finished(job.pk), "the job to fail", [w])
    assert job.status == "failed" and "sha256" in job.error
    assert not Prediction.objects.exists()


def test_the_documented_call_of_the_watchdog_works_and_a_worker_runs_it(worker_factory, production, tmp_path):
    """``celery -A csplatform call jobs.watchdog`` imports no model before Django is set up."""
    from apps.jobs.services import job_create

    job, _ = job_create(kind="score", params={"all": True}, enqueue=False)  # the broker never took it
    w = Worker(tmp_path)
    call = subprocess.run([sys.executable, "-m", "celery", "-A", "csplatform", "call", "jobs.watchdog"],
                          cwd=settings.BASE_DIR, env=w.env, capture_output=True, text=True, timeout=60)
    assert call.returncode == 0, call.stderr[-2000:]
    worker = worker_factory()
    job = wait_for(lambda: _finished(job.pk), "the job the watchdog sent", [worker],
                   describe=lambda: _job_state(job.pk))
    assert job.status == "succeeded" and job.dispatched_at is not None, job.error


def test_cancel_stops_a_running_chunk_at_its_next_batch(worker_factory, production):
    """A chunk of many batches sees the cancel between two of them: nothing of it is stored."""
    from tests.scoring.data import make_conversations

    from apps.jobs.services import job_cancel
    from apps.scoring.services.batch import score_job_submit

    make_conversations(6000, seed=13, prefix="X")
    w = worker_factory()
    job, _ = score_job_submit(params={"all": True, "chunk_size": 10000})
    wait_for(lambda: JobChunk.objects.filter(job=job, started_at__isnull=False).exists(), "the chunk to start", [w])
    job_cancel(job_id=job.pk)
    chunk = wait_for(lambda: JobChunk.objects.filter(job=job).exclude(state="pending").first(),
                     "the chunk to stop", [w], describe=lambda: _job_state(job.pk))
    assert chunk.state == "skipped"
    assert not Prediction.objects.filter(job=job).exists()
    assert Job.objects.get(pk=job.pk).status == "cancelled"
