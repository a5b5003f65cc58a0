"""The demo's QA behaviours (apps.demo.qa): each conversation does what its plan says, the
catalogue's reference expressions find exactly that, and criteria break at realistic rates."""
import datetime as dt
import re
import statistics
import zoneinfo
from collections import Counter

import pytest

from apps.demo import generator
from apps.core.labels import INTENT_ZH_TO_EN
from apps.demo.qa import DETECT, MAX_NORMAL_REPLY_S, QA_TEXTS, SLOW_REPLY_S, VIOLATIONS, WEALTH_INTENTS

ANCHOR = generator.anchor_datetime(dt.date(2025, 6, 2), zoneinfo.ZoneInfo("Asia/Shanghai"))


@pytest.fixture(scope="module", params=[("zh", 3000), ("en", 1500)], ids=["zh", "en"])
def data(request):
    language, n = request.param
    return language, generator.generate_demo(anchor=ANCHOR, n_conversations=n, language=language, seed=0)


def detect(messages, language):
    """What a scorecard built from the catalogue's ``detect`` expressions finds in one conversation."""
    expressions = DETECT[language]
    agent = [m for m in messages if m["speaker"] == "agent"]

    def seqs(name):
        return [m["seq"] for m in agent if expressions[name].search(m["text"])]

    first = agent[0]["text"]
    sentences = [s.strip() for m in agent for s in set(expressions["sentence_split"].split(m["text"])) if s.strip()]
    disclosed, verified = seqs("disclose"), seqs("verify")
    replies = [(b["sent_at"] - a["sent_at"]).total_seconds() for a, b in zip(messages, messages[1:])
               if a["speaker"] == "customer" and b["speaker"] == "agent"]
    greeting = "missing"
    if expressions["greeting"].search(first):
        greeting = "intro" if expressions["self_introduction"].search(first) else "greeting_only"
    return {
        "greeting": greeting,
        "understood": bool(expressions["restate"].search(first)),
        "answered": not seqs("deflect"),
        "empathy": bool(seqs("empathy")),
        "verification": None if not disclosed else "missing" if not verified
        else "before" if verified[0] < disclosed[0] else "after",
        "violation": [name for name in VIOLATIONS if seqs(name)],
        "closing": bool(expressions["closing"].search(agent[-1]["text"])),
        "slow_reply": max(replies) > MAX_NORMAL_REPLY_S,
        "repeated": len(sentences) != len(set(sentences)),
    }


def planned(plan):
    return {
        "greeting": plan.greeting, "understood": plan.understood, "answered": plan.answered,
        "empathy": bool(plan.empathy), "verification": plan.verification,
        "violation": [plan.violation] if plan.violation else [], "closing": plan.closing,
        "slow_reply": plan.slow_reply, "repeated": plan.repeated,
    }


def test_reference_expressions_find_exactly_what_each_plan_put_in(data):
    language, demo = data
    assert set(demo.qa_truth) == {c["external_id"] for c in demo.conversations}
    wrong = Counter()
    for conversation in demo.conversations:
        expected = planned(demo.qa_truth[conversation["external_id"]])
        found = detect(conversation["messages"], language)
        wrong.update(k for k in expected if expected[k] != found[k])
    assert not wrong, wrong


def test_criteria_break_at_realistic_rates(data):
    language, demo = data
    plans = list(demo.qa_truth.values())
    n = len(plans)

    def share(condition, among=plans):
        return sum(map(condition, among)) / len(among)

    assert 0.05 < share(lambda p: p.greeting == "missing") < 0.15
    assert 0.02 < share(lambda p: p.greeting == "greeting_only") < 0.10
    assert 0.01 < share(lambda p: p.violation is not None) < 0.04
    assert {p.violation for p in plans} == set(VIOLATIONS) | {None}
    disclosed = [p for p in plans if p.verification]
    assert 0.12 < len(disclosed) / n < 0.35
    assert 0.01 < share(lambda p: p.verification == "after", disclosed) < 0.10
    assert 0.01 < share(lambda p: p.verification == "missing", disclosed) < 0.10
    negative = [p for p in plans if p.empathy is not None]
    assert 0.55 < share(lambda p: p.empathy, negative) < 0.85
    assert 0.70 < share(lambda p: p.closing) < 0.92
    assert 0.03 < share(lambda p: not p.answered) < 0.10
    assert 0.02 < share(lambda p: p.slow_reply) < 0.10
    assert 0.01 < share(lambda p: p.repeated) < 0.06


def test_breaches_follow_the_quality_and_sentiment_labels(data):
    _, demo = data
    by_id = {c["external_id"]: c for c in demo.conversations}
    quality = {k: by_id[k]["label_quality"] for k in demo.qa_truth}
    violating = [quality[k] for k, p in demo.qa_truth.items() if p.violation]
    assert violating and max(violating) <= generator.VIOLATION_MAX_QUALITY
    missing = [quality[k] for k, p in demo.qa_truth.items() if p.greeting == "missing"]
    present = [quality[k] for k, p in demo.qa_truth.items() if p.greeting == "intro"]
    assert statistics.mean(missing) < statistics.mean(present) - 0.3
    for key, plan in demo.qa_truth.items():
        assert (plan.empathy is None) == (by_id[key]["label_sentiment"] != "negative")
    # Promised returns come from wealth conversations (a CRM label is wrong now and then).
    promised = [INTENT_ZH_TO_EN.get(by_id[k]["label_intent"], by_id[k]["label_intent"])
                for k, p in demo.qa_truth.items() if p.violation == "guaranteed_return"]
    assert promised and sum(intent not in WEALTH_INTENTS for intent in promised) <= max(1, len(promised) // 10)
    deflected = [by_id[k]["resolved"] for k, p in demo.qa_truth.items() if not p.answered]
    answered = [by_id[k]["resolved"] for k, p in demo.qa_truth.items() if p.answered]
    assert statistics.mean(deflected) < statistics.mean(answered)


def test_verification_is_a_real_exchange_and_slow_replies_are_slow(data):
    language, demo = data
    for conversation in demo.conversations:
        plan = demo.qa_truth[conversation["external_id"]]
        messages = conversation["messages"]
        if plan.verification in ("before", "after"):
            ask = next(i for i, m in enumerate(messages) if DETECT[language]["verify"].search(m["text"]))
            assert messages[ask]["speaker"] == "agent" and messages[ask + 1]["speaker"] == "customer"
            assert re.search(r"\d{3}[\dX]", messages[ask + 1]["text"])
        replies = [(b["sent_at"] - a["sent_at"]).total_seconds() for a, b in zip(messages, messages[1:])
                   if a["speaker"] == "customer" and b["speaker"] == "agent"]
        if plan.slow_reply:
            assert SLOW_REPLY_S[0] - 1 <= max(replies) <= SLOW_REPLY_S[1] + 1


def test_legitimate_look_alikes_of_violations_are_present(data):
    """Rules must tell a violation from its harmless neighbours, so the data holds both."""
    language, demo = data
    agent = [m["text"] for c in demo.conversations for m in c["messages"] if m["speaker"] == "agent"]
    look_alikes = {"zh": ("后四位", "密码", "验证码", "不保本"), "en": ("last four digits", "password", "code", "guaranteed")}
    for word in look_alikes[language]:
        harmless = [t for t in agent if word.lower() in t.lower() and not any(DETECT[language][v].search(t) for v in VIOLATIONS)]
        assert len(harmless) >= 5, word


def test_catalogue_is_complete_in_both_languages():
    zh, en = QA_TEXTS["zh"], QA_TEXTS["en"]
    assert set(zh) == set(en)
    assert set(zh["detect"]) == set(en["detect"])
    assert set(zh["violation"]) == set(en["violation"]) == set(VIOLATIONS)
    assert set(zh["need"]) == set(en["need"]) == set(generator.INTENT_WEIGHTS)
    assert set(zh["disclose"]) == set(en["disclose"])
    for language, texts in QA_TEXTS.items():
        for name in ("greeting_intro", "greeting_only", "verify_ask", "verify_after_ask", "closing", "empathy", "restate",
                     "deflect", "repeat"):
            assert len(texts[name]) >= 2, (language, name)
            for phrase in texts[name]:
                assert DETECT[language][name if name in DETECT[language] else {
                    "greeting_intro": "self_introduction", "greeting_only": "greeting", "verify_ask": "verify",
                    "verify_after_ask": "verify", "repeat": "sentence_split"}[name]].search(phrase) or name == "repeat"
        for kind, phrases in texts["violation"].items():
            assert all(DETECT[language][kind].search(p) for p in phrases), (language, kind)
        for phrases in texts["disclose"].values():
            assert all(DETECT[language]["disclose"].search(p.replace("{last4}", "1234")) for p in phrases)
