"""Regenerate deploy/grafana/dashboards/csplatform.json: ``python deploy/grafana/build_dashboard.py``.

The dashboard is data; this script keeps it consistent (ids, grid positions, datasource uid).
"""
import json
from pathlib import Path

DS = {"type": "prometheus", "uid": "csp-prometheus"}
OUT = Path(__file__).resolve().parent / "dashboards" / "csplatform.json"


def panel(pid, title, targets, x, y, w=12, h=8, unit="short", kind="timeseries", description="", **extra):
    p = {
        "id": pid,
        "type": kind,
        "title": title,
        "description": description,
        "datasource": DS,
        "gridPos": {"x": x, "y": y, "w": w, "h": h},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
                    "tooltip": {"mode": "multi", "sort": "desc"}},
        "targets": [
            {"refId": chr(ord("A") + i), "datasource": DS, "expr": expr, "legendFormat": legend}
            for i, (expr, legend) in enumerate(targets)
        ],
    }
    if kind in ("stat", "bargauge"):
        p["options"] = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                        "orientation": "horizontal"}
    p.update(extra)
    return p


def row(pid, title, y):
    return {"id": pid, "type": "row", "title": title, "collapsed": False, "gridPos": {"x": 0, "y": y, "w": 24, "h": 1},
            "panels": []}


LAT = "django_http_requests_latency_seconds_by_view_method_bucket"
panels = [
    row(1, "HTTP", 0),
    panel(2, "Request rate by method", [
        ("sum by (method) (rate(django_http_requests_total_by_method_total[$__rate_interval]))", "{{method}}"),
    ], 0, 1, unit="reqps"),
    panel(3, "Responses by status", [
        ("sum by (status) (rate(django_http_responses_total_by_status_total[$__rate_interval]))", "{{status}}"),
    ], 12, 1, unit="reqps"),
    panel(4, "Request latency (all views)", [
        (f"histogram_quantile(0.5, sum by (le) (rate({LAT}[$__rate_interval])))", "p50"),
        (f"histogram_quantile(0.9, sum by (le) (rate({LAT}[$__rate_interval])))", "p90"),
        (f"histogram_quantile(0.99, sum by (le) (rate({LAT}[$__rate_interval])))", "p99"),
    ], 0, 9, unit="s"),
    panel(5, "p99 latency by view", [
        (f"topk(10, histogram_quantile(0.99, sum by (le, view) (rate({LAT}[$__rate_interval]))))", "{{view}}"),
    ], 12, 9, unit="s"),
    row(6, "Predictions", 17),
    panel(7, "Predictions per model version", [
        ("sum by (model_versions) (rate(csp_prediction_seconds_count[$__rate_interval]))", "{{model_versions}}"),
    ], 0, 18, unit="reqps", description="Requests answered by /api/v1/predict[/batch], by production versions."),
    panel(8, "Prediction latency by model version", [
        ("histogram_quantile(0.5, sum by (le, model_versions) (rate(csp_prediction_seconds_bucket[$__rate_interval])))",
         "p50 {{model_versions}}"),
        ("histogram_quantile(0.99, sum by (le, model_versions) (rate(csp_prediction_seconds_bucket[$__rate_interval])))",
         "p99 {{model_versions}}"),
    ], 12, 18, unit="s"),
    panel(9, "Predicted intents", [
        ('sum by (label) (rate(csp_predictions_total{task="intent"}[$__rate_interval]))', "{{label}}"),
    ], 0, 26, unit="reqps"),
    panel(10, "Predicted sentiment", [
        ('sum by (label) (rate(csp_predictions_total{task="sentiment"}[$__rate_interval]))', "{{label}}"),
    ], 12, 26, unit="reqps"),
    row(11, "Queues, workers and jobs", 34),
    panel(12, "Queue depth", [("max by (queue) (csp_queue_depth)", "{{queue}}")], 0, 35, w=8,
          description="Messages waiting in the Celery queues (Redis LLEN), read at scrape time."),
    panel(13, "Workers", [
        ("max(csp_workers)", "all"),
        ("max by (queue) (csp_workers_by_queue)", "queue {{queue}}"),
    ], 8, 35, w=8, description="Celery workers answering a broadcast within 1 s."),
    panel(14, "Metrics sources up", [("min by (source) (csp_collector_up)", "{{source}}")], 16, 35, w=8,
          kind="stat"),
    panel(15, "Job progress", [("max by (job_id, kind) (csp_job_progress_ratio)", "#{{job_id}} {{kind}}")],
          0, 43, unit="percentunit", kind="bargauge",
          fieldConfig={"defaults": {"unit": "percentunit", "min": 0, "max": 1}, "overrides": []}),
    panel(16, "Jobs finished (1 h)", [
        ("sum by (kind, status) (increase(csp_jobs_finished_total[1h]))", "{{kind}} {{status}}"),
    ], 12, 43),
    panel(17, "Jobs by status", [("max by (status) (csp_jobs)", "{{status}}")], 0, 51, w=24, kind="stat"),
]

dashboard = {
    "uid": "csplatform-overview",
    "title": "CS platform overview",
    "tags": ["csplatform"],
    "timezone": "browser",
    "schemaVersion": 39,
    "version": 1,
    "editable": False,
    "refresh": "30s",
    "time": {"from": "now-6h", "to": "now"},
    "templating": {"list": []},
    "annotations": {"list": []},
    "panels": panels,
}

if __name__ == "__main__":
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(dashboard, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {OUT} ({len(panels)} panels)")
