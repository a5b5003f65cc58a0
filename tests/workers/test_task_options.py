"""The task options a killed worker relies on (the queue tests' watchdog would hide their loss)."""
import pytest

from csplatform.celery import app

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
    assert app.tasks[name].queue == queue
    assert app.amqp.router.route({}, name)["queue"].name == queue


def test_every_task_declares_its_queue_and_runs_on_the_base_class():
    from workers.base import PlatformTask

    app.loader.import_default_modules()
    ours = {n: t for n, t in app.tasks.items() if not n.startswith("celery.")}
    assert ours
    for name, task in ours.items():
        assert task.queue in ("default", "gpu"), name
        assert app.amqp.router.route({}, name)["queue"].name == task.queue, name
        assert isinstance(task, PlatformTask), name
        assert task.retry_jitter and task.retry_backoff and task.acks_late, name
