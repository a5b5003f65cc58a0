"""Application metrics exported at ``/metrics`` (prometheus_client, via django-prometheus).

Under gunicorn set ``PROMETHEUS_MULTIPROC_DIR`` so every worker process writes
to the shared directory (see docs/operations.md).
"""
from prometheus_client import Counter, Gauge, Histogram

PREDICTION_LATENCY = Histogram(
    "csp_prediction_seconds",
    "Time to predict one request (all tasks), by production model versions.",
    ["model_versions", "path"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
PREDICTIONS = Counter(
    "csp_predictions_total", "Predictions made, by task and predicted label.", ["task", "label", "path"]
)
JOB_PROGRESS = Gauge("csp_job_progress_ratio", "Progress of running jobs (0-1).", ["job_id", "kind"])
JOBS_FINISHED = Counter("csp_jobs_finished_total", "Jobs finished, by kind and final status.", ["kind", "status"])
QUEUE_DEPTH = Gauge("csp_queue_depth", "Messages waiting in a Celery queue.", ["queue"])
WORKERS = Gauge("csp_workers", "Celery workers answering a ping.")
