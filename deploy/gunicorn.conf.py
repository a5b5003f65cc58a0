"""gunicorn settings for the web tier: ``gunicorn -c deploy/gunicorn.conf.py csplatform.wsgi``.

Every value can be overridden from the environment (``GUNICORN_*``), so one file serves the
container, the load test and a bare-metal host.

Metrics: each worker is a separate process, so prometheus_client runs in multiprocess mode.
``PROMETHEUS_MULTIPROC_DIR`` must be set *before* any process imports prometheus_client; this
file (read by the master first, before ``preload_app`` imports Django) sets it, empties the
directory once per master start and marks a worker's files dead when it exits (``child_exit``),
so gauges of dead workers vanish and counters of dead workers keep counting.
"""
import multiprocessing
import os
import shutil
from pathlib import Path

_var_dir = Path(os.environ.get("VAR_DIR", Path(__file__).resolve().parent.parent / "var"))
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(_var_dir / "prometheus"))
PROMETHEUS_MULTIPROC_DIR = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])


def _reset_multiproc_dir() -> None:
    """Empty the directory once per master: files of a previous run would add to this run's counters.

    Runs when the master reads this file, i.e. before ``preload_app`` imports the application
    (which already writes value files); a configuration reload (HUP) keeps the live files.
    """
    marker = "_CSP_PROMETHEUS_DIR_RESET_BY"
    if os.environ.get(marker) == str(os.getpid()):
        return
    shutil.rmtree(PROMETHEUS_MULTIPROC_DIR, ignore_errors=True)
    PROMETHEUS_MULTIPROC_DIR.mkdir(parents=True, exist_ok=True)
    os.environ[marker] = str(os.getpid())


_reset_multiproc_dir()

# One BLAS/OpenMP thread per worker process. The workers already fill the cores, extra threads
# only contend (a one-text prediction gains nothing from them), and GNU OpenMP is not
# fork-safe: a pool started in the master (preload) deadlocks the forked workers.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "TOKENIZERS_PARALLELISM"):
    os.environ.setdefault(_var, "false" if _var == "TOKENIZERS_PARALLELISM" else "1")

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# One process per core, each with a pool of threads (gthread). Predictions are CPU-bound, so
# threads do not add CPU; what they add is overlap: while one thread of a process predicts,
# the others parse, authenticate and queue their texts, and the predict view's micro-batcher
# (apps/scoring/api.py) then predicts all the queued texts in one model call. gthread also
# keeps HTTP connections alive (sync closes them after every request). The worker and thread
# counts were chosen with bench/load.sh (docs/benchmarks.md, "Real-time predict").
# Each thread may hold its own database connection (CONN_MAX_AGE): workers x threads per
# instance at most, although the predict path with a cached API key runs no SQL.
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count()))
threads = int(os.environ.get("GUNICORN_THREADS", 16))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync" if threads == 1 else "gthread")
# Load the app (and the production models) once in the master; workers fork from it.
preload_app = os.environ.get("GUNICORN_PRELOAD", "true").lower() in ("1", "true", "yes")
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 60))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", 30))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", 5))
# Recycle workers now and then so a slow leak cannot grow without bound (under full load, a
# restart every half hour or so).
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 500000))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", 50000))
backlog = int(os.environ.get("GUNICORN_BACKLOG", 2048))
# Request line/headers limits (the body limit is API_MAX_BODY_BYTES in Django).
limit_request_line = 8190
limit_request_fields = 100
# The X-Forwarded-* headers are trusted only from these addresses (the proxy in front).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-") or None
if accesslog in ("off", "none", ""):
    accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}o)s'
# Container friendly: heartbeat files in memory, not on an overlay filesystem.
worker_tmp_dir = os.environ.get("GUNICORN_WORKER_TMP_DIR", "/dev/shm" if os.path.isdir("/dev/shm") else None)


def on_starting(server):
    PROMETHEUS_MULTIPROC_DIR.mkdir(parents=True, exist_ok=True)


def when_ready(server):
    """Load the production models in the master, before the workers fork (``preload_app``).

    Workers then share the estimators copy-on-write instead of each spending seconds loading
    them on its first request (which, under load, shows up as a burst of timeouts).
    ``GUNICORN_WARM_MODELS=false`` turns it off.
    """
    if not preload_app or os.environ.get("GUNICORN_WARM_MODELS", "true").lower() not in ("1", "true", "yes"):
        return
    try:
        from apps.scoring import services
        from apps.scoring.services.suggestions import suggest

        samples = ["您好，我想查询一下账户余额", "I want to reset my online banking password."]
        results = services.predict_texts(texts=samples)
        # the suggestion rules and reply index are part of the predict answer too
        for text, result in zip(samples, results):
            suggest(intent=result["intent"], sentiment=result["sentiment"], quality=result["quality_score"],
                    text=text, language=None, k_replies=3)
        server.log.info("production models loaded in the master: %s", results[0].get("model_versions"))
    except Exception as exc:  # no model in production yet: workers load lazily later
        server.log.warning("models not preloaded (%s: %s)", type(exc).__name__, exc)
    finally:
        from django.db import connections

        connections.close_all()
        # Everything loaded so far (Django, the models) lives as long as the workers: move it
        # out of the collector's reach. Full collections no longer walk the models' objects
        # (pauses that showed as the p99 of the load test), and the pages the workers share
        # with the master stay shared (the collector writes to every object it visits).
        import gc

        gc.collect()
        gc.freeze()


def post_fork(server, worker):
    # Each worker opens its own database connections; never share the master's sockets.
    try:
        from django.db import connections

        for conn in connections.all(initialized_only=True):
            conn.close()
    except Exception:
        pass


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
