"""QA behaviours of the demo's agents: what each conversation does right or wrong, and the
phrase catalogue (``texts/qa.json``) that says it.

A quality programme grades conversations against a scorecard; the demo's conversations must
give every criterion of the default bank scorecard something to find, at the rates a real
contact centre sees. For each conversation the generator draws a :class:`QaPlan` from the
seeded RNG (``qa_plan_draw``), conditioned on the conversation's quality label (lower quality,
more failures) and sentiment, then ``qa_apply`` writes the plan into the agent's turns with
the catalogue's phrases. ``DemoData.qa_truth`` keeps every plan, keyed by external id.

The catalogue, per language (``zh``, ``en``), every phrase spoken by the agent unless noted:

==================  ==================================================  ====================
behaviour           catalogue key (where it goes)                       share of conversations
==================  ==================================================  ====================
greeting + intro    ``greeting_intro`` (start of the first agent        ~87 % intro,
                    message); ``greeting_only`` (greets, no name or     ~4 % greeting only,
                    number); missing: the agent starts with the answer  ~9 % missing
need understood     ``restate`` (first agent message, after the         ~86 %
                    greeting; ``{need}`` from ``need[intent]``)
no answer given     ``deflect`` replaces the first reply; every agent   ~5-7 % (more when
                    turn is then curt                                   unresolved)
empathy             ``empathy`` before the restatement in the first     negative customers
                    agent message; only when the customer is negative   only: ~70 % of them
account details     ``disclose[intent]`` (appended to the first reply   ~22 % disclose
disclosed           of balance, account, transfer and repayment
                    conversations; some intent replies disclose too)
identity verified   ``verify_ask`` (agent) and ``verify_give``          of the disclosing:
                    (customer) right before the disclosing message,     ~90 % before,
                    which starts with ``verify_ok``; after:             ~4-8 % after,
                    ``verify_after_ask`` as the agent's next message,   ~5 % missing
                    then ``verify_give``, ``verify_ok``; missing: none
compliance          ``violation[kind]`` appended to an agent message    ~1.3 % in all
(auto-fail)         (not the last one): ``card_number``, ``password``,
                    ``cvv``, ``otp``;
                    ``guaranteed_return`` (wealth intents only)
closing question    ``closing`` at the end of the last agent message    ~85 %
slow reply          one agent reply 240-900 s after the customer        ~6 %
                    (every other reply comes within 120 s)
repeated sentence   one ``repeat`` sentence in two agent messages       ~3 %
==================  ==================================================  ====================

Breaches are drawn with the seeded RNG after the conversation's quality label, at a rate that
grows as quality falls (``_risk``); a conversation with a compliance breach has quality at most
``generator.VIOLATION_MAX_QUALITY``; deflections are likelier when the contact is unresolved.

``detect`` holds one reference regular expression per behaviour (case-insensitive, on agent
messages; ``greeting``, ``self_introduction`` and ``restate`` on the first agent message,
``closing`` on the last; ``verify`` and ``disclose`` give the message numbers an anchored
rule compares: verification is "before" when the first ``verify`` message precedes the first
``disclose`` message; ``sentence_split`` splits agent messages into sentences for the
repeated-sentence check). ``tests/demo/test_qa.py`` checks that these expressions find
exactly what the plans put in, so a scorecard rule built from them answers each criterion
as the plan says. Legitimate wording a rule must not flag sits next to the violations:
agents ask for the *last four digits* of an ID or phone (``verify_ask``), replies explain
how to reset a password or receive a verification code, and a wealth reply says products
are *not* capital-guaranteed.
"""
from __future__ import annotations

import json
import math
import random
import re
from dataclasses import dataclass, replace
from pathlib import Path

with open(Path(__file__).resolve().parent / "texts" / "qa.json", encoding="utf-8") as _f:
    QA_TEXTS = json.load(_f)

GREETINGS = ("intro", "greeting_only", "missing")
VERIFICATIONS = ("before", "after", "missing")
VIOLATIONS = ("card_number", "password", "cvv", "otp", "guaranteed_return")
WEALTH_INTENTS = ("wealth_management", "product_info", "insurance_inquiry", "risk_assessment", "promotions")
SLOW_REPLY_S = (240, 900)
MAX_NORMAL_REPLY_S = 120

DETECT = {
    language: {name: re.compile(pattern, re.IGNORECASE) for name, pattern in texts["detect"].items()}
    for language, texts in QA_TEXTS.items()
}


@dataclass(frozen=True)
class QaPlan:
    """What the agent does in one conversation (``None``: the criterion does not apply)."""

    greeting: str  # one of GREETINGS
    understood: bool  # the agent restates the customer's need
    answered: bool  # False: the agent deflects instead of answering
    empathy: bool | None  # None unless the customer is negative
    verification: str | None  # one of VERIFICATIONS; None when no account details are disclosed
    violation: str | None  # one of VIOLATIONS
    closing: bool  # the last agent message asks whether anything else is needed
    slow_reply: bool  # one agent reply takes SLOW_REPLY_S
    repeated: bool  # the agent says one sentence twice


def _risk(quality: float) -> float:
    """How much more often than the base rate a conversation of this quality breaks a criterion."""
    return min(4.0, max(0.3, math.exp(0.8 * (3.3 - quality))))


def _p(base: float, risk: float) -> float:
    return min(0.9, base * risk)


def qa_plan_draw(rng: random.Random, *, intent: str, sentiment: str, quality: float, resolved: bool) -> QaPlan:
    """Draw one conversation's behaviours; always the same number of draws, in the same order."""
    risk = _risk(quality)
    r_greet, r_understood, r_answered, r_empathy = rng.random(), rng.random(), rng.random(), rng.random()
    r_verify, r_violation, r_kind, r_closing = rng.random(), rng.random(), rng.random(), rng.random()
    r_slow, r_repeat = rng.random(), rng.random()

    p_missing, p_only = _p(0.10, risk), _p(0.04, risk)
    greeting = "missing" if r_greet < p_missing else "greeting_only" if r_greet < p_missing + p_only else "intro"
    answered = r_answered >= _p(0.035 if resolved else 0.10, risk)
    understood = answered and r_understood >= _p(0.10, risk)
    empathy = None if sentiment != "negative" else r_empathy >= _p(0.12, risk)
    p_after, p_missing_verify = _p(0.08, risk), _p(0.06, risk)
    verification = "after" if r_verify < p_after else "missing" if r_verify < p_after + p_missing_verify else "before"
    violation = None
    if r_violation < _p(0.012, risk):
        violation = VIOLATIONS[int(r_kind * 4)]
    elif intent in WEALTH_INTENTS and r_violation < _p(0.012, risk) + _p(0.025, risk):
        violation = "guaranteed_return"
    closing = r_closing >= _p(0.12 if resolved else 0.25, risk)
    return QaPlan(greeting=greeting, understood=understood, answered=answered, empathy=empathy,
                  verification=verification, violation=violation, closing=closing,
                  slow_reply=r_slow < _p(0.06, risk), repeated=r_repeat < _p(0.035, risk))


def _join(language: str, *parts: str) -> str:
    text = "".join(parts) if language == "zh" else " ".join(p.strip() for p in parts if p.strip())
    return text.strip()


def qa_apply(rng: random.Random, *, turns: list[dict], plan: QaPlan, language: str, intent: str,
             slots: dict) -> tuple[list[dict], QaPlan]:
    """Write ``plan`` into ``turns`` (dicts with ``speaker`` and ``text``); return the new turns and
    the plan as it applies to them (``verification`` is None when nothing was disclosed, ``repeated``
    False when the agent speaks once)."""
    qa = QA_TEXTS[language]
    detect = DETECT[language]
    turns = [dict(t) for t in turns]

    def agent_indices():
        return [i for i, t in enumerate(turns) if t["speaker"] == "agent"]

    first = agent_indices()[0]
    if not plan.answered:
        turns[first]["text"] = rng.choice(qa["deflect"])
    elif intent in qa["disclose"] and rng.random() < 0.7 and not detect["disclose"].search(turns[first]["text"]):
        turns[first]["text"] = _join(language, turns[first]["text"], rng.choice(qa["disclose"][intent]).format_map(slots))

    disclosing = next((i for i in agent_indices() if detect["disclose"].search(turns[i]["text"])), None)
    if disclosing is None:
        plan = replace(plan, verification=None)
    elif plan.verification == "before":
        turns[disclosing]["text"] = _join(language, rng.choice(qa["verify_ok"]), turns[disclosing]["text"])
        turns[disclosing:disclosing] = [
            {"speaker": "agent", "text": rng.choice(qa["verify_ask"])},
            {"speaker": "customer", "text": rng.choice(qa["verify_give"]).format_map(slots)},
        ]
    elif plan.verification == "after":
        turns[disclosing + 1:disclosing + 1] = [
            {"speaker": "agent", "text": rng.choice(qa["verify_after_ask"])},
            {"speaker": "customer", "text": rng.choice(qa["verify_give"]).format_map(slots)},
            {"speaker": "agent", "text": rng.choice(qa["verify_ok"]).strip()},
        ]

    agents = agent_indices()
    if plan.violation:  # mid-conversation: the last agent message is often a farewell
        target = rng.choice(agents[:-1] or agents)
        phrase = rng.choice(qa["violation"][plan.violation]).format_map(slots)
        turns[target]["text"] = _join(language, turns[target]["text"], phrase)
    if plan.repeated and len(agents) >= 2:
        sentence = rng.choice(qa["repeat"])
        for i in rng.sample(agents, 2):
            turns[i]["text"] = _join(language, turns[i]["text"], sentence)
    elif plan.repeated:
        plan = replace(plan, repeated=False)
    if plan.closing:
        turns[agents[-1]]["text"] = _join(language, turns[agents[-1]]["text"], rng.choice(qa["closing"]))

    opening = []
    if plan.greeting != "missing":
        opening.append(rng.choice(qa["greeting_intro" if plan.greeting == "intro" else "greeting_only"]).format_map(slots))
    if plan.empathy:
        opening.append(rng.choice(qa["empathy"]))
    if plan.understood:
        opening.append(rng.choice(qa["restate"]).format(need=qa["need"][intent]))
    if opening:
        text = _join(language, *opening, turns[first]["text"])
        turns[first]["text"] = text[0].upper() + text[1:] if language == "en" else text
    return turns, plan

