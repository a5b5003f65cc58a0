"""The console as a manager's daily tool: the fixed points, time controls, teams, operations
metrics and the permissions of the console's actions."""
import datetime as dt
import json

import pytest
from django.utils import timezone

from apps.jobs.models import Job
from apps.registry.models import ModelVersion, Promotion
from apps.scoring.models import ReviewItem
from tests.dashboard.data import DAY1, DAY2, at
from tests.factories import AgentFactory, ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db
RANGE = f"date_from={DAY1}&date_to={DAY2}"


# --- Filters and time controls ---------------------------------------------------------


@pytest.mark.parametrize("query,field", [
    ("date_from=garbage", "date_from"), ("quality=9", "quality"), ("period=yesterday", "period"),
    ("group=hour", "group"), ("channel=fax", "channel"),
])
def test_bad_filters_answer_400_and_name_the_field(staff_client, known, query, field):
    for url in ("/dashboard/conversations/", "/dashboard/"):
        if field == "quality" and url == "/dashboard/":
            continue
        response = staff_client.get(f"{url}?{query}")
        assert response.status_code == 400
        assert field in response.context["form"].errors
        assert 'role="alert"' in response.content.decode()
    export = staff_client.get(f"/dashboard/conversations/export.csv?{query}")
    assert export.status_code == 400 and field in json.loads(export.content)["errors"]


def test_period_presets_resolve_relative_to_today():
    from apps.dashboard.selectors import period_range

    today = dt.date(2026, 3, 5)  # a Thursday
    assert period_range("today", today=today) == (today, today)
    assert period_range("this_week", today=today) == (dt.date(2026, 3, 2), today)
    assert period_range("last_week", today=today) == (dt.date(2026, 2, 23), dt.date(2026, 3, 1))
    assert period_range("this_month", today=today) == (dt.date(2026, 3, 1), today)
    assert period_range("last_30_days", today=today) == (dt.date(2026, 2, 4), today)


def test_period_preset_sets_the_range(staff_client, known):
    response = staff_client.get("/dashboard/?period=today")
    assert response.status_code == 200
    f = response.context["filters"]
    assert f.date_from == f.date_to == timezone.localdate()


def test_kpis_carry_the_change_against_the_previous_period(staff_client, known):
    # DAY2 alone against DAY1 alone: 3 conversations against 2.
    response = staff_client.get(f"/dashboard/?date_from={DAY2}&date_to={DAY2}")
    changes = response.context["kpi_changes"]
    assert response.context["kpis"]["total"] == 3
    assert changes["total"] == {"previous": 2, "delta": 1}
    # Mean quality: DAY2 = (3.4 + 2.0 reviewed) / 2 = 2.7; DAY1 = (2.0 + 4.6) / 2 = 3.3.
    assert changes["mean_quality"]["delta"] == pytest.approx(-0.6)
    html = response.content.decode()
    assert "data-kpi=\"first_response_s\"" in html and "vs previous period" not in html  # Chinese page


def test_weekly_grouping_folds_days_into_weeks(staff_client, known):
    a = known["agents"][0]
    ConversationFactory(agent=a, started_at=at(DAY2 + dt.timedelta(days=7), 10), predicted_quality=4.0)
    response = staff_client.get(f"/dashboard/?date_from={DAY1}&date_to={DAY2 + dt.timedelta(days=7)}&group=week")
    data = response.context["chart_data"]
    assert data["days"] == [str(DAY1), str(DAY1 + dt.timedelta(days=7))]
    assert data["daily_volume"] == [5, 1]
    assert f"date_from={DAY1}&date_to={DAY1 + dt.timedelta(days=6)}" in data["bucket_queries"][0]
    monthly = staff_client.get(f"/dashboard/?{RANGE}&group=month").context["chart_data"]
    assert monthly["days"] == ["2026-03-01"] and monthly["daily_volume"] == [5]


def test_waiting_for_review_follows_the_filters(staff_client, known):
    # One pending item (c1, channel web, DAY1).
    assert staff_client.get(f"/dashboard/?{RANGE}").context["kpis"]["pending_review"] == 1
    assert staff_client.get(f"/dashboard/?{RANGE}&channel=app").context["kpis"]["pending_review"] == 0
    assert staff_client.get(f"/dashboard/?date_from={DAY2}&date_to={DAY2}").context["kpis"]["pending_review"] == 0


# --- Operations metrics -------------------------------------------------------------------


def _with_messages(agent, day, *, reply_after_s, handle_s, csat=None, channel="web"):
    """A conversation with timed messages and the features ingest derives from them."""
    from ml.features import conversation_features

    start = at(day, 9)
    messages = [
        {"speaker": "customer", "text": "你好", "sent_at": start},
        {"speaker": "agent", "text": "您好", "sent_at": start + dt.timedelta(seconds=reply_after_s)},
        {"speaker": "agent", "text": "请讲", "sent_at": start + dt.timedelta(seconds=reply_after_s + 50)},
    ]
    c = ConversationFactory(agent=agent, started_at=start, ended_at=start + dt.timedelta(seconds=handle_s),
                            csat=csat, channel=channel, predicted_quality=3.0, predicted_sentiment="neutral",
                            features=conversation_features(messages, channel=channel))
    for seq, m in enumerate(messages, start=1):
        MessageFactory(conversation=c, seq=seq, **m)
    return c


def test_operations_metrics_from_message_timestamps(staff_client, db):
    from apps.dashboard import selectors, selectors_teams

    a1, a2 = AgentFactory(team="ops"), AgentFactory(team="ops")
    b1 = AgentFactory(team="other")
    _with_messages(a1, DAY1, reply_after_s=30, handle_s=300, csat=5)
    _with_messages(a1, DAY1, reply_after_s=90, handle_s=500)
    _with_messages(a2, DAY2, reply_after_s=60, handle_s=600, csat=3, channel="app")
    _with_messages(b1, DAY2, reply_after_s=600, handle_s=1200)
    ConversationFactory(agent=b1, started_at=at(DAY2, 11), ended_at=None,  # no reply, no end: left out
                        features={"first_response_s": None})
    f = selectors.ConversationFilters(date_from=DAY1, date_to=DAY2)
    kpis = selectors.overview_data(f)["kpis"]
    assert kpis["first_response_s"] == pytest.approx((30 + 90 + 60 + 600) / 4)
    assert kpis["handle_time_s"] == pytest.approx((300 + 500 + 600 + 1200) / 4)
    assert kpis["csat_response_rate"] == pytest.approx(2 / 5)
    by_team = {r["key"]: r for r in selectors_teams.metrics_by(f, key="agent__team")}
    assert by_team["ops"]["first_response_s"] == pytest.approx(60.0)
    assert by_team["ops"]["handle_time_s"] == pytest.approx(1400 / 3, abs=0.1)
    by_channel = {r["key"]: r for r in selectors_teams.metrics_by(f, key="channel")}
    assert by_channel["app"]["first_response_s"] == pytest.approx(60.0)
    trend = selectors_teams.metrics_trend(f)
    assert [r["first_response_s"] for r in trend] == [pytest.approx(60.0), pytest.approx(330.0)]
    agents = {a["id"]: a for a in selectors.overview_data(f)["agents"]}
    assert agents[a1.id]["first_response_s"] == pytest.approx(60.0)
    assert agents[a1.id]["csat_response_rate"] == pytest.approx(0.5)


# --- Teams ------------------------------------------------------------------------------------


def test_team_pages_rank_teams_and_agents(staff_client, known):
    page = staff_client.get(f"/dashboard/teams/?{RANGE}")
    assert page.status_code == 200
    rows = page.context["rows"]
    # t1: Alice (2.0, 4.6) + Bob 3.4 -> 3.333; t2: Carol 2.0 (reviewed).
    assert [r["team"] for r in rows] == ["t1", "t2"]
    assert rows[0]["mean_quality"] == pytest.approx(3.333, abs=0.001)
    assert 'class="sortable"' in page.content.decode()
    team = staff_client.get(f"/dashboard/teams/t1/?{RANGE}&group=day")
    assert team.status_code == 200
    data = team.context["data"]
    assert [a["name"] for a in data["agents"]] == ["Bob", "Alice"]  # 3.4 against 3.3
    assert [r["total"] for r in data["trend"]] == [2, 1]
    assert staff_client.get("/dashboard/teams/nope/").status_code == 404


def test_agent_report_compares_with_the_chosen_team(staff_client, known):
    a1 = known["agents"][0]
    own = staff_client.get(f"/dashboard/agents/{a1.pk}/?{RANGE}").context["report"]
    assert own["team"] == "t1" and own["team_summary"]["volume"] == 3
    other = staff_client.get(f"/dashboard/agents/{a1.pk}/?{RANGE}&team=t2").context["report"]
    assert other["team"] == "t2" and other["team_summary"]["volume"] == 2
    assert "team=t2" in staff_client.get(f"/dashboard/agents/{a1.pk}/?{RANGE}&team=t2").context["filter_query"]


# --- Review, jobs, models ------------------------------------------------------------------


def test_confirming_a_review_keeps_the_predicted_quality(staff_client, db):
    c = ConversationFactory(predicted_intent="余额查询", predicted_sentiment="neutral", predicted_quality=2.865)
    item = ReviewItem.objects.create(conversation=c, reasons=["low_quality"])
    page = staff_client.get(f"/dashboard/review/{item.pk}/")
    assert 'value="2.865"' in page.content.decode() and 'step="any"' in page.content.decode()
    form = page.context["form"]
    staff_client.post(f"/dashboard/review/{item.pk}/", {k: form.initial[k] for k in ("intent", "sentiment", "quality")})
    item.refresh_from_db()
    assert item.status == "reviewed" and item.quality == 2.865


def test_job_status_json_gives_local_times(staff_client, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    finished = dt.datetime(2026, 3, 2, 1, 50, 28, tzinfo=dt.timezone.utc)
    job = Job.objects.create(kind="score", status="succeeded", params={"all": True}, finished_at=finished)
    payload = json.loads(staff_client.get(f"/dashboard/jobs/status.json?ids={job.pk}").content)
    assert payload["jobs"][0]["finished_local"] == "2026-03-02 09:50:28"


def test_jobs_list_hides_empty_assessment_scoring_and_says_what_a_job_covered(staff_client):
    assess = Job.objects.create(kind="assess", status="succeeded", params={"date": "2026-03-02"},
                                result={"flagged": 3, "per_agent": [{"agent": 1, "n": 2}]})
    Job.objects.create(kind="score", status="succeeded", params={"unscored": True, "then_assess_job": assess.pk})
    busy = Job.objects.create(kind="score", status="succeeded", total=5, done=5,
                              params={"unscored": True, "then_assess_job": assess.pk})
    page = staff_client.get("/dashboard/jobs/")
    assert [j.pk for j in page.context["jobs"]] == [busy.pk, assess.pk]
    html = page.content.decode()
    assert "2026-03-02" in html and 'data-kind="retrain"' not in html  # no start form without permission
    detail = staff_client.get(f"/dashboard/jobs/{assess.pk}/").content.decode()
    assert "{&#x27;" not in detail and "{'" not in detail and "per_agent[1].n" in detail


def test_models_page_counts_rollback_and_plain_reason(manager_client):
    v1 = ModelVersion.objects.create(
        task="intent", backend="linear", version=1, artifact_path="intent/v1", sha256="a" * 64, status="production",
        metrics={"macro_f1": 0.7, "n_train": 559.0, "train_seconds": 1.25},
        comparison={"reason": "promotion forced (bootstrap)", "candidate": {"macro_f1": 0.7}, "production": None},
    )
    Promotion.objects.create(task="intent", model_version=v1, action="promote", at=timezone.now(),
                             reason="retrain job 1: promotion forced (bootstrap)")
    page = manager_client.get("/dashboard/models/")
    html = page.content.decode()
    task = page.context["tasks"][0]
    assert not task["can_roll_back"] and "/dashboard/models/intent/rollback/" not in html
    assert "559.0000" not in html and "559" in html
    assert "promotion forced" not in html and "(linear," not in html
    assert task["production"].decision_text


# --- Permissions ----------------------------------------------------------------------------


def test_actions_need_permissions(staff_user, manager_user):
    from django.test import Client

    staff_client, manager_client = Client(), Client()
    staff_client.force_login(staff_user)
    manager_client.force_login(manager_user)
    v1 = ModelVersion.objects.create(task="intent", backend="linear", version=1, artifact_path="intent/v1",
                                     sha256="a" * 64, status="production")
    v2 = ModelVersion.objects.create(task="intent", backend="linear", version=2, artifact_path="intent/v2",
                                     sha256="b" * 64)
    Promotion.objects.create(task="intent", model_version=v1, action="promote", at=timezone.now())
    assert staff_client.get(f"/dashboard/models/{v2.pk}/promote/").status_code == 403
    assert staff_client.post(f"/dashboard/models/{v2.pk}/promote/", {"confirm": "on"}).status_code == 403
    assert staff_client.post("/dashboard/models/intent/rollback/", {"confirm": "on"}).status_code == 403
    assert staff_client.post("/dashboard/jobs/", {"kind": "retrain"}).status_code == 403
    assert staff_client.post("/dashboard/jobs/", {"kind": "score", "only_unscored": "on"}).status_code == 403
    v2.refresh_from_db()
    assert v2.status == "candidate" and not Job.objects.exists()
    page = staff_client.get("/dashboard/models/").content.decode()
    assert "data-promote" not in page
    assert 'id="job-form"' not in staff_client.get("/dashboard/jobs/").content.decode()
    # With the permissions the same user-facing buttons are there.
    assert "data-promote" in manager_client.get("/dashboard/models/").content.decode()
    assert 'id="job-form"' in manager_client.get("/dashboard/jobs/").content.decode()
    assert manager_client.get(f"/dashboard/models/{v2.pk}/promote/").status_code == 200


def test_team_and_agent_pages_show_qa_figures_from_the_qa_aggregates(staff_client, known):
    from apps.qa.models import QaDailyAgent, Scorecard, ScorecardVersion

    a1, a2, _a3 = known["agents"]
    version = ScorecardVersion.objects.create(scorecard=Scorecard.objects.create(name="card"), number=1)
    QaDailyAgent.objects.create(date=DAY1, agent=a1, team="t1", scorecard_version=version, n=2, score_sum=150.0,
                                auto_fails=1, criterion_pass={"greeting": [1, 2], "verify_identity": [2, 2]})
    QaDailyAgent.objects.create(date=DAY2, agent=a2, team="t1", scorecard_version=version, n=2, score_sum=190.0,
                                auto_fails=0, criterion_pass={"greeting": [2, 2]})
    team = staff_client.get(f"/dashboard/teams/t1/?{RANGE}").context["data"]
    assert team["qa"]["avg_score"] == pytest.approx(85.0) and team["qa"]["auto_fails"] == 1
    assert team["qa"]["worst_criteria"][0]["key"] == "greeting"
    report = staff_client.get(f"/dashboard/agents/{a1.pk}/?{RANGE}")
    assert report.context["report"]["qa"]["avg_score"] == pytest.approx(75.0)
    assert report.context["report"]["team_qa"]["n"] == 4
    assert 'id="agent-qa"' in report.content.decode()
    # No QA results in a range: no QA section.
    assert staff_client.get("/dashboard/teams/t1/?date_from=2025-01-01&date_to=2025-01-02").context["data"]["qa"] is None
