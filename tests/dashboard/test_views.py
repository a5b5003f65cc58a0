"""The console's pages: staff only, render real numbers, exports, review, models, jobs."""
import csv
import io
import json

import pytest
from django.urls import reverse

from apps.core.models import AuditEvent
from apps.dashboard.selectors_detail import CONVERSATION_EXPORT_HEADER
from apps.jobs.models import Job
from apps.registry.models import ModelVersion, Promotion
from apps.scoring.models import ReviewItem
from tests.dashboard.data import DAY1, DAY2
from tests.factories import MessageFactory

pytestmark = pytest.mark.django_db
RANGE = f"date_from={DAY1}&date_to={DAY2}"

PAGES = [
    ("dashboard:overview", []), ("dashboard:conversations", []), ("dashboard:review", []),
    ("dashboard:agreement", []), ("dashboard:models", []), ("dashboard:jobs", []),
]


@pytest.mark.parametrize("name,args", PAGES)
def test_sign_in_and_console_permission_required(client, django_user_model, name, args):
    url = reverse(name, args=args)
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))
    user = django_user_model.objects.create_user(username="plain", password="pw-123456!")
    client.force_login(user)
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("name,args", PAGES)
def test_pages_render_with_switcher_and_admin_links(staff_client, known, name, args):
    response = staff_client.get(reverse(name, args=args))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'action="/i18n/setlang/"' in html
    assert 'href="/admin/"' in html and 'href="/api/docs/"' in html
    assert "csrfmiddlewaretoken" in html
    assert "cdn" not in html.lower()


def test_overview_passes_chart_data_via_json_script(staff_client, known):
    response = staff_client.get(f"/dashboard/?{RANGE}")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="overview-data"' in html and "vendor/chartjs/chart.umd.min.js" in html
    data = response.context["chart_data"]
    assert data["daily_volume"] == [2, 3]
    assert dict(data["intents"])["投诉建议"] == 1
    assert "intent=" not in data["filter_query"] and "date_from=2026-03-02" in data["filter_query"]
    for canvas in ("chart-daily", "chart-sentiment-time", "chart-intents", "chart-sentiment", "chart-quality",
                   "chart-channels", "chart-agents"):
        assert f'id="{canvas}"' in html
    assert "<details>" in html  # accessible data tables under the charts


def test_overview_filters(staff_client, known):
    response = staff_client.get(f"/dashboard/?{RANGE}&channel=app&team=t1")
    assert response.context["kpis"]["total"] == 2
    bad = staff_client.get(f"/dashboard/?date_from={DAY2}&date_to={DAY1}")
    assert bad.status_code == 400  # invalid range: the page says what is wrong
    assert bad.context["form"].errors and 'role="alert"' in bad.content.decode()


def test_drilldown_list_and_detail(staff_client, known):
    c1, c2, c3, c4, c5 = known["conversations"]
    response = staff_client.get(f"/dashboard/conversations/?{RANGE}&intent=投诉建议")
    assert [c.pk for c in response.context["page"].object_list] == [c4.pk]
    response = staff_client.get(f"/dashboard/conversations/?date={DAY1}")
    assert {c.pk for c in response.context["page"].object_list} == {c1.pk, c2.pk}
    MessageFactory(conversation=c4, seq=1, speaker="customer", text="我的卡号是[CARD]，转账失败")
    detail = staff_client.get(f"/dashboard/conversations/{c4.pk}/")
    assert detail.status_code == 200
    assert "[CARD]" in detail.content.decode()
    assert staff_client.get("/dashboard/conversations/999999/").status_code == 404


def test_conversation_csv_export_streams_and_is_audited(staff_client, staff_user, known):
    response = staff_client.get(f"/dashboard/conversations/export.csv?{RANGE}")
    assert response.status_code == 200 and response.streaming
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    assert header[0] == "会话编号"  # headings in the page's language (Chinese by default)
    rows = [dict(zip(CONVERSATION_EXPORT_HEADER, r)) for r in reader]
    assert len(rows) == 5
    c4 = next(r for r in rows if r["external_id"] == known["conversations"][3].external_id)
    assert (c4["predicted_intent"], c4["reviewed_intent"], c4["intent"]) == ("转账汇款", "投诉建议", "投诉建议")
    event = AuditEvent.objects.get(action="export")
    assert event.actor == staff_user and event.data["what"] == "conversations"


def test_conversation_xlsx_export(staff_client, known):
    from openpyxl import load_workbook

    response = staff_client.get(f"/dashboard/conversations/export.xlsx?{RANGE}&channel=app")
    assert response.status_code == 200
    ws = load_workbook(io.BytesIO(response.content)).active
    rows = list(ws.values)
    assert rows[0][0] == "会话编号" and len(rows) == 3
    assert staff_client.get("/dashboard/conversations/export.pdf").status_code == 404


def test_agent_report_and_exports(staff_client, known):
    a1 = known["agents"][0]
    response = staff_client.get(f"/dashboard/agents/{a1.pk}/?{RANGE}")
    assert response.status_code == 200
    assert response.context["report"]["summary"]["volume"] == 2
    assert 'id="chart-agent-quality"' in response.content.decode()
    csv_response = staff_client.get(f"/dashboard/agents/{a1.pk}/export.csv?{RANGE}")
    text = b"".join(csv_response.streaming_content).decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0][:3] == ["日期", "会话量", "平均质量"] and lines[1][:2] == [str(DAY1), "2"]
    xlsx = staff_client.get(f"/dashboard/agents/{a1.pk}/export.xlsx?{RANGE}")
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    assert AuditEvent.objects.filter(action="export", target_id=str(a1.pk)).count() == 2
    assert staff_client.get("/dashboard/agents/999999/").status_code == 404


def test_review_flow_submit_moves_to_next_and_item_leaves_queue(staff_client, staff_user, known):
    c1, c2, *_ = known["conversations"]
    r1 = known["reviews"][0]
    pick = staff_client.post(f"/dashboard/conversations/{c2.pk}/review/", {"reason": "manual"})
    r2 = ReviewItem.objects.get(conversation=c2)
    assert pick.status_code == 302 and pick["Location"] == f"/dashboard/review/{r2.pk}/"
    assert staff_client.get("/dashboard/review/start/")["Location"] == f"/dashboard/review/{r1.pk}/"
    page = staff_client.get(f"/dashboard/review/{r1.pk}/")
    assert page.status_code == 200 and 'list="intent-options"' in page.content.decode()
    response = staff_client.post(f"/dashboard/review/{r1.pk}/",
                                 {"intent": "投诉建议", "sentiment": "negative", "quality": "1.5"})
    assert response.status_code == 302 and response["Location"] == f"/dashboard/review/{r2.pk}/"
    r1.refresh_from_db()
    assert (r1.status, r1.intent, r1.quality, r1.reviewer) == ("reviewed", "投诉建议", 1.5, staff_user)
    queue = staff_client.get("/dashboard/review/")
    assert [i.pk for i in queue.context["page"].object_list] == [r2.pk]
    # The correction wins in the overview straight away.
    overview = staff_client.get(f"/dashboard/?{RANGE}")
    assert dict(overview.context["data"]["intents"])["投诉建议"] == 2
    skip = staff_client.post(f"/dashboard/review/{r2.pk}/", {"action": "skip"})
    assert skip["Location"] == "/dashboard/review/"
    assert ReviewItem.objects.get(pk=r2.pk).status == "skipped"


def test_review_invalid_verdict_shows_errors(staff_client, known):
    r1 = known["reviews"][0]
    response = staff_client.post(f"/dashboard/review/{r1.pk}/", {"intent": "", "sentiment": "x", "quality": "9"})
    assert response.status_code == 400 and response.context["form"].errors
    r1.refresh_from_db()
    assert r1.status == "pending"


def test_agreement_page(staff_client, known):
    response = staff_client.get("/dashboard/review/agreement/?days=30")
    assert response.status_code == 200
    assert "kappa" in response.content.decode().lower() or "Kappa" in response.content.decode()


def _versions():
    v1 = ModelVersion.objects.create(task="intent", backend="linear", version=1, artifact_path="intent/v1",
                                     sha256="a" * 64, status="production", metrics={"macro_f1": 0.7})
    v2 = ModelVersion.objects.create(
        task="intent", backend="linear", version=2, artifact_path="intent/v2", sha256="b" * 64,
        metrics={"macro_f1": 0.8},
        comparison={"candidate": {"macro_f1": 0.8}, "production": {"macro_f1": 0.7}, "production_version": 1,
                    "reason": "better"},
    )
    return v1, v2


def test_models_page_promote_with_confirmation_then_rollback(manager_client, manager_user):
    staff_client, staff_user = manager_client, manager_user
    v1, v2 = _versions()
    page = staff_client.get("/dashboard/models/")
    assert page.status_code == 200
    rows = page.context["tasks"][0]["versions"]
    assert {r["metric"] for r in next(v for v in rows if v.pk == v2.pk).comparison_rows} == {"macro_f1"}
    confirm = staff_client.get(f"/dashboard/models/{v2.pk}/promote/")
    assert confirm.status_code == 200 and "csrfmiddlewaretoken" in confirm.content.decode()
    # Without the confirmation box nothing changes.
    staff_client.post(f"/dashboard/models/{v2.pk}/promote/", {"reason": "x"})
    v2.refresh_from_db()
    assert v2.status == "candidate"
    response = staff_client.post(f"/dashboard/models/{v2.pk}/promote/", {"reason": "better on held-out",
                                                                        "confirm": "on"})
    assert response.status_code == 302
    v1.refresh_from_db(), v2.refresh_from_db()
    assert (v1.status, v2.status, v2.promoted_by) == ("retired", "production", staff_user)
    assert AuditEvent.objects.filter(action="model.promote", target_id=str(v2.pk)).exists()
    staff_client.post("/dashboard/models/intent/rollback/", {"confirm": "on", "reason": "regression"})
    v1.refresh_from_db()
    assert v1.status == "production"
    assert Promotion.objects.filter(action="rollback", model_version=v1).exists()
    assert staff_client.get("/dashboard/models/nope/rollback/").status_code == 404


def test_confusion_matrix_only_from_model_store(staff_client, settings, tmp_path):
    settings.MODEL_STORE = tmp_path / "store"
    (tmp_path / "store" / "intent" / "v1").mkdir(parents=True)
    png = b"\x89PNG\r\n\x1a\nfake"
    (tmp_path / "store" / "intent" / "v1" / "confusion_matrix.png").write_bytes(png)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "confusion_matrix.png").write_bytes(png)
    inside = ModelVersion.objects.create(task="intent", backend="linear", version=1, sha256="a" * 64,
                                         artifact_path=str(tmp_path / "store" / "intent" / "v1"))
    relative = ModelVersion.objects.create(task="intent", backend="linear", version=2, sha256="a" * 64,
                                           artifact_path="intent/v1")
    escape = ModelVersion.objects.create(task="intent", backend="linear", version=3, sha256="a" * 64,
                                         artifact_path="../outside")
    absolute_out = ModelVersion.objects.create(task="intent", backend="linear", version=4, sha256="a" * 64,
                                               artifact_path=str(tmp_path / "outside"))
    for v in (inside, relative):
        response = staff_client.get(f"/dashboard/models/{v.pk}/confusion.png")
        assert response.status_code == 200 and b"".join(response.streaming_content) == png
    for v in (escape, absolute_out):
        assert staff_client.get(f"/dashboard/models/{v.pk}/confusion.png").status_code == 404


def test_jobs_page_starts_a_retraining_job_and_reports_status(manager_client, manager_user):
    staff_client, staff_user = manager_client, manager_user
    page = staff_client.get("/dashboard/jobs/")
    assert page.status_code == 200
    response = staff_client.post("/dashboard/jobs/", {"kind": "retrain", "task": "intent"})
    assert response.status_code == 302
    job = Job.objects.get(kind="retrain")
    assert job.params == {"tasks": ["intent"]} and job.created_by == staff_user
    Job.objects.filter(pk=job.pk).update(status="running", total=10, done=4, error="")
    status = staff_client.get(f"/dashboard/jobs/status.json?ids={job.pk}")
    payload = json.loads(status.content)
    assert payload["jobs"][0]["progress"] == 40.0 and payload["jobs"][0]["status"] == "running"
    assert staff_client.get("/dashboard/jobs/status.json?ids=a").status_code == 400
    detail = staff_client.get(f"/dashboard/jobs/{job.pk}/")
    assert detail.status_code == 200 and 'id="active-jobs"' in detail.content.decode()


def test_job_start_refusal_is_shown_not_raised(manager_client):
    staff_client = manager_client
    # No production models: scoring refuses (a service rule); the page says so.
    response = staff_client.post("/dashboard/jobs/", {"kind": "score", "only_unscored": "on"}, follow=True)
    assert response.status_code == 200
    assert not Job.objects.filter(kind="score").exists()
    assert list(response.context["messages"])


def test_post_without_csrf_token_is_refused(client, staff_user, known):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(staff_user)
    r1 = known["reviews"][0]
    response = csrf_client.post(f"/dashboard/review/{r1.pk}/", {"intent": "a", "sentiment": "neutral", "quality": 3})
    assert response.status_code == 403


def test_default_language_is_chinese_and_switcher_changes_it(staff_client, known):
    response = staff_client.get("/dashboard/")
    html = response.content.decode()
    assert '<html lang="zh-hans">' in html and "概览" in html and "意图分布" in html
    switched = staff_client.post("/i18n/setlang/", {"language": "en", "next": "/dashboard/"})
    assert switched.status_code == 302
    html = staff_client.get("/dashboard/").content.decode()
    assert '<html lang="en">' in html and "Intent distribution" in html


def test_admin_links_to_the_console(admin_user_client):
    html = admin_user_client.get("/admin/").content.decode()
    assert 'href="/dashboard/"' in html and 'action="/i18n/setlang/"' in html
