"""Suggestion rules: matching by intent, sentiment and quality; order, limit, language, cache."""
import pytest

from apps.core.labels import INTENT_ZH_TO_EN, INTENTS_ZH
from apps.scoring.models import SuggestionRule
from apps.scoring.services.suggestions import MAX_SUGGESTIONS, suggest, suggestion_rules_invalidate, suggestion_texts

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_rules():
    """Start from an empty rule table (the seed migration filled it)."""
    SuggestionRule.objects.all().delete()
    suggestion_rules_invalidate()
    yield
    suggestion_rules_invalidate()


def rule(text, **fields):
    obj = SuggestionRule.objects.create(text_zh=f"{text}-zh", text_en=f"{text}-en", **fields)
    suggestion_rules_invalidate()
    return obj


def texts(intent="", sentiment="", quality=None, language="en"):
    return suggestion_texts(intent=intent, sentiment=sentiment, quality=quality, language=language)


def test_rules_match_by_intent(no_rules):
    rule("complaint", intent="投诉建议")
    rule("balance", intent="余额查询")
    rule("any")
    assert texts(intent="投诉建议") == ["complaint-en", "any-en"]
    assert texts(intent="余额查询") == ["balance-en", "any-en"]
    assert texts(intent="其他咨询") == ["any-en"]


def test_english_intent_names_match_the_chinese_rules(no_rules):
    rule("complaint", intent="投诉建议")
    assert texts(intent="complaint") == ["complaint-en"]
    assert texts(intent=INTENT_ZH_TO_EN["投诉建议"], language="zh") == ["complaint-zh"]


def test_rules_match_by_sentiment(no_rules):
    rule("sorry", sentiment="negative")
    rule("thanks", sentiment="positive")
    assert texts(sentiment="negative") == ["sorry-en"]
    assert texts(sentiment="positive") == ["thanks-en"]
    assert texts(sentiment="neutral") == []
    assert texts(sentiment="负面") == ["sorry-en"]  # the CRM's spelling


def test_quality_bounds_are_half_open(no_rules):
    rule("human", max_quality=3.0)
    rule("middle", min_quality=3.0, max_quality=4.0)
    rule("auto", min_quality=4.0)
    assert texts(quality=1.0) == ["human-en"]
    assert texts(quality=2.99) == ["human-en"]
    assert texts(quality=3.0) == ["middle-en"]
    assert texts(quality=3.99) == ["middle-en"]
    assert texts(quality=4.0) == ["auto-en"]
    assert texts(quality=5.0) == ["auto-en"]
    assert texts(quality=None) == []  # a bounded rule never matches an unknown quality


def test_all_conditions_must_hold(no_rules):
    rule("angry complaint, poor handling", intent="投诉建议", sentiment="negative", max_quality=3.0)
    assert texts(intent="投诉建议", sentiment="negative", quality=2.0) == ["angry complaint, poor handling-en"]
    assert texts(intent="投诉建议", sentiment="negative", quality=3.5) == []
    assert texts(intent="投诉建议", sentiment="neutral", quality=2.0) == []
    assert texts(intent="余额查询", sentiment="negative", quality=2.0) == []


def test_inactive_rules_are_ignored(no_rules):
    rule("off", active=False)
    rule("on")
    assert texts() == ["on-en"]


def test_priority_order_limit_and_dedup(no_rules):
    for priority in (70, 10, 50, 30, 60, 20, 40):
        rule(f"p{priority}", priority=priority)
    SuggestionRule.objects.create(text_zh="p10-zh", text_en="p10-en", priority=15)  # same text again
    suggestion_rules_invalidate()
    out = texts()
    assert len(out) == MAX_SUGGESTIONS
    assert out == ["p10-en", "p20-en", "p30-en", "p40-en", "p50-en"]


def test_language_picks_the_text(no_rules):
    rule("hello")
    assert texts(language="zh") == ["hello-zh"]
    assert texts(language="zh-CN") == ["hello-zh"]
    assert texts(language="en") == ["hello-en"]


def test_rule_changes_show_after_invalidation(no_rules):
    obj = rule("before")
    assert texts() == ["before-en"]
    obj.text_en = "after-en"
    obj.save()
    suggestion_rules_invalidate()
    assert texts() == ["after-en"]


def test_admin_save_invalidates_the_cache(no_rules, rf, admin_user):
    from django.contrib import admin

    import apps.scoring.suggestions_admin  # noqa: F401 - registers the admin
    from apps.scoring.suggestions_admin import SuggestionRuleForm

    obj = rule("old")
    assert texts() == ["old-en"]
    model_admin = admin.site._registry[SuggestionRule]
    form = SuggestionRuleForm(
        data={"intent": "", "sentiment": "", "text_zh": "新", "text_en": "new", "priority": 1, "active": True},
        instance=obj,
    )
    assert form.is_valid(), form.errors
    request = rf.post("/")
    request.user = admin_user
    model_admin.save_model(request, form.save(commit=False), form, change=True)
    assert texts() == ["new"]


def test_admin_form_rejects_inverted_bounds(no_rules):
    from apps.scoring.suggestions_admin import SuggestionRuleForm

    form = SuggestionRuleForm(data={"text_zh": "x", "text_en": "x", "priority": 1, "active": True,
                                    "min_quality": 4, "max_quality": 3})
    assert not form.is_valid()
    assert "max_quality" in form.errors


def test_seeded_rules_cover_the_demo_intents_and_the_original_rules():
    suggestion_rules_invalidate()
    intents = set(SuggestionRule.objects.filter(active=True).values_list("intent", flat=True))
    assert set(INTENTS_ZH) <= intents
    complaint = suggest(intent="投诉建议", sentiment="negative", quality=2.0, text="", language="zh")["suggestions"]
    assert len(complaint) == MAX_SUGGESTIONS
    assert complaint[0].startswith("质量评分低于3分")  # quality below 3 -> human first
    assert any("致歉" in t for t in complaint)
    assert any("投诉" in t for t in complaint)
    happy = suggest(intent="balance_inquiry", sentiment="positive", quality=4.6, text="", language="en")["suggestions"]
    assert "Thank the customer for their kind words" in happy
    assert any("balance" in t for t in happy)
    assert all(t.isascii() for t in happy)
    for intent in INTENTS_ZH:
        zh = suggest(intent=intent, sentiment="neutral", quality=3.5, text="", language="zh")["suggestions"]
        en = suggest(intent=INTENT_ZH_TO_EN[intent], sentiment="neutral", quality=3.5, text="",
                     language="en")["suggestions"]
        assert 2 <= len(zh) <= MAX_SUGGESTIONS and len(en) == len(zh)


def test_suggest_without_an_index_returns_rules_and_no_replies(no_rules, settings, tmp_path):
    from apps.scoring.services.retrieval import reply_index_clear_cache

    settings.MODEL_STORE = tmp_path / "models"
    reply_index_clear_cache()
    rule("x")
    assert suggest(intent="", sentiment="", quality=None, text="你好", language="zh") == {
        "suggestions": ["x-zh"], "replies": []}
    reply_index_clear_cache()


def test_admin_pages_edit_rules_and_refresh_the_cache(no_rules, admin_user_client):
    rule("old", intent="投诉建议")
    assert texts(intent="投诉建议") == ["old-en"]
    changelist = admin_user_client.get("/admin/scoring/suggestionrule/")
    assert changelist.status_code == 200 and "old-zh" in changelist.content.decode()
    add = admin_user_client.get("/admin/scoring/suggestionrule/add/")
    assert add.status_code == 200 and '<option value="投诉建议">' in add.content.decode()
    response = admin_user_client.post("/admin/scoring/suggestionrule/add/", {
        "intent": "投诉建议", "sentiment": "negative", "min_quality": "", "max_quality": "3",
        "text_zh": "立即致电客户", "text_en": "Call the customer back now", "priority": "1", "active": "on",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    assert texts(intent="投诉建议", sentiment="negative", quality=2.0) == ["Call the customer back now", "old-en"]
    new = SuggestionRule.objects.get(text_zh="立即致电客户")
    response = admin_user_client.post("/admin/scoring/suggestionrule/", {
        "action": "deactivate", "_selected_action": [new.pk], "index": 0,
    })
    assert response.status_code == 302
    assert texts(intent="投诉建议", sentiment="negative", quality=2.0) == ["old-en"]


def test_rules_stay_cached_until_invalidated(no_rules):
    obj = rule("cached")
    assert texts() == ["cached-en"]
    SuggestionRule.objects.filter(pk=obj.pk).update(text_en="edited-en")  # no invalidation
    assert texts() == ["cached-en"]
    suggestion_rules_invalidate()
    assert texts() == ["edited-en"]


def test_admin_save_invalidates_the_rules_cache_of_other_processes(no_rules, admin_user_client):
    """Another process's rule cache shares the generation in Django's cache, not this one's memory."""
    from apps.core.cache import TTLCache
    from apps.scoring.services.suggestions import GENERATION_CHECK_SECONDS, RULES_SHARED_KEY

    other_process = TTLCache(ttl=300, maxsize=1, shared_key=RULES_SHARED_KEY, sync_seconds=GENERATION_CHECK_SECONDS,
                             timer=lambda: clock["now"])
    clock = {"now": 0.0}
    other_process.get_or_set("rules", lambda: ("stale",))
    assert other_process.get("rules") == ("stale",)
    response = admin_user_client.post("/admin/scoring/suggestionrule/add/", {
        "intent": "", "sentiment": "", "min_quality": "", "max_quality": "", "text_zh": "新", "text_en": "new",
        "priority": "1", "active": "on"})
    assert response.status_code == 302
    clock["now"] += GENERATION_CHECK_SECONDS
    assert other_process.get("rules") is None
    assert texts() == ["new"]
