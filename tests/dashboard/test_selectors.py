import pytest

from apps.dashboard import selectors, selectors_detail
from apps.dashboard.selectors import ConversationFilters
from tests.dashboard.data import DAY1, DAY2

pytestmark = pytest.mark.django_db

RANGE = {"date_from": DAY1, "date_to": DAY2}


def test_overview_aggregates_on_known_data(known):
    data = selectors.overview_data(ConversationFilters(**RANGE))
    k = data["kpis"]
    assert k["total"] == 5  # the 40-day-old conversation is outside the range
    assert k["mean_quality"] == pytest.approx((2.0 + 4.6 + 3.4 + 2.0) / 4, abs=1e-3)  # c4 reviewed 1.2 -> 2.0
    assert k["negative_share"] == pytest.approx(0.5)
    assert k["resolution_rate"] == pytest.approx(0.75)
    assert k["mean_csat"] == pytest.approx((2 + 5 + 4) / 3, abs=1e-3)
    assert k["unscored"] == 1
    assert k["uncertain"] == 1
    assert k["pending_review"] == 1

    assert data["days"] == [DAY1.isoformat(), DAY2.isoformat()]
    assert data["daily_volume"] == [2, 3]
    assert data["daily_quality"] == [pytest.approx(3.3), pytest.approx(2.7)]
    assert data["sentiment"] == {"negative": 2, "neutral": 1, "positive": 1}
    assert data["sentiment_daily"]["negative"] == [1, 1]
    assert data["sentiment_daily"]["positive"] == [1, 0]
    # Reviewed intent wins: c4 counts as 投诉建议, not 转账汇款; the unscored c5 is left out.
    assert dict(data["intents"]) == {"余额查询": 2, "转账汇款": 1, "投诉建议": 1}
    assert data["intents"][0] == ("余额查询", 2)
    assert dict(data["channels"]) == {"web": 2, "app": 2, "phone": 1}
    # Bins: 2.0 -> 2, 4.6 -> 5, 3.4 -> 3, reviewed 2.0 -> 2.
    assert data["quality_hist"] == [0, 2, 1, 0, 1]


def test_heatmap_counts_local_weekday_and_hour(known):
    heat = selectors.overview_data(ConversationFilters(**RANGE))["heatmap"]
    assert heat[0][10] == 1 and heat[0][11] == 1  # Monday 10:30 and 11:00 (Asia/Shanghai)
    assert heat[1][15] == 2 and heat[1][16] == 1  # Tuesday
    assert sum(map(sum, heat)) == 5


def test_agent_performance_and_ranking(known):
    a1, a2, a3 = known["agents"]
    data = selectors.overview_data(ConversationFilters(**RANGE), ranking_min_volume=1)
    by_id = {a["id"]: a for a in data["agents"]}
    assert by_id[a1.id]["volume"] == 2
    assert by_id[a1.id]["mean_quality"] == pytest.approx(3.3)
    assert by_id[a1.id]["negative_share"] == pytest.approx(0.5)
    assert by_id[a1.id]["resolution_rate"] == pytest.approx(0.5)
    assert by_id[a3.id]["volume"] == 2
    assert by_id[a3.id]["mean_quality"] == pytest.approx(2.0)  # reviewed quality, c5 unscored
    assert by_id[a3.id]["negative_share"] == pytest.approx(1.0)
    assert [a["id"] for a in data["agent_ranking"]] == [a2.id, a1.id, a3.id]
    # The default threshold (5 conversations) leaves nobody in this small set.
    assert selectors.overview_data(ConversationFilters(**RANGE))["agent_ranking"] == []


@pytest.mark.parametrize("extra,total", [
    ({"channel": "app"}, 2),
    ({"team": "t2"}, 2),
    ({"intent": "投诉建议"}, 1),
    ({"intent": "转账汇款"}, 1),
    ({"channel": "web", "team": "t1"}, 1),
])
def test_filters(known, extra, total):
    assert selectors.overview_data(ConversationFilters(**RANGE, **extra))["kpis"]["total"] == total


def test_default_range_ends_at_newest_conversation(known):
    data = selectors.overview_data(ConversationFilters())
    assert data["filters"].date_to == DAY2
    assert data["filters"].date_from == DAY2 - __import__("datetime").timedelta(days=29)
    assert data["kpis"]["total"] == 5


def test_conversation_list_drilldown_uses_effective_labels(known):
    c1, c2, c3, c4, c5 = known["conversations"]
    rows = list(selectors_detail.conversation_list(ConversationFilters(**RANGE, intent="投诉建议")))
    assert [c.pk for c in rows] == [c4.pk]
    assert rows[0].effective_quality == pytest.approx(2.0)
    assert {c.pk for c in selectors_detail.conversation_list(ConversationFilters(**RANGE, quality=2))} == {c1.pk, c4.pk}
    assert {c.pk for c in selectors_detail.conversation_list(ConversationFilters(**RANGE, sentiment="negative"))} == {
        c1.pk, c4.pk}
    day2 = selectors_detail.conversation_list(ConversationFilters(date_from=DAY2, date_to=DAY2))
    assert [c.pk for c in day2] == [c5.pk, c4.pk, c3.pk]  # newest first
    assert {c.pk for c in selectors_detail.conversation_list(ConversationFilters(**RANGE, review_status="pending"))} == {
        c1.pk}


def test_agent_report_against_team(known):
    a1, a2, a3 = known["agents"]
    report = selectors_detail.agent_report(agent=a1, filters=ConversationFilters(**RANGE))
    assert report["summary"]["volume"] == 2
    assert report["summary"]["mean_quality"] == pytest.approx(3.3)
    assert report["summary"]["negative_share"] == pytest.approx(0.5)
    assert report["summary"]["resolution_rate"] == pytest.approx(0.5)
    assert report["summary"]["flagged"] == 1
    assert report["team_summary"]["volume"] == 3
    assert report["team_summary"]["mean_quality"] == pytest.approx((2.0 + 4.6 + 3.4) / 3, abs=1e-3)
    assert report["team_size"] == 2
    assert report["rank"] == 2 and report["ranked_agents"] == 2
    day1, day2 = report["daily"]
    assert day1["volume"] == 2 and day1["mean_quality"] == pytest.approx(3.3)
    assert day1["team_mean_quality"] == pytest.approx(3.3)
    assert day2["volume"] == 0 and day2["team_mean_quality"] == pytest.approx(3.4)
    assert [i.conversation_id for i in report["flagged"]] == [known["conversations"][0].pk]


def test_export_rows_join_everything(known):
    rows = list(selectors_detail.conversation_export_rows(ConversationFilters(**RANGE)))
    assert len(rows) == 5
    header = selectors_detail.CONVERSATION_EXPORT_HEADER
    c4 = known["conversations"][3]
    row = dict(zip(header, next(r for r in rows if r[0] == c4.external_id)))
    assert row["predicted_intent"] == "转账汇款"
    assert row["reviewed_intent"] == "投诉建议"
    assert row["intent"] == "投诉建议"
    assert row["quality"] == pytest.approx(2.0)
    assert row["agent_team"] == "t2"
    assert row["customer_id"] == c4.customer.external_id
