"""The demo-data generator (apps.demo.generator): a pure function, no database."""
import datetime as dt
import re
import statistics
import zoneinfo
from collections import Counter, defaultdict

import pytest

from apps.core.labels import INTENT_ZH_TO_EN, INTENTS_EN, INTENTS_ZH
from apps.demo import generator as demo
from apps.demo import phrases as demo_phrases
from apps.demo import text as demo_text
from ml.pii import luhn_valid

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
ANCHOR = demo.anchor_datetime(dt.date(2025, 6, 2), TZ)
CJK = re.compile(r"[\u4e00-\u9fff]")


def generate(**kwargs):
    kwargs.setdefault("anchor", ANCHOR)
    return demo.generate_demo(**kwargs)


@pytest.fixture(scope="module")
def zh():
    return generate(n_conversations=3000, seed=0)


@pytest.fixture(scope="module")
def en():
    return generate(n_conversations=1500, language="en", seed=0)


def customer_text(conversation):
    return "\n".join(m["text"] for m in conversation["messages"] if m["speaker"] == "customer")


def first_customer_message(conversation):
    return next(m["text"] for m in conversation["messages"] if m["speaker"] == "customer")


def test_same_seed_gives_identical_data_and_other_seeds_differ():
    a = generate(n_conversations=300, n_customers=100, n_agents=20, seed=7)
    b = generate(n_conversations=300, n_customers=100, n_agents=20, seed=7)
    c = generate(n_conversations=300, n_customers=100, n_agents=20, seed=8)
    assert a == b
    assert [x["external_id"] for x in a.conversations] == [x["external_id"] for x in c.conversations]
    texts_a = [customer_text(x) for x in a.conversations]
    texts_c = [customer_text(x) for x in c.conversations]
    assert sum(x != y for x, y in zip(texts_a, texts_c)) > 250
    assert [x["started_at"] for x in a.conversations] != [x["started_at"] for x in c.conversations]
    assert a.customers != c.customers


def test_generation_does_not_touch_global_random_state():
    import random

    random.seed(123)
    expected = random.random()
    random.seed(123)
    generate(n_conversations=50, n_customers=20, n_agents=5, seed=1)
    assert random.random() == expected


def test_items_have_the_ingest_shape(zh):
    customer_ids = {c["external_id"] for c in zh.customers}
    agent_ids = {a["external_id"] for a in zh.agents}
    assert len(customer_ids) == 800 and len(agent_ids) == 50 and len(zh.conversations) == 3000
    assert len({c["external_id"] for c in zh.conversations}) == 3000
    for c in zh.customers:
        assert set(c) == {"external_id", "display_name", "age", "gender", "city", "segment", "vip_level"}
        assert 18 <= c["age"] <= 80 and c["gender"] in {"F", "M", "O", ""}
        assert c["segment"] in {"personal", "business"} and c["vip_level"] in demo.VIP_LEVELS
        assert c["display_name"] and CJK.search(c["city"])
    for a in zh.agents:
        assert set(a) == {"external_id", "name", "team", "hired_at", "active"}
        assert isinstance(a["hired_at"], dt.date) and a["hired_at"] < ANCHOR.date()
    assert len({a["name"] for a in zh.agents}) == 50
    assert 4 <= len({a["team"] for a in zh.agents}) <= 6
    for conv in zh.conversations:
        assert conv["customer"] in customer_ids and conv["agent"] in agent_ids
        assert conv["channel"] in {"web", "app", "phone", "wechat", "email"} and conv["language"] == "zh"
        assert conv["label_intent"] in INTENTS_ZH and conv["label_sentiment"] in demo.SENTIMENTS
        assert 1.0 <= conv["label_quality"] <= 5.0 and round(conv["label_quality"], 1) == conv["label_quality"]
        assert conv["csat"] is None or conv["csat"] in {1, 2, 3, 4, 5}
        assert isinstance(conv["resolved"], bool)
        assert conv["started_at"].tzinfo is not None


def test_all_intents_appear_with_sane_shares(zh, en):
    counts = Counter(c["label_intent"] for c in zh.conversations)
    assert set(counts) == set(INTENTS_ZH)
    assert min(counts.values()) >= 40 and max(counts.values()) <= 450
    assert {c["label_intent"] for c in en.conversations} == set(INTENTS_EN)


def test_sentiment_follows_intent_and_quality_follows_sentiment(zh):
    by_intent = defaultdict(Counter)
    quality = defaultdict(list)
    for c in zh.conversations:
        by_intent[c["label_intent"]][c["label_sentiment"]] += 1
        quality[c["label_sentiment"]].append(c["label_quality"])

    def share(intent, sentiment):
        return by_intent[intent][sentiment] / sum(by_intent[intent].values())

    assert share("投诉建议", "negative") > 0.6
    assert share("优惠活动", "positive") > share("投诉建议", "positive") + 0.3
    assert share("投资理财", "positive") > share("技术支持", "positive")
    means = {s: statistics.mean(q) for s, q in quality.items()}
    assert means["positive"] > means["neutral"] + 0.4 > means["negative"] + 0.8
    assert statistics.mean(quality["negative"]) < 3.0


def test_quality_depends_on_resolution_agent_skill_and_drives_csat(zh):
    resolved = [c["label_quality"] for c in zh.conversations if c["resolved"]]
    unresolved = [c["label_quality"] for c in zh.conversations if not c["resolved"]]
    assert statistics.mean(resolved) > statistics.mean(unresolved) + 0.3
    # Agents differ: the most skilled quarter scores clearly above the least skilled quarter.
    by_agent = defaultdict(list)
    for c in zh.conversations:
        by_agent[c["agent"]].append(c["label_quality"])
    ranked = sorted((a for a in by_agent if len(by_agent[a]) >= 10), key=zh.agent_skill.get)
    quarter = len(ranked) // 4
    low = statistics.mean(q for a in ranked[:quarter] for q in by_agent[a])
    high = statistics.mean(q for a in ranked[-quarter:] for q in by_agent[a])
    assert high > low + 0.3
    with_csat = [c for c in zh.conversations if c["csat"] is not None]
    assert 0.55 <= len(with_csat) / len(zh.conversations) <= 0.65
    good = [c["csat"] for c in with_csat if c["label_quality"] >= 4]
    poor = [c["csat"] for c in with_csat if c["label_quality"] < 2.5]
    assert statistics.mean(good) > statistics.mean(poor) + 1.5


def test_customer_profile_distributions():
    data = generate(n_conversations=10, n_customers=5000, seed=3)
    n = len(data.customers)
    vip = Counter(c["vip_level"] for c in data.customers)
    for level, expected in zip(demo.VIP_LEVELS, demo.VIP_WEIGHTS):
        assert abs(vip[level] / n - expected) < 0.03, (level, vip[level] / n)
    business = sum(c["segment"] == "business" for c in data.customers) / n
    assert abs(business - 0.20) < 0.03
    ages = [c["age"] for c in data.customers]
    assert min(ages) >= 18 and max(ages) <= 80 and 35 < statistics.mean(ages) < 48
    assert len({c["city"] for c in data.customers}) >= 15


def test_messages_alternate_and_timestamps_are_realistic(zh):
    hours, weekdays, first_response, n_messages = Counter(), Counter(), [], Counter()
    start = ANCHOR - dt.timedelta(days=30)
    for c in zh.conversations:
        msgs = c["messages"]
        assert [m["seq"] for m in msgs] == list(range(len(msgs)))
        talk = [m for m in msgs if m["speaker"] != "system"]
        # The customer opens; turns alternate, except that an agent may follow up on their own
        # message (asking to verify identity after disclosing account details).
        assert 2 <= len(talk) <= 12 and talk[0]["speaker"] == "customer" and talk[1]["speaker"] == "agent"
        assert all(a["speaker"] != b["speaker"] or a["speaker"] == "agent" for a, b in zip(talk, talk[1:]))
        assert all(m["text"].strip() for m in msgs)
        customer_turns = [m["text"] for m in talk[1:] if m["speaker"] == "customer"]
        assert len(set(customer_turns)) == len(customer_turns)
        times = [m["sent_at"] for m in msgs]
        assert times == sorted(times) and times[0] == c["started_at"]
        assert start <= c["started_at"] < ANCHOR
        slow = zh.qa_truth[c["external_id"]].slow_reply
        assert 30 <= (c["ended_at"] - c["started_at"]).total_seconds() <= 1800 + (900 if slow else 0)
        assert c["ended_at"] >= times[-1]
        gap = (talk[1]["sent_at"] - talk[0]["sent_at"]).total_seconds()
        assert 5 <= gap <= (900 if slow else 120)
        first_response.append(gap)
        local = c["started_at"].astimezone(TZ)
        hours[local.hour] += 1
        weekdays[local.weekday()] += 1
        n_messages[len(talk)] += 1
    assert set(range(2, 11)) <= set(n_messages)
    business = sum(hours[h] for h in range(9, 18))
    night = sum(hours[h] for h in range(0, 7))
    assert business > 0.6 * len(zh.conversations) and night < 0.05 * len(zh.conversations)
    assert (weekdays[0] + weekdays[1]) / 2 > 1.4 * (weekdays[5] + weekdays[6]) / 2
    assert statistics.median(first_response) < 60


def test_texts_are_varied(zh, en):
    for data in (zh, en):
        firsts = defaultdict(list)
        for c in data.conversations:
            firsts[c["label_intent"]].append(first_customer_message(c))
        for intent, texts in firsts.items():
            assert len(set(texts)) > 0.5 * len(texts), intent
        all_customer = [customer_text(c) for c in data.conversations]
        assert len(set(all_customer)) > 0.9 * len(all_customer)


def test_agent_replies_are_intent_specific_and_match_quality(zh):
    replies = defaultdict(set)
    for c in zh.conversations:
        agent = [m["text"] for m in c["messages"] if m["speaker"] == "agent"]
        replies[c["label_intent"]].add(agent[0])
    # Few first replies are shared between intents (only label noise can cause it).
    owners = Counter(text for texts in replies.values() for text in texts)
    shared = sum(1 for n in owners.values() if n > 1)
    assert shared < 0.03 * len(owners)
    # High-quality conversations get the long, helpful replies; low-quality ones the curt ones.
    high = [len(m["text"]) for c in zh.conversations if c["label_quality"] >= 4.2
            for m in c["messages"][:4] if m["speaker"] == "agent"]
    low = [len(m["text"]) for c in zh.conversations if c["label_quality"] <= 1.8
           for m in c["messages"][:4] if m["speaker"] == "agent"]
    assert statistics.mean(high) > 2 * statistics.mean(low)
    # Helpful first replies talk about the customer's topic (what reply suggestions retrieve).
    topics = {"余额查询": "余额|明细|扣款|入账|理财", "转账汇款": "转账|收款|转错", "密码重置": "密码|解锁|预留手机",
              "网点查询": "网点|支行|营业|自助银行", "汇率查询": "汇|现钞|外币", "贷款咨询": "贷|月供|申请",
              "投诉建议": "投诉|抱歉|反馈|建议|退还|网点|营销|不便|心情"}
    for intent, pattern in topics.items():
        firsts = [next(m["text"] for m in c["messages"] if m["speaker"] == "agent") for c in zh.conversations
                  if c["label_intent"] == intent and c["label_quality"] >= 4.2]
        on_topic = sum(bool(re.search(pattern, t)) for t in firsts)
        assert firsts and on_topic >= 0.8 * len(firsts), intent


def test_customer_turns_carry_some_pii_and_card_numbers_pass_luhn(zh, en):
    for data, phone in ((zh, re.compile(r"(?<!\d)1[35789]\d{9}(?!\d)")), (en, re.compile(r"\+(44 7700 900|1 \d{3}-555-01)\d"))):
        texts = [m["text"] for c in data.conversations for m in c["messages"] if m["speaker"] == "customer"]
        with_pii = [t for t in texts if phone.search(t) or "@example." in t or re.search(r"\d{4} ?\d{4} ?\d{4} ?\d{4}", t)]
        assert 0.02 * len(texts) < len(with_pii) < 0.15 * len(texts)
        cards = [m.group() for t in texts for m in re.finditer(r"(?<![\d+])(?:\d{4} ?){3}\d{4}(?: ?\d{3})?(?!\d)", t)]
        assert cards and all(luhn_valid(card) for card in cards)
        agent_texts = [m["text"] for c in data.conversations for m in c["messages"] if m["speaker"] == "agent"]
        assert not any(phone.search(t) or "@example." in t for t in agent_texts)


def test_luhn_check_digit_makes_valid_numbers():
    assert demo_text.luhn_check_digit("7992739871") == "3"
    assert luhn_valid("79927398713") and not luhn_valid("79927398710")


def test_english_mode_writes_english(en):
    assert all(c["language"] == "en" and c["label_intent"] in INTENTS_EN for c in en.conversations)
    texts = [m["text"] for c in en.conversations for m in c["messages"]]
    assert not any(CJK.search(t) for t in texts)
    assert not any(CJK.search(str(v)) for c in en.customers + en.agents for v in c.values())
    assert sum("account" in t.lower() for t in texts) > 100


def test_intent_is_learnable_but_not_trivially():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    for language, analyzer, ngrams in (("zh", "char", (1, 2)), ("en", "word", (1, 2))):
        data = generate(n_conversations=2000, language=language, seed=11)
        texts = [customer_text(c) for c in data.conversations]
        labels = [c["label_intent"] for c in data.conversations]
        x_train, x_test, y_train, y_test = train_test_split(texts, labels, test_size=0.3, random_state=0,
                                                            stratify=labels)
        vectorizer = TfidfVectorizer(analyzer=analyzer, ngram_range=ngrams, sublinear_tf=True, min_df=2)
        model = LogisticRegression(max_iter=1000)
        model.fit(vectorizer.fit_transform(x_train), y_train)
        accuracy = model.score(vectorizer.transform(x_test), y_test)
        print(f"{language}: intent accuracy {accuracy:.3f} (chance {1 / 20:.2f})")
        # Learnable, yet related intents (余额查询/账户查询, ...) share some phrasings.
        assert 0.6 < accuracy < 0.995


def test_generator_rejects_bad_arguments():
    with pytest.raises(ValueError):
        generate(language="fr")
    with pytest.raises(ValueError):
        generate(anchor=dt.datetime(2025, 6, 1))
    with pytest.raises(ValueError):
        generate(days=0)


def test_intent_maps_are_consistent():
    assert set(INTENT_ZH_TO_EN.values()) == set(demo.INTENT_WEIGHTS) == set(demo.SENTIMENT_BY_INTENT)
    for language in demo.LANGUAGES:
        intents = demo.TEXTS[language]["intents"]
        for intent, (opens, follows) in demo_phrases.ANSWERS.items():
            assert len(opens) == len(intents[intent]["open"]) and len(follows) == len(intents[intent]["follow"])
            assert all(i is None or i < len(intents[intent]["good"]) for i in (*opens, *follows))
