"""/metrics: application metrics, scrape-time collectors, token protection, multiprocess mode."""
import base64
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from apps.core.collectors import PlatformCollector, queue_depths
from apps.core.metrics import PREDICTION_LATENCY, PREDICTIONS
from csplatform.celery import app as celery_app

REPO = Path(__file__).resolve().parents[2]


def samples(body: bytes) -> dict:
    """{(name, frozenset(labels)): value} for every sample in an exposition text."""
    out = {}
    for family in text_string_to_metric_families(body.decode()):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


@pytest.fixture
def public_metrics(settings):
    settings.METRICS_PUBLIC = True


@pytest.mark.django_db
def test_metrics_exports_request_prediction_and_state_metrics(client, public_metrics):
    PREDICTION_LATENCY.labels(model_versions="intent:7,sentiment:3", path="single").observe(0.004)
    PREDICTIONS.labels(task="intent", label="transfer", path="single").inc()
    client.get("/health")

    response = client.get("/metrics")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    got = samples(response.content)
    names = {name for name, _ in got}
    # django-prometheus request histograms and our own metrics
    assert "django_http_requests_latency_seconds_by_view_method_count" in names
    assert got[("csp_prediction_seconds_count", frozenset({("model_versions", "intent:7,sentiment:3"), ("path", "single")}))] >= 1
    assert got[("csp_predictions_total", frozenset({("task", "intent"), ("label", "transfer"), ("path", "single")}))] >= 1
    for queue in ("default", "gpu"):
        assert ("csp_queue_depth", frozenset({("queue", queue)})) in got
    assert ("csp_workers", frozenset()) in got
    assert got[("csp_collector_up", frozenset({("source", "database")}))] == 1


@pytest.mark.django_db
def test_metrics_token_requires_bearer_or_basic_password(client, settings):
    settings.METRICS_TOKEN = "s3cret-scrape-token"

    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-scrape-token").status_code == 200
    basic = base64.b64encode(b"prometheus:s3cret-scrape-token").decode()
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Basic {basic}").status_code == 200
    bad_basic = base64.b64encode(b"prometheus:nope").decode()
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Basic {bad_basic}").status_code == 401
    assert client.post("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-scrape-token").status_code == 405


@pytest.mark.django_db
def test_metrics_answers_without_allowed_host_and_https(client, settings):
    # Prometheus scrapes web:8000 by container name, over plain HTTP inside the network.
    settings.ALLOWED_HOSTS = ["example.com"]
    settings.SECURE_SSL_REDIRECT = True
    settings.METRICS_TOKEN = "scrape-token"
    response = client.get("/metrics", HTTP_HOST="web:8000", HTTP_AUTHORIZATION="Bearer scrape-token")
    assert response.status_code == 200


@pytest.mark.django_db
def test_metrics_need_a_token_or_a_staff_session_unless_public(client, settings, django_user_model):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 401  # no token configured: still closed
    user = django_user_model.objects.create_user(username="viewer", password="pw-123456!")
    client.force_login(user)
    assert client.get("/metrics").status_code == 401  # signed in, not staff
    user.is_staff = True
    user.save()
    assert client.get("/metrics").status_code == 200
    client.logout()
    settings.METRICS_PUBLIC = True
    assert client.get("/metrics").status_code == 200


def _purge(queue: str) -> None:
    with celery_app.connection_for_write() as conn:
        try:
            conn.default_channel.queue_purge(queue)
        except Exception:
            pass


@pytest.mark.django_db
def test_queue_depth_counts_messages_waiting_in_the_broker():
    queue = "gpu"
    _purge(queue)
    before = queue_depths()[queue]
    try:
        for _ in range(3):
            celery_app.send_task("ops.test_never_consumed", queue=queue)
        assert queue_depths()[queue] == before + 3
        family = {f.name: f for f in PlatformCollector(ttl=0).collect()}["csp_queue_depth"]
        assert {s.labels["queue"]: s.value for s in family.samples}[queue] == before + 3
    finally:
        _purge(queue)


@pytest.mark.django_db
def test_collector_caches_between_scrapes():
    now = [100.0]
    collector = PlatformCollector(ttl=15, clock=lambda: now[0])
    queue = "default"
    _purge(queue)
    try:
        first = {f.name: f for f in collector.collect()}["csp_queue_depth"]
        celery_app.send_task("ops.test_never_consumed", queue=queue)
        now[0] += 5  # within the cache window: same answer
        cached = {f.name: f for f in collector.collect()}["csp_queue_depth"]
        assert cached is first
        now[0] += 11  # past the window: probed again
        fresh = {f.name: f for f in collector.collect()}["csp_queue_depth"]
        assert {s.labels["queue"]: s.value for s in fresh.samples}[queue] == (
            {s.labels["queue"]: s.value for s in first.samples}[queue] + 1
        )
    finally:
        _purge(queue)


@pytest.mark.django_db
def test_job_progress_of_running_jobs_is_exported():
    from apps.jobs.models import Job

    running = Job.objects.create(kind="score", status=Job.Status.RUNNING, total=10, done=3, failed=1)
    Job.objects.create(kind="score", status=Job.Status.SUCCEEDED, total=5, done=5)

    families = {f.name: f for f in PlatformCollector(ttl=0).collect()}

    progress = {(s.labels["job_id"], s.labels["kind"]): s.value for s in families["csp_job_progress_ratio"].samples}
    assert progress == {(str(running.pk), "score"): pytest.approx(0.4)}
    jobs = {s.labels["status"]: s.value for s in families["csp_jobs"].samples}
    assert jobs["running"] == 1 and jobs["succeeded"] == 1


@pytest.mark.django_db
def test_worker_count_is_zero_without_workers_and_scrape_still_succeeds(settings):
    settings.METRICS_CELERY_TIMEOUT = 0.2
    families = {f.name: f for f in PlatformCollector(ttl=0).collect()}
    assert families["csp_workers"].samples[0].value == 0


def test_multiprocess_mode_sums_samples_of_all_processes(tmp_path):
    """Two 'gunicorn workers' record predictions; a third process renders the sum."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "csplatform.settings"}
    record = textwrap.dedent(
        """
        import django; django.setup()
        from apps.core.metrics import PREDICTIONS
        PREDICTIONS.labels(task="sentiment", label="negative", path="single").inc(2)
        """
    )
    for _ in range(2):
        subprocess.run([sys.executable, "-c", record], cwd=REPO, env=env, check=True, timeout=120)
    render = textwrap.dedent(
        """
        import django; django.setup()
        from prometheus_client import generate_latest
        from apps.core.metrics import metrics_registry
        print(generate_latest(metrics_registry()).decode())
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", render], cwd=REPO, env=env, check=True, timeout=120, capture_output=True, text=True
    ).stdout
    got = samples(out.encode())
    assert got[("csp_predictions_total", frozenset({("task", "sentiment"), ("label", "negative"), ("path", "single")}))] == 4


@pytest.mark.django_db
def test_request_metrics_count_every_request_per_status_view_and_method(client, public_metrics):
    """The cached-label middleware still counts each request in django-prometheus' series."""
    def count(name, **labels):
        return samples(client.get("/metrics").content).get((name, frozenset(labels.items())), 0)

    by_status = dict(status="401", view="v1:predict", method="POST")
    before = count("django_http_responses_total_by_status_view_method_total", **by_status)
    latency_before = count("django_http_requests_latency_seconds_by_view_method_count", view="v1:predict", method="POST")
    for _ in range(3):
        assert client.post("/api/v1/predict", {"text": "hi"}, content_type="application/json").status_code == 401
    assert count("django_http_responses_total_by_status_view_method_total", **by_status) == before + 3
    assert count("django_http_requests_latency_seconds_by_view_method_count",
                 view="v1:predict", method="POST") == latency_before + 3
    other = dict(status="200", view="health", method="GET")
    health_before = count("django_http_responses_total_by_status_view_method_total", **other)
    client.get("/health")
    assert count("django_http_responses_total_by_status_view_method_total", **other) == health_before + 1
