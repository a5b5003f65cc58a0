"""Container health checks: ``python deploy/healthcheck.py web|worker|beat|flower``.

Exit 0 when healthy, 1 otherwise (Docker's HEALTHCHECK contract). Standard library plus the
project's own Celery app; no curl in the image needed.

* web: ``GET /health`` (database and broker reachable) with a ``Host`` from ``ALLOWED_HOSTS``;
* worker: this container's Celery node answers a ping;
* beat: the database and the broker (what beat needs to send due tasks) answer;
* flower: ``GET /healthcheck`` (Flower leaves it outside basic auth).
"""
import os
import socket
import sys
import urllib.request


def _http_ok(url: str, host: str) -> bool:
    request = urllib.request.Request(url, headers={"Host": host, "X-Forwarded-Proto": "https"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 (local URL)
            return response.status == 200
    except Exception as exc:
        print(f"unhealthy: {exc}", file=sys.stderr)
        return False


def _first_allowed_host() -> str:
    for host in os.environ.get("ALLOWED_HOSTS", "localhost").split(","):
        host = host.strip().lstrip(".")
        if host and host != "*":
            return host
    return "localhost"


def web() -> bool:
    return _http_ok(f"http://127.0.0.1:{os.environ.get('PORT', '8000')}/health", _first_allowed_host())


def flower() -> bool:
    return _http_ok(f"http://127.0.0.1:{os.environ.get('FLOWER_PORT', '5555')}/healthcheck", "localhost")


def _django():
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csplatform.settings")
    import django

    django.setup()


def worker() -> bool:
    _django()
    from csplatform.celery import app

    # Workers are started with ``-n <prefix>@%h`` (gpu@..., cpu@...); %h is the container's hostname.
    node = os.environ.get("CELERY_NODE_NAME") or f"{os.environ.get('CELERY_NODE_PREFIX', 'celery')}@{socket.gethostname()}"
    replies = app.control.ping(destination=[node], timeout=5) or []
    if not replies:
        print(f"unhealthy: {node} did not answer a ping", file=sys.stderr)
    return bool(replies)


def beat() -> bool:
    _django()
    from django.db import connection

    from csplatform.celery import app

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=5)
    except Exception as exc:
        print(f"unhealthy: {type(exc).__name__}: {exc}", file=sys.stderr)
        return False
    return True


if __name__ == "__main__":
    checks = {"web": web, "worker": worker, "beat": beat, "flower": flower}
    role = sys.argv[1] if len(sys.argv) > 1 else "web"
    if role not in checks:
        sys.exit(f"usage: healthcheck.py {'|'.join(checks)}")
    sys.exit(0 if checks[role]() else 1)
