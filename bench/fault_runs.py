"""Fault runs: a scoring job through real Celery workers while a fault is injected, then the count.

    python bench/fault_runs.py --conversations 20000 --chunk 1000
    python bench/fault_runs.py --scenarios sigkill_child,db_down --conversations 5000

The script needs ``redis-server`` and PostgreSQL's server binaries (``initdb``, ``pg_ctl``; found
under ``/usr/lib/postgresql/*/bin`` or given with ``--pg-bin``). It never touches another
PostgreSQL or Redis: it creates a private PostgreSQL cluster in a temporary directory on a spare
port (one for the whole run, so the database can be stopped), and for every scenario a fresh
Redis (``--appendonly yes``, as in docker-compose) on a spare port, used as broker and cache.

Once per run: migrate, seed ``--conversations`` synthetic conversations and train and promote the
production models (``bench/score_bench.py``'s helpers). Per scenario: clear the predictions and
jobs, start two ``celery -A csplatform worker -Q default,gpu -c 1`` processes and one beat (two in
``two_beats``), warm the workers with a tiny job, submit a scoring job of every conversation
through the scoring service, inject the fault once ``--fault-at`` of it is done, and wait. A
process that exits unexpectedly is started again, as ``restart: unless-stopped`` does in compose.
The watchdog runs from beat every ``JOB_WATCHDOG_SECONDS``; the waits are bounded: when the job has
not ended ``--recover-seconds`` after the fault, the documented recovery
(``manage.py resume_jobs <id>``) is run and recorded, and after another ``--recover-seconds`` the
job is reported stuck.

Scenarios:

* ``sigkill_child``: ``kill -9`` the pool child of one worker mid-job;
* ``sigkill_parent``: ``kill -9`` one worker's main process (its child is orphaned);
* ``broker_down``: Redis shut down for ``--outage`` seconds mid-job, then started on its AOF;
* ``db_down``: PostgreSQL stopped (``pg_ctl stop -m fast``) for ``--outage`` seconds mid-job;
* ``two_beats``: two beat processes fire the nightly assessment of one date every 5 s;
* ``cancel``: the job is cancelled mid-job, then resumed;
* ``retrain_during_scoring``: a retraining with forced promotion runs while the job scores.

The check: every conversation has exactly one ``Prediction`` for the job's version key (lost,
duplicates), and the job's end state with what it took to get there (chunk redeliveries, watchdog
re-sends, task retries in the worker logs, a manual resume). Prints a RESULT table and JSON;
measures, never asserts. Results go to docs/queue.md ("Fault runs").
"""
from __future__ import annotations

import argparse
import datetime as dt
import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csplatform.settings")

SCENARIOS = ["sigkill_child", "sigkill_parent", "broker_down", "db_down", "two_beats", "cancel",
             "retrain_during_scoring"]
TERMINAL = ("succeeded", "failed", "cancelled")
DB_NAME = "cs_h2_faults"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its binaries as the ``postgres`` user then."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


# --- private services ----------------------------------------------------------

class Postgres:
    def __init__(self, base: Path, port: int, bindir: Path):
        self.dir, self.port, self.bin = base / "pg", port, bindir
        self.socket_dir = base / "pgsock"

    def init(self) -> None:
        for d in (self.dir, self.socket_dir):
            d.mkdir()
            if os.geteuid() == 0:
                shutil.chown(d, "postgres", "postgres")
        subprocess.run(_as_postgres([str(self.bin / "initdb"), "-D", str(self.dir), "-U", "postgres",
                                     "--auth=trust", "-E", "UTF8", "--no-sync"]),
                       check=True, stdout=subprocess.DEVNULL)
        self.start()
        subprocess.run(_as_postgres([str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
                                     "-U", "postgres", DB_NAME]), check=True)

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 -c max_connections=200"
        subprocess.run(_as_postgres([str(self.bin / "pg_ctl"), "-D", str(self.dir), "-l", str(self.dir / "log"),
                                     "-o", opts, "-w", "start"]), check=True, stdout=subprocess.DEVNULL)

    def stop(self) -> None:
        subprocess.run(_as_postgres([str(self.bin / "pg_ctl"), "-D", str(self.dir), "-m", "fast", "-w", "stop"]),
                       check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class Redis:
    def __init__(self, base: Path, port: int):
        self.dir, self.port = base, port
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
             "--appendonly", "yes", "--save", "", "--logfile", str(self.dir / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        end = time.monotonic() + 20
        while time.monotonic() < end:
            if subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True,
                              text=True).stdout.strip() == "PONG":
                return
            time.sleep(0.1)
        raise SystemExit("redis-server did not start")

    def stop(self) -> None:
        """A clean shutdown (the AOF is written), as ``docker compose stop redis`` does."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


class Proc:
    """A celery worker or beat in its own process group, restarted when it exits on its own."""

    def __init__(self, name: str, cmd: list[str], env: dict, log_dir: Path):
        self.name, self.cmd, self.env = name, cmd, env
        self.log_path = log_dir / f"{name}.log"
        self.proc: subprocess.Popen | None = None
        self.restarts = 0
        self.expect_exit = False

    def start(self) -> "Proc":
        handle = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.cmd, cwd=ROOT, env=self.env, stdout=handle, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        handle.close()
        self.expect_exit = False
        return self

    def supervise(self, events: list[str]) -> None:
        if self.proc and self.proc.poll() is not None and not self.expect_exit:
            events.append(f"{self.name} exited ({self.proc.returncode}), restarted")
            self.restarts += 1
            self._reap_group()
            self.start()

    def _reap_group(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # an orphaned pool child of a killed parent
        except ProcessLookupError:
            pass

    def stop(self) -> None:
        if self.proc is None:
            return
        self.expect_exit = True
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            pass
        self._reap_group()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass

    def text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


# --- database access that survives an outage ------------------------------------

def db(fn, default=None):
    """Run ``fn()``; on a database error close the broken connection and return ``default``."""
    from django.db import DatabaseError, connection

    try:
        return fn()
    except DatabaseError:
        connection.close()
        return default


def job_row(job_id: int):
    from apps.jobs.models import Job

    return db(lambda: Job.objects.get(pk=job_id))


def reset_state() -> None:
    """Forget the predictions, jobs and assessments of the previous scenario (models and conversations stay)."""
    from django_celery_results.models import TaskResult

    from apps.conversations.models import Conversation
    from apps.jobs.models import Job
    from apps.scoring.models import AgentDailyQuality, AssessmentRun, Prediction, ReviewItem

    Conversation.objects.exclude(prediction=None).update(prediction=None)
    ReviewItem.objects.all().delete()
    AgentDailyQuality.objects.all().delete()
    AssessmentRun.objects.all().delete()
    qs = Prediction.objects.all()
    qs._raw_delete(qs.db)
    Job.objects.exclude(kind="retrain").delete()
    TaskResult.objects.all().delete()


def schedules(watchdog_seconds: int, nightly_date: str | None) -> None:
    """Beat runs only the watchdog (every ``watchdog_seconds``), plus a 5-second nightly assessment of a date."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    PeriodicTask.objects.exclude(name="jobs watchdog").update(enabled=False)
    every, _ = IntervalSchedule.objects.get_or_create(every=watchdog_seconds, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.update_or_create(name="jobs watchdog", defaults={
        "task": "jobs.watchdog", "interval": every, "crontab": None, "enabled": True, "queue": "default"})
    if nightly_date:
        five, _ = IntervalSchedule.objects.get_or_create(every=5, period=IntervalSchedule.SECONDS)
        PeriodicTask.objects.update_or_create(name="fault run: nightly assessment", defaults={
            "task": "scoring.nightly_assessment", "interval": five, "crontab": None, "enabled": True,
            "queue": "default", "args": json.dumps([nightly_date])})
    else:
        PeriodicTask.objects.filter(name="fault run: nightly assessment").delete()


def count_predictions(version_key: str, conversation_ids: list[int] | None = None) -> dict:
    """Lost and duplicate predictions of one version key over the bench conversations."""
    from django.db.models import Count

    from apps.conversations.models import Conversation
    from apps.scoring.models import Prediction

    expected = Conversation.objects.filter(external_id__startswith="BENCH-")
    if conversation_ids is not None:
        expected = expected.filter(pk__in=conversation_ids)
    expected_ids = set(expected.values_list("pk", flat=True))
    per = dict(Prediction.objects.filter(version_key=version_key, conversation_id__in=expected_ids)
               .values_list("conversation").annotate(n=Count("id")).values_list("conversation", "n"))
    return {"expected": len(expected_ids), "lost": len(expected_ids - set(per)),
            "duplicates": sum(n - 1 for n in per.values() if n > 1)}


# --- one scenario ------------------------------------------------------------------

class Run:
    def __init__(self, args, base: Path, pg: Postgres, redis_port: int, env: dict):
        self.args, self.base, self.pg, self.redis_port, self.env = args, base, pg, redis_port, env

    def scenario(self, name: str) -> dict:
        self.name = name
        self.log_dir = self.base / f"logs-{name}"
        self.log_dir.mkdir()
        self.events: list[str] = []
        self.redis = Redis(self.base / f"redis-{name}", self.redis_port)
        self.redis.start()
        self.procs: list[Proc] = []
        try:
            reset_state()
            nightly_date = None
            if name == "two_beats":
                from django.utils import timezone

                nightly_date = timezone.localdate().isoformat()
            schedules(self.args.watchdog_seconds, nightly_date)
            # Beat is up (and has read its schedule) before the fault; in two_beats the nightly assessment
            # starts with the beats, after the warm-up job.
            beats = [self._beat(f"beat{i}") for i in range(2 if name == "two_beats" else 1)]
            if name != "two_beats":
                self.procs += [b.start() for b in beats]
            for i in range(2):
                self.procs.append(self._worker(f"worker{i}").start())
            self._warm()
            if name == "two_beats":
                self.procs += [b.start() for b in beats]
            result = getattr(self, f"_{name}")()
        except Exception as exc:  # report the scenario, go on with the next
            result = {"end_state": f"harness error: {type(exc).__name__}: {exc}"}
        finally:
            for p in self.procs:
                p.stop()
            self.redis.stop()
        retries = sum(len(re.findall(r"retries after", p.text())) for p in self.procs)
        result = {"scenario": name, **result, "task_retries": retries, "events": self.events}
        if result.get("lost") or result.get("duplicates") or result.get("end_state") not in (
                "succeeded", "cancelled, resumed: succeeded"):
            result["log_tail"] = {p.name: p.text()[-3000:] for p in self.procs}
        return result

    def _celery_env(self) -> dict:
        return {**self.env, "LOG_LEVEL": "WARNING"}

    def _worker(self, name: str) -> Proc:
        return Proc(name, [sys.executable, "-m", "celery", "-A", "csplatform", "worker", "-Q", "default,gpu",
                           "-c", "1", "--pool", "prefork", "-n", f"{name}-{os.getpid()}@%h", "--without-gossip",
                           "--without-mingle", "-l", "WARNING"], self._celery_env(), self.log_dir)

    def _beat(self, name: str) -> Proc:
        return Proc(name, [sys.executable, "-m", "celery", "-A", "csplatform", "beat", "-l", "WARNING",
                           "--pidfile=", "-s", str(self.log_dir / f"{name}-schedule")],
                    self._celery_env(), self.log_dir)

    def _warm(self) -> None:
        """Both workers started, Django and the models loaded: a tiny job, outside every measure."""
        from apps.scoring.models import Prediction
        from apps.scoring.services.batch import score_job_submit

        warm, _ = score_job_submit(params={"conversations": [f"BENCH-{i:07d}" for i in range(4)], "chunk_size": 1})
        self._wait(warm.pk, lambda j: j.status in TERMINAL, 180, "warm-up")
        Prediction.objects.filter(job_id=warm.pk).delete()

    def _supervise(self) -> None:
        for p in self.procs:
            p.supervise(self.events)

    def _wait(self, job_id: int, until, timeout: float, what: str):
        end = time.monotonic() + timeout
        last = ""
        while time.monotonic() < end:
            self._supervise()
            job = job_row(job_id)
            if job is not None:
                line = f"{what}: job {job_id} {job.status} {job.done + job.failed}/{job.total}"
                if line != last and (self.args.verbose or job.status in TERMINAL):
                    log(line)
                last = line
                if until(job):
                    return job
            time.sleep(0.2)
        return None

    def _submit(self):
        from apps.scoring.services.batch import score_job_submit

        job, _ = score_job_submit(params={"all": True, "chunk_size": self.args.chunk})
        self.t0 = time.monotonic()
        log(f"{self.name}: job {job.pk} submitted")
        return job

    def _until_fault_point(self, job) -> None:
        """Until ``--fault-at`` of the job is done and a chunk is running (started, not finished)."""
        from apps.jobs.models import JobChunk

        need = self.args.fault_at

        def ready(j):
            if j.status in TERMINAL:
                return True
            return j.total and (j.done + j.failed) >= need * j.total and JobChunk.objects.filter(
                job_id=j.pk, state="pending", started_at__isnull=False).exists()

        j = self._wait(job.pk, ready, 300, "before the fault")
        if j is None or j.status in TERMINAL:
            self.events.append("the job ended before the fault point; use more conversations")
        else:
            self.events.append(f"fault at {j.done + j.failed}/{j.total}")
        log(f"{self.name}: {self.events[-1]}")

    def _finish(self, job, *, allow_manual: bool = True) -> dict:
        """Wait for the end; run the documented recovery once when the platform did not get there alone."""
        manual = False
        j = self._wait(job.pk, lambda j: j.status in TERMINAL, self.args.recover_seconds, self.name)
        if j is None and allow_manual:
            manual = True
            log(f"{self.name}: job {job.pk} not finished after {self.args.recover_seconds}s: manage.py resume_jobs")
            out = subprocess.run([sys.executable, "manage.py", "resume_jobs", str(job.pk)], cwd=ROOT, env=self.env,
                                 capture_output=True, text=True, timeout=120)
            self.events.append(f"resume_jobs: {(out.stdout + out.stderr).strip()[-300:]}")
            j = self._wait(job.pk, lambda j: j.status in TERMINAL, self.args.recover_seconds, self.name)
        elapsed = round(time.monotonic() - self.t0, 1)
        j = j or job_row(job.pk)
        return {"job": job.pk, "end_state": j.status if j and j.status in TERMINAL else f"stuck ({j.status if j else '?'})",
                "done": j.done if j else None, "total": j.total if j else None, "failed": j.failed if j else None,
                "error": (j.error or "")[:300] if j else "", "manual_resume": manual, "seconds": elapsed,
                **self._recovery(job.pk)}

    def _recovery(self, job_id: int) -> dict:
        from apps.jobs.models import Job, JobChunk

        job = Job.objects.get(pk=job_id)
        # A "resumed" step is the watchdog's, unless the next step is the "resume requested" of job_resume.
        steps = job.steps or []
        watchdog = [s for i, s in enumerate(steps) if s.get("step") == "resumed" and not (
            i + 1 < len(steps) and steps[i + 1].get("step") == "resume requested")]
        return {
            "chunks_rerun": JobChunk.objects.filter(job_id=job_id, attempts__gt=1).count(),
            "watchdog_resends": len(watchdog),
            "watchdog_chunks": sum(s.get("sent", 0) for s in watchdog),
            "watchdog_dispatches": sum(1 for s in watchdog if s.get("dispatched")),
            "finished_by_recovery": sum(1 for s in steps if s.get("step") == "finished by recovery"),
        }

    def _scored(self, result: dict) -> dict:
        from apps.jobs.models import Job

        job = Job.objects.get(pk=result["job"])
        return {**result, **count_predictions(job.params.get("version_key", ""))}

    def _procs(self, prefix: str) -> list[Proc]:
        return [p for p in self.procs if p.name.startswith(prefix)]

    # --- the faults ---

    def _sigkill_child(self) -> dict:
        import psutil

        job = self._submit()
        self._until_fault_point(job)
        # The pool child of each worker, so the one running the started chunk is among them.
        for worker in self._procs("worker"):
            children = psutil.Process(worker.proc.pid).children()
            for child in children:
                os.kill(child.pid, signal.SIGKILL)
            self.events.append(f"SIGKILL pool child {[c.pid for c in children]} of {worker.name}")
        result = self._scored(self._finish(job))
        lost = sum(len(re.findall(r"exited with 'signal 9", p.text())) for p in self._procs("worker"))
        self.events.append(f"worker logs: {lost} task(s) lost with their process (WorkerLostError, requeued)")
        return result

    def _sigkill_parent(self) -> dict:
        job = self._submit()
        self._until_fault_point(job)
        worker = self._procs("worker")[0]
        os.kill(worker.proc.pid, signal.SIGKILL)
        self.events.append(f"SIGKILL main process {worker.proc.pid} of {worker.name}")
        return self._scored(self._finish(job))

    def _broker_down(self) -> dict:
        job = self._submit()
        self._until_fault_point(job)
        self.redis.stop()
        self._sleep(self.args.outage)
        self.redis.start()
        self.events.append(f"Redis down {self.args.outage}s, restarted on its AOF")
        return self._scored(self._finish(job))

    def _db_down(self) -> dict:
        job = self._submit()
        self._until_fault_point(job)
        self.pg.stop()
        self._sleep(self.args.outage)
        self.pg.start()
        self.events.append(f"PostgreSQL down {self.args.outage}s")
        return self._scored(self._finish(job))

    def _sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self._supervise()
            time.sleep(0.5)

    def _cancel(self) -> dict:
        from apps.jobs.models import JobChunk
        from apps.jobs.services import job_cancel, job_resume

        job = self._submit()
        self._until_fault_point(job)
        cancelled = job_cancel(job_id=job.pk)
        log(f"cancel: job {job.pk} cancelled")

        def settled(_):
            return not JobChunk.objects.filter(job_id=job.pk, state="pending").exists()

        self._wait(job.pk, settled, 120, "cancel")
        self._sleep(5)  # a chunk still running would commit now
        chunks = list(JobChunk.objects.filter(job_id=job.pk))
        done_ids = [cid for c in chunks if c.state == "done" for cid in c.conversation_ids]
        other_ids = [cid for c in chunks if c.state != "done" for cid in c.conversation_ids]
        key = job_row(job.pk).params["version_key"]
        at_cancel = count_predictions(key, done_ids)
        partial = count_predictions(key, other_ids)["expected"] - count_predictions(key, other_ids)["lost"]
        started_after = sum(1 for c in chunks if c.started_at and c.started_at > cancelled.finished_at)
        state = job_row(job.pk).status
        self.events.append(
            f"at cancel: {len([c for c in chunks if c.state == 'done'])} chunks done, "
            f"{len([c for c in chunks if c.state == 'skipped'])} skipped, {started_after} started after the cancel, "
            f"{partial} predictions in skipped chunks, {at_cancel['lost']} lost and {at_cancel['duplicates']} "
            f"duplicates in done chunks; job {state}")
        job_resume(job_id=job.pk)
        result = self._finish(job)
        result["end_state"] = f"{state}, resumed: {result['end_state']}"
        result.update({"started_after_cancel": started_after, "partial_predictions": partial})
        return self._scored(result)

    def _retrain_during_scoring(self) -> dict:
        from apps.conversations.models import Conversation
        from apps.jobs.services import job_create
        from apps.registry.models import ModelVersion
        from apps.registry.training import retrain_run
        from apps.scoring.models import Prediction

        from apps.jobs.models import JobChunk
        from apps.registry.models import Promotion

        # The retraining starts with the job (in this process, as a manager's "retrain now" with forced
        # promotion would), so its promotion lands while the workers score.
        job = self._submit()
        retrain, _ = job_create(kind="retrain", enqueue=False, params={"backend": "linear", "promote": "always"})
        retrain_run(job_id=retrain.pk)
        j = job_row(job.pk)
        # The first task's promotion already changes the production set (one promotion per task).
        promoted_at = Promotion.objects.filter(at__gte=j.created_at).order_by("at").values_list("at", flat=True)[0]
        before = JobChunk.objects.filter(job_id=job.pk, state="done", finished_at__lte=promoted_at).count()
        self.events.append(f"retrain {retrain.pk}: first promotion after {before} of the job's chunks, the last "
                           f"at {j.done + j.failed}/{j.total} ({j.status})")
        result = self._scored(self._finish(job))
        result["chunks_after_promotion"] = JobChunk.objects.filter(job_id=job.pk, finished_at__gt=promoted_at).count()
        key = job_row(job.pk).params["version_key"]
        production = ",".join(str(v) for v in ModelVersion.objects.filter(status="production")
                              .order_by("task").values_list("version", flat=True))
        result["other_keys_in_job"] = Prediction.objects.filter(job_id=job.pk).exclude(version_key=key).count()
        bench = Conversation.objects.filter(external_id__startswith="BENCH-")
        result["denormalised_to_job_key"] = bench.filter(prediction__version_key=key).count()
        result["denormalised_none"] = bench.filter(prediction=None).count()
        self.events.append(f"production versions after: {production}; job key {key}; "
                           f"{result['chunks_after_promotion']} chunks finished after the promotion; "
                           f"{result['other_keys_in_job']} rows of the job under another key; "
                           f"{result['denormalised_to_job_key']} conversations point at the job's rows "
                           f"(the chunks before the promotion), {result['denormalised_none']} at none "
                           f"(their earlier prediction, none here, is kept)")
        return result

    def _two_beats(self) -> dict:
        from django.utils import timezone
        from django_celery_results.models import TaskResult

        from apps.jobs.models import Job
        from apps.scoring.models import AssessmentRun

        self.t0 = time.monotonic()
        date = timezone.localdate().isoformat()

        def assessed():
            run = AssessmentRun.objects.filter(date=date).select_related("job").first()
            return run if run and run.job and run.job.status in TERMINAL else None

        end = time.monotonic() + self.args.recover_seconds * 2
        run = None
        while time.monotonic() < end and run is None:
            self._supervise()
            run = db(assessed)
            time.sleep(0.5)
        self._sleep(15)  # both beats keep firing the date: three more rounds each
        runs = AssessmentRun.objects.filter(date=date).count()
        assess = Job.objects.filter(kind="assess", params__date=date)
        aggregated = sum(sum(1 for s in (j.steps or []) if s.get("step") == "aggregated") for j in assess)
        scoring = Job.objects.filter(kind="score", params__has_key="then_assess_job")
        fired = TaskResult.objects.filter(task_name="scoring.nightly_assessment", status="SUCCESS")
        started = fired.exclude(result="null").count()
        self.events.append(f"date {date}: the beats' nightly_assessment ran {fired.count()} times, {started} of them "
                           f"started a run; {runs} AssessmentRun, {assess.count()} assess job(s), aggregated "
                           f"{aggregated} time(s), {scoring.count()} scoring job(s)")
        result = {"end_state": run.job.status if run else "stuck (no assessment)", "job": run.job.pk if run else None,
                  "seconds": round(time.monotonic() - self.t0, 1), "manual_resume": False,
                  "assessment_runs": runs, "assess_jobs": assess.count(), "aggregations": aggregated,
                  "scoring_jobs": scoring.count(), "nightly_runs": fired.count(), "nightly_started": started}
        first_scoring = scoring.order_by("pk").first()
        if first_scoring is not None:
            result.update(self._recovery(first_scoring.pk))
            result.update(count_predictions(first_scoring.params.get("version_key", "")))
        return result


# --- main ------------------------------------------------------------------------------

def pg_bindir(arg: str | None) -> Path:
    if arg:
        return Path(arg)
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise SystemExit("PostgreSQL server binaries not found; give --pg-bin")
    return Path(found[-1]).parent


def recovery_text(r: dict) -> str:
    parts = []
    if r.get("chunks_rerun"):
        parts.append(f"{r['chunks_rerun']} chunk(s) re-run")
    if r.get("watchdog_chunks"):
        parts.append(f"watchdog re-sent {r['watchdog_chunks']} chunk(s) in {r['watchdog_resends']} round(s)")
    if r.get("watchdog_dispatches"):
        parts.append(f"watchdog re-sent the job {r['watchdog_dispatches']} time(s)")
    if r.get("finished_by_recovery"):
        parts.append("watchdog finished the complete job")
    if r.get("task_retries"):
        parts.append(f"{r['task_retries']} task retries")
    restarts = [e for e in r.get("events", []) if " exited (" in e]
    if restarts:
        parts.append(f"{len(restarts)} process restart(s)")
    if r.get("manual_resume"):
        parts.append("manual resume_jobs")
    return "; ".join(parts) or "none"


def run_from_snapshot() -> None:
    """Copy the tracked and untracked (not ignored) files to a temporary directory and run from there."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, check=True,
                           capture_output=True).stdout.decode().split("\0")
    src = Path(tempfile.mkdtemp(prefix="fault-runs-src-"))
    for name in filter(None, files):
        if (ROOT / name).is_file():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, src / name)
    log(f"running from a snapshot of the working tree in {src}")
    argv = [a for a in sys.argv[1:] if a != "--snapshot"]
    env = {**os.environ, "FAULT_RUNS_SNAPSHOT": str(src)}
    os.execve(sys.executable, [sys.executable, str(src / "bench" / "fault_runs.py"), *argv], env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=20000)
    parser.add_argument("--chunk", type=int, default=1000)
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma-separated, of: " + ", ".join(SCENARIOS))
    parser.add_argument("--fault-at", type=float, default=0.25, help="share of the job done before the fault")
    parser.add_argument("--outage", type=float, default=20, help="seconds the broker or database is down")
    parser.add_argument("--recover-seconds", type=int, default=180,
                        help="wait this long for the job to end alone, then run resume_jobs and wait again")
    parser.add_argument("--watchdog-seconds", type=int, default=10, help="JOB_WATCHDOG_SECONDS (beat interval)")
    parser.add_argument("--stall-seconds", type=int, default=30,
                        help="JOB_STALL_SECONDS and JOB_CHUNK_STALL_SECONDS for the workers")
    parser.add_argument("--visibility-timeout", type=int, default=60, help="CELERY_VISIBILITY_TIMEOUT")
    parser.add_argument("--pg-bin", help="directory of initdb/pg_ctl (default: newest /usr/lib/postgresql/*/bin)")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, data)")
    parser.add_argument("--snapshot", action="store_true",
                        help="run from a copy of the working tree taken now (every process, restarted ones "
                             "included, runs the same code while the checkout changes)")
    parser.add_argument("--verbose", action="store_true", help="print every progress change")
    args = parser.parse_args()
    if args.snapshot:
        return run_from_snapshot()
    scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = set(scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")

    base = Path(tempfile.mkdtemp(prefix="fault-runs-"))
    os.chmod(base, 0o755)
    pg = Postgres(base, free_port(), pg_bindir(args.pg_bin))
    redis_port = free_port()
    env = {
        **os.environ, "DJANGO_SETTINGS_MODULE": "csplatform.settings", "DEBUG": os.environ.get("DEBUG", "true"),
        "HF_HUB_OFFLINE": "1", "VAR_DIR": str(base / "var"), "MODEL_STORE": str(base / "models"),
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{pg.port}/{DB_NAME}",
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{redis_port}/0",
        "CACHE_URL": f"rediscache://127.0.0.1:{redis_port}/1",
        "JOB_WATCHDOG_SECONDS": str(args.watchdog_seconds), "JOB_STALL_SECONDS": str(args.stall_seconds),
        "JOB_CHUNK_STALL_SECONDS": str(args.stall_seconds), "CELERY_VISIBILITY_TIMEOUT": str(args.visibility_timeout),
    }
    env.pop("CELERY_BROKER_TRANSPORT_OPTIONS", None)
    os.environ.update(env)
    (base / "var").mkdir()

    def interrupted(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    results: list[dict] = []
    run = None
    redis_setup = Redis(base / "redis-setup", redis_port)
    try:
        log(f"private PostgreSQL on port {pg.port}, Redis on port {redis_port}, directory {base}")
        pg.init()
        redis_setup.start()
        import django

        django.setup()
        from django.core.management import call_command

        from bench.score_bench import setup_data, train_models

        call_command("migrate", verbosity=0)
        t = time.monotonic()
        setup_data(args.conversations)
        log(f"{args.conversations} conversations seeded in {time.monotonic() - t:.1f}s")
        t = time.monotonic()
        train_models()
        log(f"models trained and promoted in {time.monotonic() - t:.1f}s")
        redis_setup.stop()
        run = Run(args, base, pg, redis_port, env)
        for name in scenarios:
            log(f"--- {name}")
            result = run.scenario(name)
            log(f"{name}: {result.get('end_state')}, lost {result.get('lost')}, duplicates {result.get('duplicates')}")
            results.append(result)
    except KeyboardInterrupt:
        log("interrupted; cleaning up")
    finally:
        if run is not None and getattr(run, "procs", None):
            for p in run.procs:
                p.stop()
            run.redis.stop()
        redis_setup.stop()
        from django.db import connections

        connections.close_all()
        pg.stop()
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
        if os.environ.get("FAULT_RUNS_SNAPSHOT"):
            shutil.rmtree(os.environ["FAULT_RUNS_SNAPSHOT"], ignore_errors=True)

    print("\nRESULT")
    print(f"# {args.conversations} conversations, chunks of {args.chunk}, 2 workers (-c 1), fault at "
          f"{args.fault_at:.0%}, outage {args.outage:g}s, watchdog every {args.watchdog_seconds}s, stall "
          f"{args.stall_seconds}s, visibility timeout {args.visibility_timeout}s, {os.cpu_count()} cores, "
          f"{dt.date.today().isoformat()}")
    print("| scenario | lost | duplicates | job end state | recovery needed | time (s) |")
    print("|---|---:|---:|---|---|---:|")
    for r in results:
        print(f"| {r['scenario']} | {r.get('lost', '-')} | {r.get('duplicates', '-')} | {r.get('end_state')} | "
              f"{recovery_text(r)} | {r.get('seconds', '-')} |")
    for r in results:
        for e in r.get("events", []):
            print(f"# {r['scenario']}: {e}")
    text = json.dumps(results, indent=1, default=str)
    print(text)
    if args.json:
        Path(args.json).write_text(text)


if __name__ == "__main__":
    main()
