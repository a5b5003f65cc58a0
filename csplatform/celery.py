"""The Celery app: queues, routes and defaults.

Queue ``gpu`` carries inference and training (run one worker process per GPU),
queue ``default`` carries orchestration, aggregation, webhooks and housekeeping. Each task
declares its queue (``queue_name=`` on the task, see ``workers.base``), and that declaration is
the only list: ``task_routes`` is a router that reads it, importing the task modules first in a
process that sends tasks by name without having imported them (``apps/`` dispatches with
``send_task``; beat; ``celery call``). Settings with the ``CELERY_`` prefix in
``csplatform/settings.py`` configure the rest; the beat entries are defined in ``settings.BEAT_SCHEDULE`` and live in the database
(django-celery-beat) so managers can edit them in the admin.
"""
import importlib
import os
import pkgutil

import django
from celery import Celery
from django.apps import apps
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csplatform.settings")



class DjangoCelery(Celery):
    """The Celery app; sets Django up before it loads the result backend.

    The backend (django-celery-results) imports models. A worker's Django fixup sets Django
    up before that, but a command such as ``celery -A csplatform call jobs.watchdog`` loads the
    backend first.
    """

    def _get_backend(self):
        if not apps.ready:
            django.setup()
        return super()._get_backend()


app = DjangoCelery("csplatform")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = (Queue("default"), Queue("gpu"))


def route_to_declared_queue(name, args, kwargs, options, task=None, **kw):
    """The queue the task ``name`` declares; None (the default queue) for a task not defined here.

    A queue named when sending (``apply_async(queue=...)``) still wins.
    """
    if task is None:
        if name not in app.tasks:
            for module in app.conf.imports:  # a sender that never imported the task modules
                importlib.import_module(module)
        task = app.tasks.get(name)
    queue = getattr(task, "queue_name", None)
    return {"queue": queue} if queue else None


app.conf.task_routes = (route_to_declared_queue,)



# Every module in workers/ holds tasks; import them all when the worker starts.
import workers  # noqa: E402

app.conf.imports = tuple(f"workers.{m.name}" for m in pkgutil.iter_modules(workers.__path__))
