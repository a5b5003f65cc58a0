"""The task options a killed worker relies on (the queue tests' watchdog would hide their loss),
and the queue each task declares, which a task sent by name reaches too."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from csplatform.celery import app

ROOT = Path(__file__).resolve().parents[2]

SURVIVES_A_KILL = ["scoring.score_job", "scoring.score_chunk", "scoring.assess_aggregate",
                   "registry.train_candidate", "webhooks.deliver", "jobs.watchdog"]


@pytest.mark.parametrize("name", SURVIVES_A_KILL)
def test_work_is_acknowledged_late_and_requeued_when_the_worker_dies(name):
    app.loader.import_default_modules()
    task = app.tasks[name]
    assert task.acks_late is True
    assert task.reject_on_worker_lost is True


def test_visibility_timeout_outlasts_every_hard_time_limit():
    app.loader.import_default_modules()
    limits = [t.time_limit or app.conf.task_time_limit for n, t in app.tasks.items() if not n.startswith("celery.")]
    visibility = app.conf.broker_transport_options.get("visibility_timeout")
    if visibility is None:  # the filesystem broker has no redelivery (see tests/workers/test_queue.py)
        pytest.skip("the broker has no visibility timeout")
    assert visibility > max(limits)


@pytest.mark.parametrize("name, queue", [
    ("scoring.score_chunk", "gpu"), ("registry.train_candidate", "gpu"), ("scoring.score_job", "default"),
    ("scoring.rebuild_reply_index", "default"), ("webhooks.deliver", "default"), ("jobs.cleanup_results", "default"),
    ("jobs.watchdog", "default"),
])
def test_tasks_are_routed_by_name_to_their_queue(name, queue):
    """A task sent by name (``send_task``, no import) reaches the queue the task declares."""
    app.loader.import_default_modules()
    assert app.tasks[name].queue_name == queue
    assert app.amqp.router.route({}, name)["queue"].name == queue


def test_every_task_declares_its_queue_and_runs_on_the_base_class():
    from workers.base import PlatformTask

    app.loader.import_default_modules()
    ours = {n: t for n, t in app.tasks.items() if not n.startswith("celery.")}
    assert ours
    for name, task in ours.items():
        assert task.queue_name in ("default", "gpu"), name
        assert "queue" not in type(task).__dict__, name  # Celery's routing task attributes are deprecated
        assert app.amqp.router.route({}, name)["queue"].name == task.queue_name, name
        assert isinstance(task, PlatformTask), name
        assert task.retry_jitter and task.retry_backoff and task.acks_late, name


# A process that sends tasks by name without having imported them, as the web process does:
# every task is published with ``send_task`` to an in-memory broker, and the routing key of each
# message is reported.
SEND_BY_NAME = """
import json, sys
import django
django.setup()
from celery.signals import after_task_publish
from csplatform.celery import app
imported_before = sorted(m for m in sys.modules if m.startswith("workers."))
published = {}
after_task_publish.connect(lambda sender=None, routing_key=None, **kw: published.__setitem__(sender, routing_key),
                           weak=False)
for name in json.loads(sys.argv[1]):
    app.send_task(name, args=[0])
print(json.dumps({"imported_before": imported_before, "published": published}))
"""


def test_a_task_sent_by_name_reaches_the_queue_it_declares():
    app.loader.import_default_modules()
    declared = {n: t.queue_name for n, t in app.tasks.items() if not n.startswith("celery.")}
    env = {**os.environ, "CELERY_BROKER_URL": "memory://", "DJANGO_SETTINGS_MODULE": "csplatform.settings"}
    run = subprocess.run([sys.executable, "-c", SEND_BY_NAME, json.dumps(sorted(declared))], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120, check=True)
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["imported_before"] == []  # nothing had imported the task modules before sending
    assert report["published"] == declared
    assert set(declared.values()) == {"default", "gpu"}


def test_a_queue_declared_on_a_task_is_its_route_without_another_list():
    @app.task(name="tests.declared_on_gpu", queue_name="gpu", shared=False)
    def declared_on_gpu():
        return None

    try:
        assert app.amqp.router.route({}, "tests.declared_on_gpu")["queue"].name == "gpu"
        assert app.amqp.router.route({}, "tests.not_a_task")["queue"].name == "default"
    finally:
        app.tasks.unregister("tests.declared_on_gpu")
