"""Deployment files: compose structure, env example, Grafana dashboard, Dockerfile, gunicorn config.

``docker compose config`` validates the file where a compose client exists (CI); these tests
check what the platform needs from it everywhere, with PyYAML.
"""
import json
import re
import runpy
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / "deploy" / "env.example"
SECRET_NAMES = re.compile(r"(PASSWORD|SECRET|TOKEN|BASIC_AUTH)", re.I)


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def _command(service: dict) -> str:
    cmd = service.get("command", "")
    return " ".join(cmd) if isinstance(cmd, list) else str(cmd)


def test_compose_has_every_role(compose):
    services = compose["services"]
    for name in ("postgres", "redis", "web", "worker-gpu", "worker-cpu", "beat", "flower", "prometheus", "grafana"):
        assert name in services, name
    assert "gunicorn -c deploy/gunicorn.conf.py" in _command(services["web"])
    assert "worker -Q gpu -c 1" in _command(services["worker-gpu"])
    assert "worker -Q default" in _command(services["worker-cpu"])
    assert "beat -S django_celery_beat.schedulers:DatabaseScheduler" in _command(services["beat"])
    flower = _command(services["flower"])
    # Authentication required, read by Flower from its environment, never on its command line.
    assert "FLOWER_BASIC_AUTH:?" in flower and "--basic-auth" not in flower


def test_make_run_keeps_the_flower_password_off_the_command_line():
    run = (REPO / "Makefile").read_text().split("\nrun:", 1)[1].split("\n## ", 1)[0]
    assert "flower" in run and "--basic-auth" not in run and "export FLOWER_BASIC_AUTH" in run


def test_gpu_worker_reserves_one_nvidia_gpu(compose):
    devices = compose["services"]["worker-gpu"]["deploy"]["resources"]["reservations"]["devices"]
    assert devices == [{"driver": "nvidia", "count": 1, "capabilities": ["gpu"]}]


def test_every_service_has_a_health_check_and_reads_env_file(compose):
    for name, service in compose["services"].items():
        assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"
        assert service.get("env_file") == ".env", f"{name} does not read .env"


def test_monitoring_is_an_optional_profile(compose):
    services = compose["services"]
    assert services["prometheus"]["profiles"] == ["monitoring"]
    assert services["grafana"]["profiles"] == ["monitoring"]
    for name in ("web", "worker-gpu", "worker-cpu", "beat", "flower", "postgres", "redis"):
        assert "profiles" not in services[name]


def test_no_secret_values_in_compose_file(compose):
    def walk(node, path=""):
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(key, str) and SECRET_NAMES.search(key) and isinstance(value, (str, int)):
                    pytest.fail(f"secret-looking key {path}/{key} has a value in docker-compose.yml")
                walk(value, f"{path}/{key}")
        elif isinstance(node, list):
            for i, item in enumerate(node):
                assignment = re.match(r"^([A-Za-z_][A-Za-z0-9_]*)=(.+)$", item) if isinstance(item, str) else None
                if assignment and SECRET_NAMES.search(assignment.group(1)) and "$" not in assignment.group(2):
                    pytest.fail(f"secret-looking entry {path}[{i}] in docker-compose.yml")
                walk(item, f"{path}[{i}]")

    walk(compose)
    text = COMPOSE.read_text()
    assert "change-me" not in text
    assert not re.search(r"redis://:[^$@]+@", text) and not re.search(r"postgres://\w+:[^$@]+@", text)


def test_env_example_documents_every_variable_the_stack_reads(compose):
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", ENV_EXAMPLE.read_text(), re.M))
    # Variables compose substitutes or the containers' shell commands expand.
    used = set(re.findall(r"\$\$?\{([A-Z][A-Z0-9_]+)", COMPOSE.read_text()))
    # Variables Django reads (env("X"), env.int("X"), ...).
    settings_text = (REPO / "csplatform" / "settings.py").read_text()
    used |= set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z][A-Z0-9_]+)"', settings_text))
    used -= {"VAR_DIR", "DEBUG"}  # set by the compose file / image for every container
    missing = sorted(used - documented)
    assert not missing, f"deploy/env.example lacks {missing}"
    for required in ("SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "CELERY_BROKER_URL", "FLOWER_BASIC_AUTH",
                     "METRICS_TOKEN", "POSTGRES_PASSWORD", "REDIS_PASSWORD", "GF_SECURITY_ADMIN_PASSWORD"):
        assert required in documented, required


def test_grafana_dashboard_is_valid_and_covers_the_operators_questions():
    dashboard = json.loads((REPO / "deploy" / "grafana" / "dashboards" / "csplatform.json").read_text())
    exprs = " ".join(t["expr"] for p in dashboard["panels"] for t in p.get("targets", []))
    for needle in ("django_http_requests_total_by_method_total", "django_http_requests_latency_seconds_by_view_method_bucket",
                   "csp_queue_depth", "csp_job_progress_ratio", "csp_prediction_seconds_count",
                   "model_versions", "csp_workers", "csp_predictions_total"):
        assert needle in exprs, needle
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    datasource = yaml.safe_load((REPO / "deploy/grafana/provisioning/datasources/prometheus.yml").read_text())
    uid = datasource["datasources"][0]["uid"]
    assert all(p["datasource"]["uid"] == uid for p in dashboard["panels"] if "datasource" in p)
    # The committed JSON is what the generator writes.
    generated = runpy.run_path(str(REPO / "deploy" / "grafana" / "build_dashboard.py"))["dashboard"]
    assert generated == dashboard


def test_prometheus_scrapes_web_with_the_metrics_token():
    config = yaml.safe_load((REPO / "deploy" / "prometheus" / "prometheus.yml").read_text())
    web = next(job for job in config["scrape_configs"] if job["job_name"] == "csplatform-web")
    assert web["metrics_path"] == "/metrics"
    assert web["authorization"]["credentials_file"]
    assert "web:8000" in web["static_configs"][0]["targets"]


def test_dockerfile_is_multi_stage_non_root_with_health_check():
    text = (REPO / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM python:3\.11-slim|^FROM \$\{PYTHON_IMAGE\}", text, re.M)) == 2
    assert "ARG PYTHON_IMAGE=python:3.11-slim" in text
    assert re.search(r"^USER app$", text, re.M)
    assert "HEALTHCHECK" in text and "healthcheck.py" in text
    assert "collectstatic" in text
    assert "COPY --from=build /opt/venv /opt/venv" in text
    ignored = (REPO / ".dockerignore").read_text().split()
    for entry in (".env", ".venv", "var", ".git"):
        assert entry in ignored


def test_gunicorn_config_sets_up_multiprocess_metrics(tmp_path, monkeypatch):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    monkeypatch.delenv("_CSP_PROMETHEUS_DIR_RESET_BY", raising=False)
    monkeypatch.setenv("VAR_DIR", str(tmp_path))
    stale = tmp_path / "prometheus" / "counter_999.db"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"old")
    try:
        config = runpy.run_path(str(REPO / "deploy" / "gunicorn.conf.py"))
        assert config["PROMETHEUS_MULTIPROC_DIR"] == tmp_path / "prometheus"
        assert (tmp_path / "prometheus").is_dir() and not stale.exists()
        # A second read of the file by the same master (HUP) keeps the live files.
        live = tmp_path / "prometheus" / "counter_1000.db"
        live.write_bytes(b"live")
        runpy.run_path(str(REPO / "deploy" / "gunicorn.conf.py"))
        assert live.exists()
        assert config["workers"] >= 2 and callable(config["child_exit"])
    finally:
        import os

        os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
        os.environ.pop("_CSP_PROMETHEUS_DIR_RESET_BY", None)


@pytest.mark.skipif(
    not (shutil.which("docker-compose") or shutil.which("docker")), reason="no compose client installed"
)
def test_compose_config_validates_with_the_compose_client(tmp_path):
    # Validate a copy: a .env in the repository root would be read by every Django process there.
    shutil.copy(COMPOSE, tmp_path / "docker-compose.yml")
    shutil.copytree(REPO / "deploy", tmp_path / "deploy")
    shutil.copy(ENV_EXAMPLE, tmp_path / ".env")
    for cmd in (["docker", "compose"], ["docker-compose"]):
        if not shutil.which(cmd[0]):
            continue
        probe = subprocess.run([*cmd, "version"], capture_output=True, text=True)
        if probe.returncode != 0:
            continue
        result = subprocess.run(
            [*cmd, "--profile", "monitoring", "config", "-q"], cwd=tmp_path, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stderr
        return
    pytest.skip("no working compose client (docker compose plugin or docker-compose)")
