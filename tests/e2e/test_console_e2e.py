"""The console in a real browser: Playwright driving Debian's Chromium against a live server.

Skips only when the browser (or Playwright) is absent; CI installs ``chromium``.
Screenshots of every page go to ``test-artifacts/e2e/``.
"""
import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"
PASSWORD = "pw-e2e-123456!"

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _require_browser():
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium chromium-driver)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("the playwright Python package is not installed")


@pytest.fixture
def browser_page(monkeypatch):
    _require_browser()
    # Playwright's sync API runs an event loop; scoped to this test so it never leaks into subprocesses.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"],
        )
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
        page = context.new_page()
        page.set_default_timeout(20_000)
        errors = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        try:
            yield page, errors
        finally:
            context.close()
            browser.close()


def _seed():
    """A few weeks of conversations for three agents, plus flagged items and two model versions."""
    import datetime as dt
    import random

    from django.utils import timezone

    from apps.core.labels import INTENTS_ZH
    from apps.registry.models import ModelVersion
    from apps.scoring.models import ReviewItem
    from tests.factories import AgentFactory, ConversationFactory, MessageFactory

    rng = random.Random(0)
    agents = [AgentFactory(name=n, team=t) for n, t in [("王芳", "A组"), ("李强", "A组"), ("张伟", "B组")]]
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    convs = []
    for i in range(240):
        sentiment = rng.choice(["negative", "neutral", "neutral", "positive", "positive"])
        quality = {"negative": rng.uniform(1, 3.4), "neutral": rng.uniform(3, 4.5), "positive": rng.uniform(4, 5)}[
            sentiment]
        convs.append(ConversationFactory(
            agent=agents[i % 3], channel=rng.choice(["web", "app", "phone", "wechat"]),
            started_at=now - dt.timedelta(hours=rng.randint(1, 24 * 20)),
            predicted_intent=rng.choice(INTENTS_ZH[:8]), predicted_sentiment=sentiment,
            predicted_quality=round(quality, 2), resolved=rng.random() < 0.8, csat=rng.randint(1, 5),
        ))
    flagged = convs[0]
    flagged.predicted_sentiment, flagged.predicted_quality = "negative", 1.8
    flagged.save()
    MessageFactory(conversation=flagged, seq=1, speaker="customer", text="我的卡 [CARD] 转账失败了，电话 [PHONE]")
    MessageFactory(conversation=flagged, seq=2, speaker="agent", text="非常抱歉，我马上为您查询。")
    item = ReviewItem.objects.create(conversation=flagged, reasons=["negative_sentiment", "low_quality"])
    ModelVersion.objects.create(task="intent", backend="linear", version=1, artifact_path="intent/v1",
                                sha256="a" * 64, status="production", metrics={"macro_f1": 0.71})
    candidate = ModelVersion.objects.create(
        task="intent", backend="linear", version=2, artifact_path="intent/v2", sha256="b" * 64,
        metrics={"macro_f1": 0.78},
        comparison={"candidate": {"macro_f1": 0.78, "accuracy": 0.8}, "production": {"macro_f1": 0.71,
                    "accuracy": 0.75}, "production_version": 1, "reason": "better by 0.07"},
    )
    return {"agents": agents, "item": item, "candidate": candidate}


def _canvas_painted(page, canvas_id: str) -> dict:
    return page.evaluate(
        """(id) => {
            const c = document.getElementById(id);
            const blank = document.createElement('canvas');
            blank.width = c.width; blank.height = c.height;
            const chart = window.Chart && Chart.getChart(c);
            const points = chart ? chart.data.datasets.reduce((n, d) => n + d.data.filter(v => v).length, 0) : 0;
            return {painted: c.toDataURL().length, blank: blank.toDataURL().length, points: points,
                    width: c.width, height: c.height};
        }""",
        canvas_id,
    )


def test_console_end_to_end(live_server, browser_page, django_user_model):
    page, errors = browser_page
    data = _seed()
    from django.contrib.auth.models import Group

    from apps.core.roles import Role, roles_setup

    roles_setup()
    boss = django_user_model.objects.create_user(username="boss", password=PASSWORD, is_staff=True)
    boss.groups.add(Group.objects.get(name=Role.MANAGER))
    base = live_server.url

    # 1. Log in through the admin login form, landing on the console.
    page.goto(f"{base}/dashboard/")
    assert "/admin/login/" in page.url
    page.fill("#id_username", "boss")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/dashboard/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"  # default language

    # 2. The overview draws every chart with data.
    for canvas in ("chart-daily", "chart-sentiment-time", "chart-intents", "chart-sentiment", "chart-quality",
                   "chart-channels", "chart-agents"):
        page.wait_for_function("(id) => window.Chart && Chart.getChart(document.getElementById(id))", arg=canvas)
        state = _canvas_painted(page, canvas)
        assert state["width"] > 0 and state["height"] > 0, (canvas, state)
        assert state["points"] > 0, (canvas, state)
        assert state["painted"] > state["blank"] + 1000, (canvas, state)
    assert int(page.locator('[data-kpi="total"]').inner_text()) == 240
    assert page.locator("table.heatmap td").count() == 7 * 24
    page.screenshot(path=str(ARTIFACTS / "01_overview.png"), full_page=True)

    # Clicking a bar opens the matching conversations.
    page.locator("#chart-quality").scroll_into_view_if_needed()
    box = page.locator("#chart-quality").bounding_box()
    bar = page.evaluate("""() => { const ch = Chart.getChart(document.getElementById('chart-quality'));
        const d = ch.data.datasets[0].data; const i = d.indexOf(Math.max(...d));
        const el = ch.getDatasetMeta(0).data[i];
        return {x: el.x, y: (el.y + el.base) / 2, i: i}; }""")
    page.mouse.click(box["x"] + bar["x"], box["y"] + bar["y"])
    page.wait_for_url("**/dashboard/conversations/**")
    assert f"quality={bar['i'] + 1}" in page.url
    assert page.locator("table tbody tr").count() >= 1
    page.screenshot(path=str(ARTIFACTS / "02_conversations.png"), full_page=True)

    # 3. An agent report.
    agent = data["agents"][0]
    page.goto(f"{base}/dashboard/agents/{agent.pk}/")
    page.wait_for_function("() => window.Chart && Chart.getChart(document.getElementById('chart-agent-quality'))")
    state = _canvas_painted(page, "chart-agent-quality")
    assert state["points"] > 0 and state["painted"] > state["blank"] + 1000
    assert int(page.locator('[data-metric="volume"]').inner_text()) == 80
    page.screenshot(path=str(ARTIFACTS / "03_agent_report.png"), full_page=True)

    # 4. Correct the flagged conversation with the keyboard; it leaves the queue.
    item = data["item"]
    page.goto(f"{base}/dashboard/review/")
    assert page.locator(f'tr[data-item="{item.pk}"]').count() == 1
    page.screenshot(path=str(ARTIFACTS / "04_review_queue.png"), full_page=True)
    page.click("#start-review")
    page.wait_for_url(f"**/dashboard/review/{item.pk}/")
    assert "[CARD]" in page.inner_text(".transcript")
    page.fill("#id_intent", "投诉建议")
    page.locator("#id_intent").press("Escape")  # leave the text field: shortcuts apply again
    page.keyboard.press("1")  # sentiment: negative
    page.keyboard.press("Shift+Digit2")  # quality 2
    page.screenshot(path=str(ARTIFACTS / "05_review_item.png"), full_page=True)
    # The Enter hint on the blue button is readable (dark text on its white key cap).
    kbd = page.evaluate("""() => { const k = document.querySelector('#review-submit kbd');
        const s = getComputedStyle(k); return [s.color, s.backgroundColor]; }""")
    assert kbd[0] != kbd[1], kbd
    assert page.locator('input[name="sentiment"][value="negative"]').is_checked()
    assert page.input_value("#id_quality") == "2"
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/dashboard/review/")
    assert page.locator(f'tr[data-item="{item.pk}"]').count() == 0
    item.refresh_from_db()
    assert (item.status, item.intent, item.sentiment, item.quality) == ("reviewed", "投诉建议", "negative", 2.0)
    page.screenshot(path=str(ARTIFACTS / "06_review_done.png"), full_page=True)
    page.goto(f"{base}/dashboard/review/agreement/")
    page.screenshot(path=str(ARTIFACTS / "07_agreement.png"), full_page=True)

    # 5. Promote a model version through the confirmation step (the real service runs).
    candidate = data["candidate"]
    page.goto(f"{base}/dashboard/models/")
    page.screenshot(path=str(ARTIFACTS / "08_models.png"), full_page=True)
    page.click(f'[data-promote="{candidate.pk}"]')
    page.wait_for_url(f"**/dashboard/models/{candidate.pk}/promote/")
    page.fill("#id_reason", "better on held-out")
    page.check("#id_confirm")
    page.screenshot(path=str(ARTIFACTS / "09_promote_confirm.png"), full_page=True)
    page.click("#confirm-button")
    page.wait_for_url(f"{base}/dashboard/models/")
    candidate.refresh_from_db()
    assert candidate.status == "production"
    assert page.locator(f'tr[data-version="{candidate.pk}"] .badge.production').count() == 1

    # 6. Jobs page: the start form shows the fields of the chosen kind only.
    page.goto(f"{base}/dashboard/jobs/")
    page.select_option("#id_kind", "assess")
    assert page.locator("#id_date").is_visible() and not page.locator("#id_task").is_visible()
    page.select_option("#id_kind", "retrain")
    assert page.locator("#id_task").is_visible() and not page.locator("#id_date").is_visible()
    page.screenshot(path=str(ARTIFACTS / "10_jobs.png"), full_page=True)

    # 7. Teams: the leaderboard sorts by a clicked column; a bad filter is named, with a 400.
    page.goto(f"{base}/dashboard/teams/")
    page.click("#team-leaderboard thead th:nth-child(3)")  # volume, ascending
    volumes = [int(t) for t in page.locator("#team-leaderboard tbody td:nth-child(3)").all_inner_texts()]
    assert volumes == sorted(volumes) and len(volumes) == 2
    page.screenshot(path=str(ARTIFACTS / "12_teams.png"), full_page=True)
    response = page.goto(f"{base}/dashboard/conversations/?quality=9")
    assert response.status == 400 and page.locator(".filter-errors").is_visible()

    # 8. At phone width the ranking's names stay on one line (the table scrolls instead).
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}/dashboard/")
    heights = page.evaluate("""() => [...document.querySelectorAll('table.agents td.name a')]
        .map(a => a.getClientRects().length)""")
    assert heights and max(heights) == 1, heights
    page.screenshot(path=str(ARTIFACTS / "13_overview_phone.png"), full_page=True)
    page.set_viewport_size({"width": 1400, "height": 1000})

    # 9. Jobs page in English.
    page.goto(f"{base}/dashboard/jobs/")
    page.select_option("#lang-select", "en")
    page.wait_for_load_state("load")
    page.wait_for_function("() => document.documentElement.lang === 'en'")
    assert "Jobs" in page.inner_text("h1")
    page.screenshot(path=str(ARTIFACTS / "11_jobs_en.png"), full_page=True)
    assert not errors, errors
