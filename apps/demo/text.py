"""Text pieces of the demo generator: slot filling, PII snippets and the wording of each
customer and agent turn (``apps/demo/generator.py`` draws the conversations)."""
from __future__ import annotations

import random
import re

from .phrases import _ZH_GENERIC_DISTRICTS, ANSWERS, TEXTS, ZH_DISTRICTS


def luhn_check_digit(digits: str) -> str:
    """The digit that makes ``digits`` + it pass the Luhn check (``ml.pii.luhn_valid``)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:  # these positions get doubled once the check digit is appended
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


class _Slots(dict):
    """Slot values for one conversation: drawn on first use, then reused by every turn."""

    def __init__(self, rng: random.Random, language: str, fixed: dict):
        super().__init__(fixed)
        self.rng = rng
        self.language = language
        self.pool = TEXTS[language]["slots"]

    def __missing__(self, key: str) -> str:
        value = self._draw(key)
        self[key] = value
        return value

    def _money(self, low: int, high: int, step: int) -> str:
        n = self.rng.randrange(low, high, step)
        if self.language == "en":
            return f"${n:,}"
        if n >= 10000 and n % 10000 == 0 and self.rng.random() < 0.5:
            return f"{n // 10000}万"
        return f"{n}元"

    def _draw(self, key: str) -> str:
        rng = self.rng
        if key == "district" and self.language == "zh":
            return rng.choice(ZH_DISTRICTS.get(self["city"], _ZH_GENERIC_DISTRICTS))
        if key in self.pool:
            return rng.choice(self.pool[key])
        if key == "product2":
            return rng.choice([p for p in self.pool["product"] if p != self["product"]])
        if key in ("last4", "phone4"):
            return f"{rng.randrange(10000):04d}"
        if key == "id4":  # the last four characters of a resident ID: a check character may be X
            return f"{rng.randrange(1000):03d}" + rng.choice("0123456789X")
        if key == "amount":
            return self._money(*rng.choice([(100, 2000, 50), (1000, 20000, 100), (10000, 200001, 10000)]))
        if key == "amount_small":
            return self._money(*rng.choice([(50, 500, 10), (100, 1001, 100)]))
        if key == "balance":
            value = rng.randrange(100, 300000) / 100 * rng.choice([1, 1, 10, 100])
            return f"${value:,.2f}" if self.language == "en" else f"{value:,.2f}"
        if key == "fee":
            value = rng.choice([2, 3, 5, 10, 12, 15, 20, 50, 100, 200])
            return f"${value}" if self.language == "en" else str(value)
        if key == "rate":
            return f"{rng.randrange(240, 720) / 100:.2f}"
        if key == "monthly":
            value = rng.randrange(300, 12000)
            return f"${value:,}" if self.language == "en" else str(value)
        if key == "n_accounts":
            return str(rng.randint(2, 4))
        if key == "n_wrong":
            return rng.choice(["3", "5", "6", "三", "五"]) if self.language == "zh" else rng.choice(["3", "5", "6"])
        if key == "level_max":
            return str(self.pool["risk_level"].index(self["risk_level"]) + 1)
        if key == "product_level":
            return str(min(5, int(self["level_max"]) + rng.randint(1, 2)))
        if key == "used_quota":
            return f"{rng.randrange(0, 45000, 500):,}"
        if key == "ticket":
            return f"CS{rng.randrange(100000):05d}-{rng.choice('ABCDEFGHJKLMNPQRSTUVWXYZ')}{rng.randrange(100):02d}"
        if key == "queue":
            return str(rng.randint(1, 30))
        if key == "phone":
            return _phone(rng, self.language)
        if key == "cardno":
            return _card_number(rng)
        if key == "email":
            return _email(rng, self.language)
        raise KeyError(key)


def _phone(rng: random.Random, language: str) -> str:
    if language == "zh":
        return "1" + rng.choice("35789") + "".join(str(rng.randrange(10)) for _ in range(9))
    # Numbers from ranges reserved for fiction (Ofcom's 07700 900xxx, NANP 555-01xx), in international
    # form: the masker does not (yet) recognise UK national numbers such as "07700 900123".
    if rng.random() < 0.5:
        return f"+44 7700 900{rng.randrange(1000):03d}"
    return f"+1 {rng.choice(['202', '312', '415', '617'])}-555-01{rng.randrange(100):02d}"


def _card_number(rng: random.Random) -> str:
    prefix = rng.choice(["6222", "6228", "6217", "6214", "4392", "5187"])
    length = rng.choice([16, 16, 16, 19])
    body = prefix + "".join(str(rng.randrange(10)) for _ in range(length - len(prefix) - 1))
    number = body + luhn_check_digit(body)
    if rng.random() < 0.4:
        return " ".join(number[i:i + 4] for i in range(0, len(number), 4))
    return number


def _email(rng: random.Random, language: str) -> str:
    if language == "zh":
        user = rng.choice(["zhang", "wang", "li", "liu", "chen", "yang", "huang", "zhao", "wu", "zhou"])
        user += rng.choice(["wei", "fang", "jing", "lei", "min", "yu", "hao", "na", ""]) + str(rng.randrange(1, 999))
    else:
        user = rng.choice(["emma", "oliver", "grace", "jack", "sophie", "harry", "mia", "leo"])
        user += rng.choice([".", "_", ""]) + rng.choice(["smith", "jones", "t", "k", "b", ""]) + str(rng.randrange(1, 99))
    return f"{user}@{rng.choice(['example.com', 'example.org', 'example.net', 'mail.example.com'])}"


def _noisy(rng: random.Random, text: str, language: str) -> str:
    """Chat-style noise: dropped punctuation, doubled question marks, lower case."""
    r = rng.random()
    if language == "zh":
        if r < 0.08:
            return text.rstrip("。！？!?～")
        if r < 0.13 and text.endswith("？"):
            return text + "？"
        return text
    if r < 0.12:
        return text.lower()
    if r < 0.17:
        return text.rstrip(".!?")
    if r < 0.20 and text.endswith("?"):
        return text + "?"
    return text


def _finish_sentence(text: str, language: str) -> str:
    """End a template with the punctuation a customer would likely type."""
    if language == "zh":
        if text[-1] in "。！？!?～，":
            return text
        clause = re.split(r"[，。！？,.!?]", text)[-1]
        return text + ("？" if any(w in clause for w in _ZH_QUESTION_WORDS) else "。")
    return text if text[-1] in ".!?)" else text + ("?" if _looks_like_question(text) else ".")


_ZH_QUESTION_WORDS = ("吗", "怎么", "多少", "哪", "什么", "几点", "几类", "能不能", "是不是", "要不要", "多久", "多长")


def _looks_like_question(text: str) -> bool:
    last_sentence = re.split(r"[.?!] ", text)[-1]
    first = last_sentence.split(" ", 1)[0].lower().strip(",")
    return first in {"how", "what", "why", "when", "where", "which", "can", "could", "is", "are", "do", "does", "will",
                     "should", "has", "have", "who"}


def _concat_en(parts: list[str]) -> str:
    """Join sentence pieces, fixing the case of a piece that continues a sentence."""
    text = ""
    for part in parts:
        if not part:
            continue
        if text.endswith(", ") and not (part.startswith("I ") or part.startswith("I'")):
            part = part[0].lower() + part[1:]
        elif not text or text.endswith((". ", "? ", "! ", ": ")):
            part = part[0].upper() + part[1:]
        text += part
    return text.strip()


def _opening(rng, language, intent, sentiment, slots, ambiguous_group) -> tuple[str, int | None]:
    """The customer's first message and the index of the good reply that answers it."""
    texts = TEXTS[language]
    gen = texts["generic"]
    if ambiguous_group is not None:
        core, hint = rng.choice(texts["ambiguous"][ambiguous_group]), None
    else:
        i = rng.randrange(len(texts["intents"][intent]["open"]))
        core, hint = texts["intents"][intent]["open"][i], ANSWERS[intent][0][i]
    core = _finish_sentence(core.format_map(slots), language)
    prefix = rng.choice(gen["neg_prefix"]) if sentiment == "negative" and rng.random() < 0.35 else ""
    parts = [rng.choice(gen["greeting"]), prefix, rng.choice(gen["polite"]), core, rng.choice(gen["tail"][sentiment])]
    if language == "zh":
        return "".join(parts).strip(), hint
    return _concat_en(parts), hint


def _customer_turn(rng, language, intent, sentiment, slots, used, last, ambiguous) -> tuple[str, int | None]:
    gen = TEXTS[language]["generic"]
    if last and rng.random() < 0.55:
        return rng.choice(gen["close"][sentiment]), None
    follow = TEXTS[language]["intents"][intent]["follow"]
    unused = [i for i in range(len(follow)) if i not in used]
    if unused and rng.random() < (0.25 if ambiguous else 0.6):
        i = rng.choice(unused)
        used.add(i)
        return _finish_sentence(follow[i].format_map(slots), language), ANSWERS[intent][1][i]
    generic = [t for t in gen["follow"][sentiment] if t not in used] or gen["follow"][sentiment]
    text = rng.choice(generic)
    used.add(text)
    return _finish_sentence(text.format_map(slots), language), None


def _agent_turn(rng, language, intent, sentiment, slots, used, *, hint, first, last, good) -> str:
    gen = TEXTS[language]["generic"]
    if last and not first and hint is None and rng.random() < 0.6:
        return rng.choice(gen["agent_close"] if good else gen["agent_curt_close"]).format_map(slots)
    pool = TEXTS[language]["intents"][intent]["good" if good else "curt"]
    kind = "good" if good else "curt"
    if good and hint is not None and (kind, hint) not in used and rng.random() < 0.85:
        i = hint
    else:
        unused = [i for i in range(len(pool)) if (kind, i) not in used] or list(range(len(pool)))
        i = rng.choice(unused)
    used.add((kind, i))
    text = pool[i].format_map(slots)
    # The greeting, empathy and closing question are the QA layer's (``qa.qa_apply``).
    if good and last and not first and rng.random() < 0.5:
        text = text + (" " if language == "en" else "") + rng.choice(gen["agent_close"])
    return text


def _with_pii(rng, language, text, slots):
    gen = TEXTS[language]["generic"]
    snippet = rng.choice(gen["pii"]).format_map(slots)
    if language == "zh":
        text = text.rstrip("。")
        return text + ("" if text.endswith(("？", "！", "?", "!", "～")) else rng.choice(gen["pii_join"])) + snippet
    text = text.rstrip(".")
    join = " " if text.endswith(("?", "!", ")")) else rng.choice(gen["pii_join"])
    if join != ", ":
        snippet = snippet[0].upper() + snippet[1:]
    return text + join + snippet
