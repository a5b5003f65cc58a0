"""Application metrics exported at ``/metrics`` (prometheus_client, via django-prometheus).

Two kinds of metric live here:

* **Event metrics** (counters, histograms) observed by the code that does the work:
  ``PREDICTION_LATENCY`` (per production model versions), ``PREDICTIONS`` (by task and
  label: intent, sentiment), ``JOBS_FINISHED``. They are multiprocess-safe: under gunicorn
  ``PROMETHEUS_MULTIPROC_DIR`` is set (``deploy/gunicorn.conf.py``) before prometheus_client is
  imported, each worker process writes its samples to that directory and a scrape sums them.
* **State metrics** (``csp_queue_depth``, ``csp_workers``, ``csp_job_progress_ratio``) are read
  at scrape time by ``apps.core.collectors.PlatformCollector`` from Redis, Celery and the
  database, because the state belongs to other hosts (workers) and no web process could
  keep a gauge of it up to date.

``/metrics`` is answered by :class:`MetricsEndpointMiddleware` (first in ``MIDDLEWARE``) so
that a scrape needs no ``Host`` from ``ALLOWED_HOSTS`` and is never redirected to HTTPS. It
answers a request carrying ``METRICS_TOKEN`` (bearer token or HTTP basic auth password) or a
signed-in staff user's session, and 401 to anyone else unless ``METRICS_PUBLIC`` is on.
"""
from __future__ import annotations

import base64
import hmac
import os
import threading

from django.conf import settings
from django.http import HttpResponse
from django_prometheus.middleware import PrometheusAfterMiddleware
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client import multiprocess

# In multiprocess mode every process that imports this module writes value files; a missing
# directory (a management command run with the variable inherited) must not crash it.
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

PREDICTION_LATENCY = Histogram(
    "csp_prediction_seconds",
    "Time to predict one request (all tasks), by production model versions.",
    ["model_versions", "path"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
PREDICTIONS = Counter(
    "csp_predictions_total", "Predictions made, by task and predicted label.", ["task", "label", "path"]
)
JOBS_FINISHED = Counter("csp_jobs_finished_total", "Jobs finished, by kind and final status.", ["kind", "status"])

# State gauges. The exported series of these names come from PlatformCollector (see the
# module docstring); these objects are deliberately *not registered*, so code that still
# sets them keeps working without producing a second, stale copy of the series.
JOB_PROGRESS = Gauge("csp_job_progress_ratio", "Progress of running jobs (0-1).", ["job_id", "kind"], registry=None)
QUEUE_DEPTH = Gauge("csp_queue_depth", "Messages waiting in a Celery queue.", ["queue"], registry=None)
WORKERS = Gauge("csp_workers", "Celery workers answering a ping.", registry=None)

METRICS_PATH = "/metrics"
_register_lock = threading.Lock()
_registered_in_default = False


def multiprocess_enabled() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR") or os.environ.get("prometheus_multiproc_dir"))


def metrics_registry() -> CollectorRegistry:
    """The registry a scrape renders: the multiprocess view under gunicorn, else the default."""
    from .collectors import platform_collector

    if multiprocess_enabled():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        registry.register(platform_collector())
        return registry
    global _registered_in_default
    with _register_lock:
        if not _registered_in_default:
            REGISTRY.register(platform_collector())
            _registered_in_default = True
    return REGISTRY


def _staff_session(request) -> bool:
    """Whether the request's session cookie belongs to an active staff user (the middleware runs first)."""
    from importlib import import_module

    from django.contrib.auth import get_user

    session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if not session_key:
        return False
    request.session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    user = get_user(request)
    return bool(user.is_authenticated and user.is_active and user.is_staff)


def metrics_authorized(request) -> bool:
    """``METRICS_PUBLIC``, the ``METRICS_TOKEN`` (Bearer or Basic password), or a staff session."""
    if settings.METRICS_PUBLIC:
        return True
    return _token_offered(request) or _staff_session(request)


def _token_offered(request) -> bool:
    token = settings.METRICS_TOKEN or ""
    if not token:
        return False
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, value = header.partition(" ")
    scheme = scheme.lower()
    offered = ""
    if scheme == "bearer":
        offered = value.strip()
    elif scheme == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return False
        offered = decoded.partition(":")[2]
    return bool(offered) and hmac.compare_digest(offered.encode(), token.encode())


def metrics_view(request) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        return HttpResponse(status=405, headers={"Allow": "GET, HEAD"})
    if not metrics_authorized(request):
        response = HttpResponse("Authentication required.\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics", Basic realm="metrics"'
        return response
    response = HttpResponse(generate_latest(metrics_registry()), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response


class MetricsEndpointMiddleware:
    """Answer ``/metrics`` before the rest of the stack (host check, SSL redirect, sessions)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == METRICS_PATH:
            return metrics_view(request)
        return self.get_response(request)


class RequestMetricsMiddleware(PrometheusAfterMiddleware):
    """django-prometheus' request metrics, the same series, with each labelled child looked up once.

    ``metric.labels(...)`` validates and hashes its label values on every call (~5 µs, about nine
    times per request); the children are kept per (metric, label values) instead. Every label
    comes from a small set (method, status, view name, transport, charset, template name).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._children: dict = {}

    def label_metric(self, metric, request, response=None, **labels):
        if not labels:
            return metric
        key = (id(metric), *labels.items())
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(**labels)
        return child
