"""Phrase data for the demo generator (``apps/demo/generator.py``), read from
``texts/*.json``: data, not code, kept apart so the generator stays readable.

Per language (``zh.json``, ``en.json``):

* ``slots``: slot values; templates use ``{slot}`` placeholders, filled once per
  conversation so the turns stay consistent (``zh.json`` also has ``districts`` per city
  and ``generic_districts`` for the other cities);
* ``intents``: per intent, customer openings (``open``), customer follow-ups, good agent
  replies and curt agent replies;
* ``ambiguous``: phrasings shared by a group of related intents (index into
  ``generator.AMBIGUOUS_GROUPS``);
* ``generic``: greetings, politeness, filler and other generic pieces;
* ``names``: name parts for customers and agents.

``answers.json``: which good agent reply answers which customer template (index into
``good``, null: any), per intent: [openings, follow-ups]. The zh and en lists are parallel
translations, so one map serves both; a first reply usually answers the question asked.
"""
from __future__ import annotations

import json
from pathlib import Path

_DIR = Path(__file__).resolve().parent / "texts"


def _read(name: str):
    with open(_DIR / name, encoding="utf-8") as f:
        return json.load(f)


_ZH, _EN = _read("zh.json"), _read("en.json")

ZH_SLOTS, EN_SLOTS = _ZH["slots"], _EN["slots"]
ZH_DISTRICTS, _ZH_GENERIC_DISTRICTS = _ZH["districts"], _ZH["generic_districts"]
ZH_INTENTS, EN_INTENTS = _ZH["intents"], _EN["intents"]
ZH_AMBIGUOUS, EN_AMBIGUOUS = _ZH["ambiguous"], _EN["ambiguous"]
ZH_GENERIC, EN_GENERIC = _ZH["generic"], _EN["generic"]
ZH_NAMES, EN_NAMES = _ZH["names"], _EN["names"]
ANSWERS = _read("answers.json")

TEXTS = {
    "zh": {"slots": ZH_SLOTS, "intents": ZH_INTENTS, "ambiguous": ZH_AMBIGUOUS, "generic": ZH_GENERIC, "names": ZH_NAMES},
    "en": {"slots": EN_SLOTS, "intents": EN_INTENTS, "ambiguous": EN_AMBIGUOUS, "generic": EN_GENERIC, "names": EN_NAMES},
}
