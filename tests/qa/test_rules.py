"""The rule engine: every operator in Chinese and English, scopes, anchoring, expressions, validation."""
import datetime as dt

import pytest

from apps.core.exceptions import ApplicationError
from apps.qa.rules import (
    CriterionSpec,
    Msg,
    Transcript,
    answer_validate,
    expression_eval,
    expression_parse,
    rule_compile,
    score_compute,
    sentence_sentiment,
)

T0 = dt.datetime(2026, 1, 1, 9, 0, tzinfo=dt.timezone.utc)


def transcript(*turns, gaps=None, **kw):
    """turns: ("agent"|"customer", text); gaps: seconds after the previous message."""
    msgs, t = [], T0
    for i, (speaker, text) in enumerate(turns):
        t = t + dt.timedelta(seconds=(gaps[i] if gaps else 5))
        msgs.append(Msg(seq=i + 1, speaker=speaker, text=text, sent_at=t))
    return Transcript(messages=msgs, **kw)


def run(conditions, expression="1", text=None, **rule):
    compiled = rule_compile({"expression": expression, "conditions": conditions, **rule})
    return compiled.evaluate(text)


ZH = transcript(
    ("agent", "您好，我是客服小王，很高兴为您服务。"),
    ("customer", "我的卡被乱扣费了，太让人生气了！"),
    ("agent", "非常抱歉给您带来不便。请问您的姓名和预留手机号？"),
    ("customer", "张三，[PHONE]"),
    ("agent", "验证通过。您的账户余额是 5,000元。"),
    ("agent", "请问还有什么可以帮您？"),
)
EN = transcript(
    ("agent", "Hello, my name is Anna, how can I help you today?"),
    ("customer", "I was charged twice, this is ridiculous!"),
    ("agent", "I'm so sorry about that. Can you confirm your date of birth first?"),
    ("customer", "Sure, my card is [CARD]"),
    ("agent", "Thank you, you're verified. Your balance is $1,200.50."),
    ("agent", "Is there anything else I can help you with?"),
)


def spans(evidence, text_of):
    return [text_of[e["seq"]][e["span"][0]:e["span"][1]] for e in evidence]


def texts(t):
    return {m.seq: m.text for m in t.messages}


@pytest.mark.parametrize("t, words, expected", [
    (ZH, ["您好", "你好"], ["您好"]),
    (EN, ["hello", "good morning"], ["Hello"]),
])
def test_keywords_any_with_evidence(t, words, expected):
    answer, evidence = run({"1": {"operator": "keywords", "words": words, "speaker": "agent", "first": 1}}, text=t)
    assert answer == "yes"
    assert [e["seq"] for e in evidence] == [1]
    assert spans(evidence, texts(t)) == expected


@pytest.mark.parametrize("t, words", [(ZH, ["抱歉", "不便"]), (EN, ["sorry", "about that"])])
def test_keywords_all_at_least_none(t, words):
    agent = {"speaker": "agent", "operator": "keywords"}
    assert run({"1": {**agent, "words": words, "mode": "all"}}, text=t)[0] == "yes"
    assert run({"1": {**agent, "words": words + ["zzz不存在"], "mode": "all"}}, text=t)[0] == "no"
    assert run({"1": {**agent, "words": words + ["zzz不存在"], "mode": "at_least", "n": 2}}, text=t)[0] == "yes"
    assert run({"1": {**agent, "words": words + ["zzz不存在"], "mode": "at_least", "n": 3}}, text=t)[0] == "no"
    assert run({"1": {**agent, "words": ["zzz不存在"], "mode": "none"}}, text=t) == ("yes", [])
    assert run({"1": {**agent, "words": words, "mode": "none"}}, text=t)[0] == "no"


@pytest.mark.parametrize("t, pattern, exclude, expected", [
    (ZH, r"余额(是|为)", None, ["余额是"]),
    (EN, r"balance (is|of)", None, ["balance is"]),
    # "验证通过。" ends its own sentence, so the exclusion does not reach the balance sentence.
    (ZH, r"余额", r"验证", ["余额"]),
    # Likewise in English: a full stop before a space ends the sentence.
    (EN, r"balance", r"verified", ["balance"]),
    # Within one sentence, the exclusion drops it.
    (EN, r"balance", r"\$1,200", []),
])
def test_regex_with_exclusion(t, pattern, exclude, expected):
    cond = {"operator": "regex", "pattern": pattern, "speaker": "agent"}
    if exclude:
        cond["exclude"] = exclude
    answer, evidence = run({"1": cond}, text=t)
    assert spans(evidence, texts(t)) == expected
    assert answer == ("yes" if expected else "no")


@pytest.mark.parametrize("t, pattern, exclude", [
    (ZH, r"手机号", r"预留"),
    (EN, r"date of birth", r"confirm"),
])
def test_regex_exclusion_drops_sentence(t, pattern, exclude):
    assert run({"1": {"operator": "regex", "pattern": pattern}}, text=t)[0] == "yes"
    assert run({"1": {"operator": "regex", "pattern": pattern, "exclude": exclude}}, text=t) == ("no", [])


@pytest.mark.parametrize("t, examples, seq", [
    (ZH, ["请问还有其他可以帮您的吗", "还有什么需要帮忙的吗"], 6),
    (EN, ["anything else I can help you with", "is there anything else you need"], 6),
])
def test_similar_to_examples(t, examples, seq):
    answer, evidence = run({"1": {"operator": "similar", "examples": examples, "threshold": 0.5, "speaker": "agent"}}, text=t)
    assert answer == "yes"
    assert {e["seq"] for e in evidence} == {seq}
    assert run({"1": {"operator": "similar", "examples": ["完全无关的句子 unrelated words"], "threshold": 0.9}}, text=t)[0] == "no"


@pytest.mark.parametrize("t, entity, expected_seq, expected_span", [
    (ZH, "PHONE", 4, "[PHONE]"),
    (EN, "CARD", 4, "[CARD]"),
    (ZH, "AMOUNT", 5, "5,000元"),
    (EN, "AMOUNT", 5, "$1,200.50"),
])
def test_entity_present(t, entity, expected_seq, expected_span):
    answer, evidence = run({"1": {"operator": "entity", "entities": [entity]}}, text=t)
    assert answer == "yes"
    assert [e["seq"] for e in evidence] == [expected_seq]
    assert spans(evidence, texts(t)) == [expected_span]
    assert run({"1": {"operator": "entity", "entities": ["EMAIL"]}}, text=t)[0] == "no"


@pytest.mark.parametrize("t, words", [(ZH, ["乱扣", "生气"]), (EN, ["ridiculous"])])
def test_sentence_sentiment(t, words):
    answer, evidence = run({"1": {"operator": "sentiment", "polarity": "negative", "speaker": "customer"}}, text=t)
    assert answer == "yes"
    assert spans(evidence, texts(t)) == words
    assert run({"1": {"operator": "sentiment", "polarity": "negative", "speaker": "agent"}}, text=t)[0] == "no"


def test_sentiment_lexicon_negative_wins():
    assert sentence_sentiment("谢谢，但是我很失望")[0] == "negative"
    assert sentence_sentiment("thanks a lot")[0] == "positive"
    assert sentence_sentiment("我想查询余额")[0] == "neutral"


@pytest.mark.parametrize("texts_", [("我要查账单", "好的，马上为您查询"), ("I need my statement", "Sure, checking now")])
def test_response_time(texts_):
    slow = transcript(("customer", texts_[0]), ("agent", texts_[1]), gaps=[0, 90])
    fast = transcript(("customer", texts_[0]), ("agent", texts_[1]), gaps=[0, 10])
    cond = {"1": {"operator": "response_time", "seconds": 60}}
    answer, evidence = run(cond, text=slow)
    assert answer == "yes" and [e["seq"] for e in evidence] == [2]
    assert run(cond, text=fast) == ("no", [])


@pytest.mark.parametrize("line", ["请您稍等一下。", "Please hold on a moment."])
def test_repetition(line):
    t = transcript(("agent", line), ("customer", "?"), ("agent", line), ("agent", line.upper()))
    answer, evidence = run({"1": {"operator": "repetition", "min_count": 3, "speaker": "agent"}}, text=t)
    assert answer == "yes" and [e["seq"] for e in evidence] == [1, 3, 4]
    assert run({"1": {"operator": "repetition", "min_count": 4, "speaker": "agent"}}, text=t)[0] == "no"


@pytest.mark.parametrize("t", [ZH, EN])
def test_first_and_last_scope(t):
    greet = ["您好", "hello"]
    assert run({"1": {"operator": "keywords", "words": greet, "first": 1}}, text=t)[0] == "yes"
    assert run({"1": {"operator": "keywords", "words": greet, "last": 2}}, text=t)[0] == "no"
    closing = ["还有什么", "anything else"]
    assert run({"1": {"operator": "keywords", "words": closing, "last": 1}}, text=t)[0] == "yes"
    assert run({"1": {"operator": "keywords", "words": closing, "first": 3}}, text=t)[0] == "no"


VERIFY_BEFORE_DISCLOSE = {
    "expression": "!1 || 2",
    "conditions": {
        "1": {"operator": "regex", "pattern": r"余额|balance", "speaker": "agent"},
        "2": {"operator": "regex", "pattern": r"验证通过|姓名|verified|date of birth", "speaker": "agent",
              "anchor": {"condition": "1", "where": "before"}},
    },
}


@pytest.mark.parametrize("t", [ZH, EN])
def test_anchor_before(t):
    compiled = rule_compile(VERIFY_BEFORE_DISCLOSE)
    answer, evidence = compiled.evaluate(t)
    assert answer == "yes"
    # Both conditions matched: the disclosure (1) in message 5, the verification (2) before it.
    assert {e["seq"] for e in evidence if e["condition"] == "1"} == {5}
    assert {e["seq"] for e in evidence if e["condition"] == "2"} == {3, 5}


@pytest.mark.parametrize("lines", [
    ("您的账户余额是 300元。", "好的，验证通过了。"),
    ("Your balance is $300.", "OK, you're verified now."),
])
def test_anchor_disclosure_before_verification_fails(lines):
    t = transcript(("customer", "?"), ("agent", lines[0]), ("agent", lines[1]))
    answer, evidence = rule_compile(VERIFY_BEFORE_DISCLOSE).evaluate(t)
    assert answer == "no"
    assert [(e["condition"], e["seq"]) for e in evidence] == [("1", 2)]  # the disclosure, unverified


@pytest.mark.parametrize("t", [ZH, EN])
def test_anchor_after_and_missing_anchor(t):
    rule = {"expression": "2", "conditions": {
        "1": {"operator": "sentiment", "polarity": "negative", "speaker": "customer"},
        "2": {"operator": "keywords", "words": ["抱歉", "sorry"], "speaker": "agent", "anchor": {"condition": "1", "where": "after"}},
    }}
    answer, evidence = rule_compile(rule).evaluate(t)
    assert answer == "yes" and [e["seq"] for e in evidence] == [3]
    calm = transcript(("customer", "hi"), ("agent", "sorry, 抱歉"))
    assert rule_compile(rule).evaluate(calm)[0] == "no"  # no anchor hit: empty scope


def test_applies_and_answer_when_true():
    rule = {
        "expression": "2", "applies": "1", "answer_when_true": "yes",
        "conditions": {
            "1": {"operator": "sentiment", "polarity": "negative", "speaker": "customer"},
            "2": {"operator": "keywords", "words": ["抱歉", "sorry"], "speaker": "agent"},
        },
    }
    assert rule_compile(rule).evaluate(ZH)[0] == "yes"
    calm = transcript(("customer", "你好"), ("agent", "您好"))
    assert rule_compile(rule).evaluate(calm) == ("na", [])
    violation = {"expression": "1", "answer_when_true": "no",
                 "conditions": {"1": {"operator": "regex", "pattern": r"cvv|安全码", "speaker": "agent"}}}
    bad = transcript(("agent", "请提供卡背面的安全码"))
    assert rule_compile(violation).evaluate(bad)[0] == "no"
    assert rule_compile(violation).evaluate(ZH)[0] == "yes"


def test_expression_parser():
    tree = expression_parse("1 && (2 || !3)")
    assert expression_eval(tree, {"1": True, "2": False, "3": False}) is True
    assert expression_eval(tree, {"1": True, "2": False, "3": True}) is False
    assert expression_eval(tree, {"1": False, "2": True, "3": False}) is False
    assert expression_eval(expression_parse("!!1"), {"1": True}) is True
    # && binds tighter than ||
    assert expression_eval(expression_parse("1 || 2 && 3"), {"1": True, "2": False, "3": False}) is True


@pytest.mark.parametrize("expression", ["", "1 &&", "(1 || 2", "1 2", "1 & 2", "a", "1 || )"])
def test_expression_syntax_errors_name_the_field(expression):
    with pytest.raises(ApplicationError) as exc:
        expression_parse(expression, field_name="rule.expression")
    assert "rule.expression" in exc.value.extra


def _error(rule):
    with pytest.raises(ApplicationError) as exc:
        rule_compile(rule)
    return exc.value.extra


KW = {"operator": "keywords", "words": ["x"]}


def test_validation_errors():
    assert "rule.expression" in _error({"expression": "1 && 3", "conditions": {"1": KW}})
    assert "rule.conditions" in _error({"expression": "1", "conditions": {}})
    assert "rule.conditions.1.operator" in _error({"expression": "1", "conditions": {"1": {"operator": "magic"}}})
    assert "rule.conditions.1.pattern" in _error({"expression": "1", "conditions": {"1": {"operator": "regex", "pattern": "(unclosed"}}})
    assert "rule.conditions.1.pattern" in _error({"expression": "1", "conditions": {"1": {"operator": "regex", "pattern": r"(a+)+$"}}})
    assert "rule.conditions.1.exclude" in _error(
        {"expression": "1", "conditions": {"1": {"operator": "regex", "pattern": "a", "exclude": r"(\w+\s?)+$"}}}
    )
    assert "rule.conditions.1.speaker" in _error({"expression": "1", "conditions": {"1": {**KW, "speaker": "bot"}}})
    assert "rule.conditions.1.n" in _error({"expression": "1", "conditions": {"1": {**KW, "mode": "at_least", "n": 5}}})
    assert "rule.conditions.1.threshold" in _error(
        {"expression": "1", "conditions": {"1": {"operator": "similar", "examples": ["a"], "threshold": 1.5}}}
    )
    assert "rule.conditions.1.seconds" in _error({"expression": "1", "conditions": {"1": {"operator": "response_time"}}})
    assert "rule.conditions.1.anchor" in _error(
        {"expression": "1", "conditions": {"1": {**KW, "anchor": {"condition": "9"}}}}
    )
    assert "rule.answer_when_true" in _error({"expression": "1", "conditions": {"1": KW}, "answer_when_true": "maybe"})


def test_anchoring_cycle_is_refused():
    extra = _error({"expression": "1", "conditions": {
        "1": {**KW, "anchor": {"condition": "2"}},
        "2": {**KW, "anchor": {"condition": "3"}},
        "3": {**KW, "anchor": {"condition": "1"}},
    }})
    (field_name, message), = extra.items()
    assert field_name.startswith("rule.conditions.") and field_name.endswith(".anchor")
    assert "→" in message


def test_answer_scale_validation():
    assert answer_validate(scale="yes_no", answer="YES") == "yes"
    assert answer_validate(scale="one_to_five", answer="4") == "4"
    with pytest.raises(ApplicationError) as exc:
        answer_validate(scale="yes_no", answer="4", field_name="answers.greeting")
    assert "answers.greeting" in exc.value.extra
    with pytest.raises(ApplicationError):
        answer_validate(scale="one_to_five", answer="yes")


def test_score_and_auto_fail():
    a = CriterionSpec(id=1, key="a", scale="yes_no", points=2, auto_fail=False, answered_by="rule")
    b = CriterionSpec(id=2, key="b", scale="one_to_five", points=2, auto_fail=False, answered_by="reviewer")
    c = CriterionSpec(id=3, key="c", scale="yes_no", points=0, auto_fail=True, answered_by="rule", question_en="No CVV")
    assert score_compute([a, b, c], {1: "yes", 2: "3", 3: "yes"}) == (75.0, False, "")
    assert score_compute([a, b, c], {1: "no", 2: "na", 3: "yes"}) == (0.0, False, "")
    assert score_compute([a, b, c], {1: "yes", 3: "na"}) == (100.0, False, "")
    score, failed, reason = score_compute([a, b, c], {1: "yes", 2: "5", 3: "no"})
    assert (score, failed) == (0.0, True) and "No CVV" in reason
    assert score_compute([a], {1: "na"}) == (None, False, "")


def test_sentences_split_in_both_languages():
    t = transcript(("agent", "Your balance is $1,200.50. Thanks, bye! 好的。请稍等…ok"))
    assert [(s.text, s.offset) for s in t.sentences] == [
        ("Your balance is $1,200.50.", 0), ("Thanks, bye!", 27), ("好的。", 40), ("请稍等…ok", 43)]


@pytest.mark.parametrize("pattern, seqs", [
    (r"^请稍等", [2]),  # anchored to the sentence's start, not the transcript's
    (r"稍等$", [2]),
    (r"(?<!不)满意", [3]),
    (r"wait", []),
    (r"[^a]满意", [3]),
])
def test_regex_is_matched_per_sentence(pattern, seqs):
    t = transcript(("agent", "您好。"), ("agent", "请稍等"), ("customer", "很满意。不满意"))
    answer, evidence = run({"1": {"operator": "regex", "pattern": pattern}}, text=t)
    assert sorted({e["seq"] for e in evidence}) == seqs
    assert answer == ("yes" if seqs else "no")
