"""Synthetic bank contact-centre data for demos, model training and the console.

A pure generator: ``generate_demo()`` returns plain dicts shaped like the items of
``customers_upsert``, ``agents_upsert`` and ``conversations_upsert``; it never touches
the database. The ``seed_demo`` command feeds them through the ingest services.

Everything is drawn from one ``random.Random(seed)`` in a fixed order, and every
timestamp is an offset from ``anchor`` (midnight of the anchor date), so one seed and
one anchor always give identical data (the ids, the texts and the times).

What the data is meant to show (the original system's facts, made richer):

* 20 intents with intent-specific wording: opening templates x slots (cards, amounts,
  dates, products, branches, apps ...) x greetings / politeness / filler, follow-up
  turns, and agent replies specific to the intent (good ones for high quality, curt
  ones for low quality), so reply suggestions retrieved by customer text make sense;
* a little ambiguity: a share of the conversations of related intents (余额查询 /
  账户查询, 信用卡申请 / 开户申请, ...) open with a phrasing both share, and a few CRM
  labels are wrong, so intent accuracy is high but not 100%;
* sentiment drawn per intent (complaints mostly negative, promotions / wealth more
  positive), quality drawn by sentiment (positive 4-5, neutral 3-4.5, negative 1-3.5)
  and shifted by the agent's hidden skill and by resolution; CSAT for ~60%;
* business-hours-weighted start times, agent first response 5-120 s, resolution time
  30-1800 s;
* occasional PII (mobile numbers, e-mails at example domains, Luhn-valid card numbers)
  in customer turns, so masking on ingest has something to mask. All names and numbers
  are random combinations, never real people's data;
* what a QA scorecard grades: each conversation's agent greets or not, restates the need,
  shows empathy, verifies identity before or after disclosing account details, breaches
  compliance, asks a closing question, replies slowly or repeats a sentence, as a ``qa.QaPlan``
  drawn after its quality label says (``qa.py`` has the phrases and the rates).
"""
from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from apps.core.labels import INTENTS_EN, INTENTS_ZH

from .phrases import TEXTS
from .qa import MAX_NORMAL_REPLY_S, SLOW_REPLY_S, QaPlan, qa_apply, qa_plan_draw
from .text import _agent_turn, _customer_turn, _noisy, _opening, _Slots, _with_pii

LANGUAGES = ("zh", "en")
SENTIMENTS = ("negative", "neutral", "positive")
VIP_LEVELS = ("normal", "silver", "gold", "diamond")
VIP_WEIGHTS = (0.60, 0.25, 0.12, 0.03)
BUSINESS_SHARE = 0.20
CSAT_SHARE = 0.60
PII_SHARE = 0.12
AMBIGUOUS_SHARE = 0.10
LABEL_NOISE_SHARE = 0.015
MIN_RESOLUTION_S = 30
MAX_RESOLUTION_S = 1800
VIOLATION_MAX_QUALITY = 2.5

# Relative contact volume per intent (English code); normalised when drawn.
INTENT_WEIGHTS = {
    "account_inquiry": 6, "balance_inquiry": 8, "transfer": 8, "credit_card_application": 6, "loan_inquiry": 5,
    "wealth_management": 5, "insurance_inquiry": 3, "technical_support": 8, "complaint": 5, "product_info": 4,
    "fee_inquiry": 5, "password_reset": 6, "account_opening": 4, "account_closing": 3, "promotions": 4,
    "branch_locator": 4, "exchange_rate": 3, "repayment_reminder": 5, "risk_assessment": 3, "other": 5,
}
# Business customers move money and borrow more; VIPs invest more.
BUSINESS_BOOST = {"transfer": 2.0, "exchange_rate": 2.5, "loan_inquiry": 1.8, "account_opening": 1.5}
VIP_BOOST = {"wealth_management": 2.0, "risk_assessment": 1.6, "insurance_inquiry": 1.5, "product_info": 1.3}

# P(negative, neutral, positive) per intent.
SENTIMENT_BY_INTENT = {
    "complaint": (0.75, 0.20, 0.05),
    "technical_support": (0.40, 0.45, 0.15),
    "account_closing": (0.35, 0.50, 0.15),
    "password_reset": (0.30, 0.55, 0.15),
    "fee_inquiry": (0.30, 0.55, 0.15),
    "repayment_reminder": (0.25, 0.55, 0.20),
    "transfer": (0.20, 0.55, 0.25),
    "account_inquiry": (0.15, 0.60, 0.25),
    "other": (0.12, 0.63, 0.25),
    "balance_inquiry": (0.10, 0.60, 0.30),
    "loan_inquiry": (0.12, 0.50, 0.38),
    "insurance_inquiry": (0.10, 0.55, 0.35),
    "risk_assessment": (0.10, 0.60, 0.30),
    "credit_card_application": (0.10, 0.50, 0.40),
    "account_opening": (0.08, 0.52, 0.40),
    "branch_locator": (0.08, 0.62, 0.30),
    "exchange_rate": (0.08, 0.67, 0.25),
    "product_info": (0.07, 0.50, 0.43),
    "wealth_management": (0.06, 0.42, 0.52),
    "promotions": (0.05, 0.35, 0.60),
}
# Quality range by sentiment (the original system's rule), before skill and resolution shifts.
QUALITY_RANGE = {"positive": (4.0, 5.0), "neutral": (3.0, 4.5), "negative": (1.0, 3.5)}
RESOLVED_P = {"positive": 0.95, "neutral": 0.85, "negative": 0.55}

# Related intents whose customers sometimes word their question the same way.
AMBIGUOUS_GROUPS = (
    ("account_inquiry", "balance_inquiry"),
    ("credit_card_application", "account_opening"),
    ("loan_inquiry", "repayment_reminder"),
    ("technical_support", "password_reset"),
    ("wealth_management", "risk_assessment"),
    ("product_info", "insurance_inquiry"),
    ("exchange_rate", "transfer"),
    ("fee_inquiry", "account_closing"),
    ("promotions", "credit_card_application"),
    ("complaint", "other"),
)
RELATED = {}
for _i, _group in enumerate(AMBIGUOUS_GROUPS):
    for _intent in _group:
        RELATED.setdefault(_intent, []).append(_i)

# Teams and the intents routed to them (the rest go to the first team).
TEAM_INTENTS = (
    (),  # general service
    ("credit_card_application", "repayment_reminder", "promotions", "fee_inquiry"),
    ("wealth_management", "insurance_inquiry", "risk_assessment", "product_info", "exchange_rate", "loan_inquiry"),
    ("technical_support", "password_reset"),
    ("complaint",),
)
TEAM_SHARE = (0.30, 0.20, 0.20, 0.15, 0.15)
TEAM_ROUTING_P = 0.75

CHANNEL_WEIGHTS = {
    "zh": {"web": 0.25, "app": 0.35, "phone": 0.20, "wechat": 0.17, "email": 0.03},
    "en": {"web": 0.36, "app": 0.35, "phone": 0.22, "wechat": 0.02, "email": 0.05},
}
# Local hour-of-day and weekday (Monday first) weights: a bank contact centre's day.
HOUR_WEIGHTS = (
    0.2, 0.1, 0.05, 0.05, 0.05, 0.1, 0.3, 0.8, 2.0, 4.0, 5.0, 4.8,
    3.0, 3.5, 4.5, 4.6, 4.2, 3.2, 2.2, 2.0, 2.2, 1.8, 1.0, 0.5,
)
WEEKDAY_WEIGHTS = (1.10, 1.00, 1.00, 1.00, 1.05, 0.60, 0.50)
# Number of messages (customer first, then alternating).
N_MESSAGES_WEIGHTS = {2: 0.12, 3: 0.06, 4: 0.25, 5: 0.08, 6: 0.24, 7: 0.07, 8: 0.18}



# --------------------------------------------------------------------------------------
# Generation
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DemoData:
    """Items ready for the ingest services, plus hidden truths for checks: each agent's skill and
    each conversation's QA behaviours (``qa.QaPlan`` by external id)."""

    customers: list[dict]
    agents: list[dict]
    conversations: list[dict]
    agent_skill: dict[str, float] = field(default_factory=dict)
    qa_truth: dict[str, QaPlan] = field(default_factory=dict)


def anchor_datetime(anchor_date: dt.date, tz: dt.tzinfo) -> dt.datetime:
    """Midnight at the start of ``anchor_date`` in ``tz``: the (exclusive) end of the demo period."""
    return dt.datetime.combine(anchor_date, dt.time.min, tzinfo=tz)


def _weighted(rng: random.Random, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _clip(x: float, low: float, high: float) -> float:
    return max(low, min(high, x))


def _make_customers(rng: random.Random, n: int, language: str) -> list[dict]:
    names = TEXTS[language]["names"]
    customers = []
    for i in range(n):
        segment = "business" if rng.random() < BUSINESS_SHARE else "personal"
        gender = rng.choices(["F", "M", "O", ""], weights=[0.48, 0.48, 0.01, 0.03])[0]
        age = int(round(_clip(rng.gauss(41, 13), 18, 80)))
        if segment == "business":
            if language == "zh":
                name = rng.choice(names["company_city"]) + rng.choice(names["company_word"]) + rng.choice(names["company_kind"])
            else:
                name = f"{rng.choice(names['company_word'])} {rng.choice(names['company_kind'])}"
        elif language == "zh":
            name = rng.choice(names["surname"]) + "".join(rng.choice(names["given"]) for _ in range(rng.choice([1, 2, 2])))
        else:
            first = names["first_f"] if gender == "F" else names["first_m"] if gender == "M" else names["first_f"] + names["first_m"]
            name = f"{rng.choice(first)} {rng.choice(names['last'])}"
        customers.append({
            "external_id": f"DEMO-{language.upper()}-C{i + 1:05d}",
            "display_name": name,
            "age": age,
            "gender": gender,
            "city": rng.choices(names["cities"], weights=names["city_weights"])[0],
            "segment": segment,
            "vip_level": rng.choices(VIP_LEVELS, weights=VIP_WEIGHTS)[0],
        })
    return customers


def _make_agents(rng: random.Random, n: int, language: str, anchor: dt.datetime) -> tuple[list[dict], list[float], list[int]]:
    names = TEXTS[language]["names"]
    agents, skills, teams = [], [], []
    used = set()
    for i in range(n):
        team = i % len(TEAM_SHARE) if i < len(TEAM_SHARE) else rng.choices(range(len(TEAM_SHARE)), weights=TEAM_SHARE)[0]
        while True:
            if language == "zh":
                name = rng.choice(names["surname"]) + "".join(rng.choice(names["given"]) for _ in range(2))
            else:
                name = f"{rng.choice(names['first_f'] + names['first_m'])} {rng.choice(names['last'])}"
            if name not in used:
                used.add(name)
                break
        tenure_days = rng.randint(45, 12 * 365)
        # Skill grows with tenure but varies a lot between people: agent reports should differ.
        skill = _clip(rng.gauss(0, 0.45) + 0.35 * (min(tenure_days, 5 * 365) / (5 * 365) - 0.5), -1.0, 1.0)
        agents.append({
            "external_id": f"DEMO-{language.upper()}-A{i + 1:03d}",
            "name": name,
            "team": names["teams"][team],
            "hired_at": (anchor - dt.timedelta(days=tenure_days)).date(),
            "active": not (n >= 10 and rng.random() < 0.04),
        })
        skills.append(skill)
        teams.append(team)
    return agents, skills, teams


def _start_times(rng: random.Random, n: int, days: int, anchor: dt.datetime) -> list[dt.datetime]:
    first_day = anchor.date() - dt.timedelta(days=days)
    day_list = [first_day + dt.timedelta(days=d) for d in range(days)]
    day_weights = [WEEKDAY_WEIGHTS[d.weekday()] for d in day_list]
    times = []
    for _ in range(n):
        day = rng.choices(day_list, weights=day_weights)[0]
        hour = rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
        local = dt.datetime.combine(day, dt.time(hour, rng.randrange(60), rng.randrange(60)), tzinfo=anchor.tzinfo)
        times.append(local.astimezone(dt.timezone.utc))
    times.sort()
    return times


def _intent_weights(customer: dict) -> dict:
    weights = dict(INTENT_WEIGHTS)
    if customer["segment"] == "business":
        for k, v in BUSINESS_BOOST.items():
            weights[k] *= v
    if customer["vip_level"] in ("gold", "diamond"):
        for k, v in VIP_BOOST.items():
            weights[k] *= v
    return weights


def _messages(rng, *, language, intent, sentiment, quality, skill, channel, started_at, slots, ambiguous_group,
              n_messages, pii, plan: QaPlan):
    gen = TEXTS[language]["generic"]
    turns = []
    # Good replies for high quality, curt ones for low quality, a mix in between (per agent turn);
    # only curt ones when the plan says the agent never answers.
    p_good = _clip((quality - 1.6) / 2.2, 0.02, 0.98) if plan.answered else 0.0
    if ambiguous_group is None and rng.random() < 0.1 and n_messages < 8:
        turns.append({"speaker": "system", "text": rng.choice(gen["system"]).format_map(slots)})
    pii_turn = rng.randrange((n_messages + 1) // 2) if pii else -1
    if pii and pii_turn == 0 and n_messages >= 3 and rng.random() < 0.6:
        pii_turn = 1  # usually given when the agent asks to verify
    used_c, used_a = set(), set()
    n_customer = 0
    for k in range(n_messages):
        last = k == n_messages - 1
        if k % 2 == 0:
            if k == 0:
                text, hint = _opening(rng, language, intent, sentiment, slots, ambiguous_group)
            else:
                text, hint = _customer_turn(rng, language, intent, sentiment, slots, used_c, last,
                                            ambiguous_group is not None)
            if n_customer == pii_turn:
                text = _with_pii(rng, language, text, slots)
            n_customer += 1
            turns.append({"speaker": "customer", "text": _noisy(rng, text, language)})
        else:
            good = rng.random() < p_good
            text = _agent_turn(rng, language, intent, sentiment, slots, used_a, hint=hint, first=k == 1, last=last,
                               good=good)
            turns.append({"speaker": "agent", "text": text})
    turns, plan = qa_apply(rng, turns=turns, plan=plan, language=language, intent=intent, slots=slots)
    offsets = _offsets(rng, turns, skill=skill, channel=channel)
    # Keep the whole contact within the resolution-time range: squeeze the later gaps if needed.
    tail = rng.uniform(5, 90)
    total = offsets[-1] + tail
    first_agent = next((o for o, t in zip(offsets, turns) if t["speaker"] == "agent"), 0.0)
    if total > MAX_RESOLUTION_S and len(turns) > 2:
        budget = MAX_RESOLUTION_S - tail - first_agent
        span = offsets[-1] - first_agent
        scale = budget / span if span > 0 else 1.0
        offsets = [first_agent + (o - first_agent) * scale if o > first_agent else o for o in offsets]
        total = offsets[-1] + tail
    # A slow agent reply (the plan's) comes on top: the contact runs that much longer.
    replies = [i for i in range(1, len(turns))
               if turns[i]["speaker"] == "agent" and turns[i - 1]["speaker"] == "customer"]
    delay = rng.uniform(*SLOW_REPLY_S)
    if plan.slow_reply:
        i = replies[-1]
        extra = delay - (offsets[i] - offsets[i - 1])
        offsets = offsets[:i] + [o + extra for o in offsets[i:]]
        total += extra
    else:
        extra = 0.0
    duration = _clip(total, MIN_RESOLUTION_S, MAX_RESOLUTION_S + extra)
    out = []
    for seq, (turn, offset) in enumerate(zip(turns, offsets)):
        sent_at = started_at + dt.timedelta(seconds=round(offset))
        out.append({"seq": seq, "speaker": turn["speaker"], "text": turn["text"], "sent_at": sent_at})
    return out, started_at + dt.timedelta(seconds=round(duration)), plan


def _offsets(rng, turns, *, skill, channel) -> list[float]:
    """Seconds from the first message: customers type, agents reply (first reply 5-120 s, later
    ones within ``MAX_NORMAL_REPLY_S``), an agent's second message in a row follows quickly."""
    phone = channel == "phone"
    offsets, t, n_agent_replies = [], 0.0, 0
    for i, turn in enumerate(turns):
        previous = turns[i - 1]["speaker"] if i else None
        if previous is None or previous == "system":
            gap = 0.0
        elif turn["speaker"] == "customer":
            gap = rng.triangular(4, 90, 12) if phone else rng.triangular(8, 240, 35)
        elif previous == "agent":
            gap = rng.uniform(3, 25)
        elif n_agent_replies == 0:
            mode = _clip(30 - 22 * skill + (15 if channel == "email" else 0), 6, 110)
            gap = rng.triangular(5, 120, mode)
        else:
            gap = rng.triangular(3, 60, 10) if phone else rng.triangular(5, MAX_NORMAL_REPLY_S, 30 - 15 * skill)
        if turn["speaker"] == "agent" and previous == "customer":
            n_agent_replies += 1
        t += gap
        offsets.append(t)
    return offsets


def generate_demo(
    *,
    anchor: dt.datetime,
    n_conversations: int = 3000,
    n_agents: int = 50,
    n_customers: int = 800,
    language: str = "zh",
    seed: int = 0,
    days: int = 30,
) -> DemoData:
    """Generate a deterministic demo contact centre.

    ``anchor`` is an aware datetime (midnight of the anchor date); conversations start in
    the ``days`` days before it. Same arguments, same data.
    """
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, not {language!r}")
    if anchor.tzinfo is None:
        raise ValueError("anchor must be an aware datetime")
    if days < 1 or n_conversations < 0 or n_agents < 1 or n_customers < 1:
        raise ValueError("days, agents and customers must be >= 1 and conversations >= 0")
    rng = random.Random(seed)
    lang_tag = language.upper()
    label_names = dict(zip(INTENTS_EN, INTENTS_ZH)) if language == "zh" else {k: k for k in INTENTS_EN}

    customers = _make_customers(rng, n_customers, language)
    agents, skills, teams = _make_agents(rng, n_agents, language, anchor)
    # Some customers call far more often than others.
    customer_weights = [rng.lognormvariate(0, 0.8) for _ in customers]
    agent_load = [rng.uniform(0.6, 1.4) if a["active"] else 0.0 for a in agents]
    if not any(agent_load):
        agent_load = [1.0] * len(agents)
    team_members = {}
    for i, team in enumerate(teams):
        if agent_load[i]:
            team_members.setdefault(team, []).append(i)
    team_of_intent = {intent: t for t, intents in enumerate(TEAM_INTENTS) for intent in intents}
    start_times = _start_times(rng, n_conversations, days, anchor)
    channels = CHANNEL_WEIGHTS[language]

    conversations, qa_truth = [], {}
    for n, started_at in enumerate(start_times):
        customer = rng.choices(customers, weights=customer_weights)[0]
        intent = _weighted(rng, _intent_weights(customer))
        ambiguous_group = None
        if intent in RELATED and rng.random() < AMBIGUOUS_SHARE:
            ambiguous_group = rng.choice(RELATED[intent])
        label = intent
        if intent in RELATED and rng.random() < LABEL_NOISE_SHARE:  # a wrong CRM label, as in real data
            label = rng.choice([i for g in RELATED[intent] for i in AMBIGUOUS_GROUPS[g] if i != intent])
        sentiment = rng.choices(SENTIMENTS, weights=SENTIMENT_BY_INTENT[intent])[0]

        team = team_of_intent.get(intent, 0)
        members = team_members.get(team) if rng.random() < TEAM_ROUTING_P else None
        pool = members or [i for i, w in enumerate(agent_load) if w]
        a = rng.choices(pool, weights=[agent_load[i] for i in pool])[0]
        skill = skills[a]

        resolved = rng.random() < _clip(RESOLVED_P[sentiment] + 0.12 * skill, 0.05, 0.99)
        low, high = QUALITY_RANGE[sentiment]
        quality = rng.uniform(low, high) + 0.45 * skill + (0.15 if resolved else -0.5)
        quality = round(_clip(quality, 1.0, 5.0), 1)
        plan = qa_plan_draw(rng, intent=intent, sentiment=sentiment, quality=quality, resolved=resolved)
        if plan.violation:  # a compliance breach is a poor conversation, whatever else happened
            quality = min(quality, VIOLATION_MAX_QUALITY)
        csat = None
        if rng.random() < CSAT_SHARE:
            csat = int(_clip(round(quality + rng.gauss(0, 0.6)), 1, 5))

        channel = _weighted(rng, channels)
        n_messages = rng.choices(list(N_MESSAGES_WEIGHTS), weights=list(N_MESSAGES_WEIGHTS.values()))[0]
        if (sentiment == "negative" or not resolved) and n_messages < 7 and rng.random() < 0.4:
            n_messages += 2
        slots = _Slots(rng, language, {
            "agent_no": agents[a]["external_id"][-3:], "city": customer["city"],
            "agent_nick": "小" + agents[a]["name"][0] if language == "zh" else agents[a]["name"].split()[0],
        })
        messages, ended_at, plan = _messages(
            rng, language=language, intent=intent, sentiment=sentiment, quality=quality, skill=skill,
            channel=channel, started_at=started_at, slots=slots, ambiguous_group=ambiguous_group,
            n_messages=n_messages, pii=rng.random() < PII_SHARE, plan=plan,
        )
        qa_truth[f"DEMO-{lang_tag}-V{n + 1:06d}"] = plan
        conversations.append({
            "external_id": f"DEMO-{lang_tag}-V{n + 1:06d}",
            "customer": customer["external_id"],
            "agent": agents[a]["external_id"],
            "channel": channel,
            "language": language,
            "started_at": started_at,
            "ended_at": ended_at,
            "resolved": resolved,
            "csat": csat,
            "label_intent": label_names[label],
            "label_sentiment": sentiment,
            "label_quality": quality,
            "messages": messages,
        })
    skill_by_agent = {agent["external_id"]: skill for agent, skill in zip(agents, skills)}
    return DemoData(customers=customers, agents=agents, conversations=conversations, agent_skill=skill_by_agent,
                    qa_truth=qa_truth)
