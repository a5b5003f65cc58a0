"""QA scorecards in a real browser: a reviewer overrides, an agent disputes, their team lead accepts.

Playwright drives Debian's Chromium against a live server; the data comes from the real services
(default scorecard seed, conversation ingest, QA scoring). Screenshots go to ``test-artifacts/e2e/``.
"""
import datetime as dt

import pytest
from django.utils import timezone

from tests.e2e.test_console_e2e import ARTIFACTS, PASSWORD, browser_page  # noqa: F401  (fixture)
from tests.qa.conftest import GOOD_ZH

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

OTHER_EN = [
    ("agent", "Good morning, my name is Anna from the card team."),
    ("customer", "I want to close my card."),
    ("agent", "Just to confirm, you'd like to close the card ending 1234?"),
    ("agent", "Is there anything else I can help you with?"),
]


def _conversation(external_id: str, agent: str, turns, language: str) -> dict:
    start = timezone.now() - dt.timedelta(hours=3)
    return {
        "external_id": external_id, "customer": f"cust-{external_id}", "agent": agent, "channel": "web",
        "language": language, "started_at": start, "ended_at": start + dt.timedelta(minutes=5),
        "messages": [{"seq": i + 1, "speaker": s, "text": t, "sent_at": start + dt.timedelta(seconds=10 * (i + 1))}
                     for i, (s, t) in enumerate(turns)],
    }


def _world(django_user_model):
    from django.contrib.auth.models import Group

    from apps.agents.models import Agent, TeamLead
    from apps.agents.services import agents_upsert
    from apps.conversations.services import conversations_upsert
    from apps.core.roles import Role, roles_setup
    from apps.qa.default_scorecard import seed_default_scorecard
    from apps.qa.models import QaResult
    from apps.qa.services import qa_results_upsert

    roles_setup()

    def user(name, role):
        u = django_user_model.objects.create_user(username=name, password=PASSWORD)
        u.groups.add(Group.objects.get(name=role))
        return u

    reviewer, lead = user("rev_li", Role.REVIEWER), user("lead_zhou", Role.TEAM_LEAD)
    mine_user, other_user = user("agent_wang", Role.AGENT), user("agent_zhang", Role.AGENT)
    seed_default_scorecard(actor=None)
    agents_upsert(items=[{"external_id": "A-WANG", "name": "王芳", "team": "北区"},
                         {"external_id": "A-ZHANG", "name": "张伟", "team": "南区"}])
    Agent.objects.filter(external_id="A-WANG").update(user=mine_user)
    Agent.objects.filter(external_id="A-ZHANG").update(user=other_user)
    TeamLead.objects.create(user=lead, team="北区")
    ingested = conversations_upsert(items=[_conversation("E2E-MINE", "A-WANG", GOOD_ZH, "zh"),
                                           _conversation("E2E-OTHER", "A-ZHANG", OTHER_EN, "en")])
    qa_results_upsert(conversation_ids=list(ingested.ids.values()))
    return {
        "reviewer": reviewer, "lead": lead, "agent": mine_user,
        "mine": QaResult.objects.get(conversation__external_id="E2E-MINE"),
        "other": QaResult.objects.get(conversation__external_id="E2E-OTHER"),
    }


def _sign_in(page, base, username, next_path):
    page.context.clear_cookies()
    page.goto(f"{base}{next_path}")
    assert "/dashboard/qa/login/" in page.url
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(f"{base}{next_path}")


def _badge_score(page) -> float:
    return float(page.locator("h1 .badge").first.inner_text())


def test_review_dispute_and_resolution_in_the_browser(live_server, browser_page, django_user_model):  # noqa: F811
    from apps.core.models import AuditEvent
    from apps.qa.models import CriterionAnswer, Dispute, QaResult

    page, errors = browser_page
    world = _world(django_user_model)
    base, mine, other = live_server.url, world["mine"], world["other"]
    auto = {a.criterion.key: a for a in mine.answers.select_related("criterion")}
    # The transcript follows every rule: every automatic answer is yes, the reviewer-only tone is open.
    assert {k: a.answer for k, a in auto.items() if k != "tone"} == {k: "yes" for k in auto if k != "tone"}
    assert auto["tone"].answer == "" and mine.score == 100.0 and not mine.auto_failed
    possible = sum(a.criterion.points for a in auto.values() if a.answer == "yes")
    greeting_points = auto["greeting"].criterion.points
    after_override = round(100.0 * (possible - greeting_points) / possible, 2)
    result_path = f"/dashboard/qa/results/{mine.pk}/"

    # 1. The reviewer opens the review screen: automatic answers with highlighted evidence (in Chinese).
    _sign_in(page, base, "rev_li", result_path)
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert _badge_score(page) == 100.0
    greeting = page.locator("#crit-greeting")
    assert "坐席是否在开场问候客户并自我介绍" in greeting.inner_text()
    assert "是" in greeting.locator("b.answer-yes").inner_text()
    marks = page.locator(".qa-transcript mark").all_inner_texts()
    assert any("您好" in m for m in marks) and any("我是客服" in m for m in marks), marks
    assert page.locator("#msg-1.has-evidence").count() == 1
    assert page.locator("#msg-1 .who").inner_text().startswith("#1 坐席")
    assert page.locator("ul.messages").count() == 0  # nothing but the page: no stray flash messages
    greeting.click()  # selecting a criterion focuses its evidence
    assert page.locator("#msg-1.focus-evidence").count() == 1
    page.screenshot(path=str(ARTIFACTS / "qa_01_review.png"), full_page=True)

    page.select_option("select[name=answer-greeting]", "no")
    page.fill("input[name=comment-greeting]", "没有报工号，开场不完整")
    page.click("#qa-review-submit")
    page.wait_for_url(f"{base}{result_path}")
    # Only the flash message shows above the page (never the transcript rows).
    assert page.locator("ul.messages li").all_inner_texts() == ["评分已保存，得分已重新计算。"]
    assert _badge_score(page) == after_override
    assert "没有报工号，开场不完整" in page.locator("#crit-greeting").inner_text()
    page.screenshot(path=str(ARTIFACTS / "qa_02_reviewed.png"), full_page=True)
    greeting_row = CriterionAnswer.objects.get(result=mine, criterion__key="greeting")
    assert (greeting_row.answer, greeting_row.auto_answer, greeting_row.source) == ("no", "yes", "reviewer")
    assert QaResult.objects.get(pk=mine.pk).score == after_override

    # 2. The agent sees only their own results; another agent's result is not found.
    _sign_in(page, base, "agent_wang", "/dashboard/qa/results/")
    listing = page.locator("main").inner_text() if page.locator("main").count() else page.inner_text("body")
    assert "E2E-MINE" in listing and "E2E-OTHER" not in listing
    page.screenshot(path=str(ARTIFACTS / "qa_03_agent_results.png"), full_page=True)
    response = page.goto(f"{base}/dashboard/qa/results/{other.pk}/")
    assert response.status in (403, 404)
    page.goto(f"{base}{result_path}")
    assert page.locator("select[name=answer-greeting]").count() == 0  # no grading for agents
    greeting = page.locator("#crit-greeting")
    greeting.locator("details summary").click()
    greeting.locator("select[name=proposed_answer]").select_option("yes")
    greeting.locator("textarea[name=comment]").fill("我在第一句就说了“我是客服小李”，请复核")
    greeting.locator("button[type=submit]").click()
    page.wait_for_url(f"{base}{result_path}")
    assert page.locator("ul.messages li").all_inner_texts() == ["您的申诉已提交给组长。"]
    assert page.locator("#crit-greeting .badge").filter(has_text="申诉").count() == 1
    page.screenshot(path=str(ARTIFACTS / "qa_04_dispute_opened.png"), full_page=True)
    dispute = Dispute.objects.get()
    assert (dispute.opened_by, dispute.status, dispute.proposed_answer) == (world["agent"], "open", "yes")

    # 3. Their team lead accepts the dispute; the score goes back up.
    _sign_in(page, base, "lead_zhou", "/dashboard/qa/disputes/")
    row = page.locator(f"#dispute-{dispute.pk}")
    assert "E2E-MINE" in row.inner_text() and "请复核" in row.inner_text()
    assert "坐席是否在开场问候客户并自我介绍" in row.inner_text() and "否 → 是" in row.inner_text()
    page.screenshot(path=str(ARTIFACTS / "qa_05_lead_disputes.png"), full_page=True)
    row.locator("input[name=resolution]").fill("听了录音，确有自我介绍")
    row.locator("button[value=accept]").click()
    page.wait_for_url(f"{base}/dashboard/qa/disputes/")
    assert page.locator("ul.messages li").all_inner_texts() == ["申诉已处理。"]
    assert page.locator(f"#dispute-{dispute.pk}").count() == 0  # no longer open
    page.goto(f"{base}{result_path}")
    assert _badge_score(page) == 100.0
    page.screenshot(path=str(ARTIFACTS / "qa_06_after_accept.png"), full_page=True)

    dispute.refresh_from_db()
    assert (dispute.status, dispute.resolved_by) == ("accepted", world["lead"])
    result = QaResult.objects.get(pk=mine.pk)
    assert result.score == 100.0 and result.answers.get(criterion__key="greeting").answer == "yes"

    events = {e.action: e for e in AuditEvent.objects.filter(action__startswith="qa.")}
    review = events["qa.review"]
    assert review.actor == world["reviewer"] and review.target_id == str(mine.pk)
    assert review.data["changes"] == [{"criterion": "greeting", "from": "yes", "to": "no"}]
    assert review.data["score_before"] == 100.0 and review.data["score_after"] == after_override
    opened = events["qa.dispute.open"]
    assert opened.actor == world["agent"] and opened.target_id == str(dispute.pk)
    accepted = events["qa.dispute.accepted"]
    assert accepted.actor == world["lead"] and accepted.target_id == str(dispute.pk)
    assert (accepted.data["score_before"], accepted.data["score_after"]) == (after_override, 100.0)
    assert errors == []
