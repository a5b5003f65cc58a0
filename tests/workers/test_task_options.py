"""The task options a killed worker relies on (the queue tests' watchdog would hide their loss)."""
import pytest

from csplatform.celery import app

SURVIVES_A_KILL = ["scoring.score_job", "scoring.score_chunk", "scoring.assess_aggregate",
                   "registry.train_candidate", "webhooks.deliver"]


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
])
def test_tasks_are_routed_by_name_to_their_queue(name, queue):
    """Routing lives in ``task_routes`` alone (a task's own ``queue`` attribute is deprecated in Celery 5)."""
    app.loader.import_default_modules()
    assert getattr(app.tasks[name], "queue", None) is None
    assert app.amqp.router.route({}, name)["queue"].name == queue
