"""Text helpers of the reply index (:mod:`ml.retrieval`): language codes, n-gram ranges,
reply pairing and dedupe keys.

Pure Python; never imports Django.
"""

import functools
import re
import unicodedata

CJK_LANGUAGES = ("zh", "ja", "ko")
_SAFE = re.compile(r"[^a-z0-9_-]")
_SPACES = re.compile(r"\s+")


def normalize_language(language, text=None):
    """Return a short language code: ``"zh-CN"`` -> ``"zh"``; detected from ``text`` when blank.

    Parameters
    ----------
    language : str or None
    text : str, optional
        Used only when ``language`` is blank: mostly CJK ideographs -> ``"zh"``, else ``"en"``.

    Returns
    -------
    str
    """
    code = str(language or "").strip().lower().replace("_", "-").split("-")[0]
    code = _SAFE.sub("", code)
    if code:
        return code
    if text:
        chars = [ch for ch in text if not ch.isspace()]
        cjk = sum(1 for ch in chars if "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff")
        return "zh" if chars and cjk / len(chars) > 0.3 else "en"
    return "zh"


def default_ngram_range(language):
    """Character n-gram range for a language: (1, 3) for CJK, (2, 4) otherwise."""
    return (1, 3) if language in CJK_LANGUAGES else (2, 4)


def reply_pairs(messages):
    """Pair each agent reply with the customer message it answered.

    A reply is the first agent message after a customer message; the customer message
    is the one immediately preceding it (system messages in between are skipped). Agent
    messages with no customer message before them (greetings) are not paired, and a run
    of agent messages yields one pair, its first message.

    Parameters
    ----------
    messages : iterable of dict
        ``{"seq": int, "speaker": "customer"|"agent"|"system", "text": str}``, any order.

    Returns
    -------
    list of tuple (str, str)
        ``(customer_message, agent_reply)`` in conversation order.
    """
    ordered = sorted(messages, key=lambda m: m.get("seq") or 0)
    pairs, last_customer = [], None
    for message in ordered:
        speaker = str(message.get("speaker") or "").lower()
        text = str(message.get("text") or "").strip()
        if speaker == "customer":
            last_customer = text or None
        elif speaker == "agent":
            if last_customer and text:
                pairs.append((last_customer, text))
            last_customer = None
    return pairs


@functools.lru_cache(maxsize=65536)  # search asks again for the same indexed replies
def _dedupe_key(text):
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip().lower()
