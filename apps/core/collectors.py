"""Scrape-time collectors for state that lives outside the web process.

``PlatformCollector`` exports:

* ``csp_queue_depth{queue}``: messages waiting in the Celery queues ``default`` and ``gpu``
  (Redis ``LLEN`` over the queue's priority lists when the broker is Redis; the message files
  of kombu's filesystem transport in the embedded setup; a passive ``queue_declare`` otherwise);
* ``csp_workers`` and ``csp_workers_by_queue{queue}``: Celery workers answering a broadcast
  within ``METRICS_CELERY_TIMEOUT`` seconds;
* ``csp_job_progress_ratio{job_id,kind}`` for running jobs and ``csp_jobs{status}`` counts;
* ``csp_collector_up{source}``: 1 when a source answered, 0 when it did not.

Probing the broker and the workers costs up to a second, so results are cached per process
for ``METRICS_CACHE_SECONDS`` (15 s by default). A failing source never fails the scrape.
"""
from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

from django.conf import settings
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from .cache import TTLCache

logger = logging.getLogger(__name__)

QUEUES = ("default", "gpu")
# kombu's Redis transport keeps one list per priority step: "<queue>" and "<queue>\x06\x16<n>".
REDIS_PRIORITY_SEP = "\x06\x16"
REDIS_PRIORITY_STEPS = (0, 3, 6, 9)
MAX_JOBS_EXPORTED = 200


def _broker_url() -> str:
    return str(settings.CELERY_BROKER_URL or "")


def queue_depths(queues: tuple[str, ...] = QUEUES) -> dict[str, int]:
    """Messages waiting per queue; raises when the broker cannot be read."""
    url = _broker_url()
    scheme = urlparse(url).scheme
    if scheme in ("redis", "rediss"):
        import redis

        client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        try:
            pipe = client.pipeline(transaction=False)
            for queue in queues:
                for step in REDIS_PRIORITY_STEPS:
                    pipe.llen(queue if step == 0 else f"{queue}{REDIS_PRIORITY_SEP}{step}")
            counts = pipe.execute()
        finally:
            client.close()
        n = len(REDIS_PRIORITY_STEPS)
        return {queue: int(sum(counts[i * n : (i + 1) * n])) for i, queue in enumerate(queues)}
    if scheme == "filesystem" or url.startswith("filesystem:"):
        options = settings.CELERY_BROKER_TRANSPORT_OPTIONS or {}
        folder = Path(options.get("data_folder_in", ""))
        depths = {}
        for queue in queues:
            depths[queue] = sum(1 for _ in folder.glob(f"*.{queue}.msg")) if folder.is_dir() else 0
        return depths
    from csplatform.celery import app as celery_app

    depths = {}
    with celery_app.connection_for_read() as conn:
        channel = conn.default_channel
        for queue in queues:
            try:
                depths[queue] = int(channel.queue_declare(queue=queue, passive=True).message_count)
            except Exception:  # the queue does not exist yet: nothing is waiting in it
                depths[queue] = 0
                channel = conn.channel()
    return depths


def worker_queues(timeout: float | None = None) -> dict[str, list[str]]:
    """``{worker name: [queue names]}`` for the workers that answered within ``timeout``."""
    from csplatform.celery import app as celery_app

    timeout = settings.METRICS_CELERY_TIMEOUT if timeout is None else timeout
    replies = celery_app.control.inspect(timeout=timeout).active_queues() or {}
    return {worker: [q.get("name", "") for q in (queues or [])] for worker, queues in replies.items()}


def running_jobs(limit: int = MAX_JOBS_EXPORTED) -> tuple[list[tuple[str, str, float]], dict[str, int]]:
    from django.apps import apps
    from django.db.models import Count

    Job = apps.get_model("jobs", "Job")  # core sits below every app: the model is looked up, not imported
    rows = (
        Job.objects.filter(status=Job.Status.RUNNING)
        .order_by("-id")
        .values_list("id", "kind", "total", "done", "failed")[:limit]
    )
    progress = [(str(pk), kind, min(1.0, (done + failed) / total) if total else 0.0) for pk, kind, total, done, failed in rows]
    counts = {status: 0 for status in Job.Status.values}
    for row in Job.objects.values("status").annotate(n=Count("id")).order_by():
        counts[row["status"]] = row["n"]
    return progress, counts


class PlatformCollector(Collector):
    def __init__(self, ttl: float | None = None, clock=time.monotonic):
        self.ttl = ttl
        self._lock = threading.Lock()  # one probe at a time
        self._cache = TTLCache(ttl=self._ttl, maxsize=1, timer=clock)

    def _ttl(self) -> float:
        return float(settings.METRICS_CACHE_SECONDS if self.ttl is None else self.ttl)

    def collect(self):
        with self._lock:
            return iter(list(self._cache.get_or_set("families", self._probe)))

    def describe(self):
        # An empty describe keeps registration from running the (slow) probe.
        return []

    def _probe(self) -> list:
        families = []
        up = GaugeMetricFamily("csp_collector_up", "1 when the collector could read the source.", labels=["source"])

        depth = GaugeMetricFamily("csp_queue_depth", "Messages waiting in a Celery queue.", labels=["queue"])
        try:
            for queue, n in queue_depths().items():
                depth.add_metric([queue], n)
            up.add_metric(["broker"], 1)
        except Exception as exc:
            logger.warning("metrics: cannot read queue depth: %s", type(exc).__name__)
            up.add_metric(["broker"], 0)
        families.append(depth)

        workers = GaugeMetricFamily("csp_workers", "Celery workers answering a ping.")
        by_queue = GaugeMetricFamily(
            "csp_workers_by_queue", "Celery workers answering a ping, by queue consumed.", labels=["queue"]
        )
        try:
            replies = worker_queues()
            workers.add_metric([], len(replies))
            for queue in sorted(set(QUEUES) | {q for qs in replies.values() for q in qs}):
                by_queue.add_metric([queue], sum(1 for qs in replies.values() if queue in qs))
            up.add_metric(["workers"], 1)
        except Exception as exc:
            logger.warning("metrics: cannot ping workers: %s", type(exc).__name__)
            up.add_metric(["workers"], 0)
        families += [workers, by_queue]

        progress = GaugeMetricFamily(
            "csp_job_progress_ratio", "Progress of running jobs (0-1).", labels=["job_id", "kind"]
        )
        jobs = GaugeMetricFamily("csp_jobs", "Jobs by status.", labels=["status"])
        try:
            rows, counts = running_jobs()
            for job_id, kind, ratio in rows:
                progress.add_metric([job_id, kind], ratio)
            for status, n in counts.items():
                jobs.add_metric([status], n)
            up.add_metric(["database"], 1)
        except Exception as exc:
            logger.warning("metrics: cannot read jobs: %s", type(exc).__name__)
            up.add_metric(["database"], 0)
        families += [progress, jobs, up]
        return families


_collector: PlatformCollector | None = None
_collector_lock = threading.Lock()


def platform_collector() -> PlatformCollector:
    """The process-wide collector (one cache per process)."""
    global _collector
    with _collector_lock:
        if _collector is None:
            _collector = PlatformCollector()
        return _collector
