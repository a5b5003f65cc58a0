"""The overview shows the QA programme of its range: mean score, auto-fails, the daily trend and
the criteria failed most, read from the nightly QA aggregates."""
import pytest
from django.urls import reverse
from django.utils import timezone

from apps.qa.assessment import qa_assessment_run
from apps.qa.default_scorecard import seed_default_scorecard
from apps.qa.models import QaResult
from tests.factories import AgentFactory, ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db


def _conversation(agent, at, agent_lines):
    conversation = ConversationFactory(agent=agent, started_at=at, ended_at=at)
    MessageFactory(conversation=conversation, seq=1, speaker="customer", text="我想查一下余额", sent_at=at)
    for seq, line in enumerate(agent_lines, start=2):
        MessageFactory(conversation=conversation, seq=seq, speaker="agent", text=line, sent_at=at)
    return conversation


def test_overview_shows_qa_score_trend_and_failed_criteria(staff_client):
    seed_default_scorecard(actor=None)
    agent = AgentFactory(name="王芳", team="一组")
    day = timezone.localdate() - timezone.timedelta(days=1)
    at = timezone.make_aware(timezone.datetime.combine(day, timezone.datetime.min.time())) + timezone.timedelta(hours=10)
    _conversation(agent, at, ["您好，我是客服小王，很高兴为您服务。", "请问还有其他可以帮您的吗？"])
    _conversation(agent, at, ["请把您的密码告诉我。"])
    qa_assessment_run(date=day)
    results = list(QaResult.objects.order_by("score"))
    assert len(results) == 2

    page = staff_client.get(reverse("dashboard:overview"), {"date_from": day.isoformat(), "date_to": day.isoformat()})

    assert page.status_code == 200
    qa = page.context["qa"]
    assert qa["n"] == 2 and qa["auto_fails"] == sum(r.auto_failed for r in results) >= 1
    assert qa["avg_score"] == pytest.approx(sum(r.score for r in results) / 2, abs=0.01)
    assert [r["date"] for r in page.context["qa_days"]] == [day]
    html = page.content.decode()
    assert 'id="overview-qa"' in html and qa["worst_criteria"] and qa["worst_criteria"][0]["key"] in html


def test_agent_export_has_the_daily_qa_score(staff_client):
    import csv
    import io

    seed_default_scorecard(actor=None)
    agent = AgentFactory(name="王芳", team="一组")
    day = timezone.localdate() - timezone.timedelta(days=1)
    at = timezone.make_aware(timezone.datetime.combine(day, timezone.datetime.min.time())) + timezone.timedelta(hours=10)
    _conversation(agent, at, ["请把您的密码告诉我。"])
    qa_assessment_run(date=day)
    result = QaResult.objects.get()

    response = staff_client.get(reverse("dashboard:agent_export", args=[agent.pk, "csv"]),
                                {"date_from": day.isoformat(), "date_to": day.isoformat()})

    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    header, (row,) = rows[0], rows[1:]
    record = dict(zip(header, row))
    assert float(record["平均质检得分"]) == pytest.approx(result.score)  # headings in the default language
    assert int(record["质检一票否决"]) == int(result.auto_failed)
