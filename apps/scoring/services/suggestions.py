"""Reply suggestions for agents: rules kept as data (``SuggestionRule``) plus the best past replies.

``suggest`` is called on the hot path (predict API, review screen, admin conversation page),
so active rules are cached in each process (``apps.core.cache.TTLCache``). The cache is
dropped when the rules' shared generation (in Django's cache, renewed by
``suggestion_rules_invalidate`` whenever the admin saves or deletes a rule) changes, checked at
most every ``GENERATION_CHECK_SECONDS``, and in any case after ``SUGGESTION_RULES_TTL`` seconds, so
edits made elsewhere (shell, migrations, another process with a local-memory cache) show up
within that time.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from apps.core.cache import TTLCache
from apps.core.labels import SENTIMENT_ALIASES
from apps.scoring.models import SuggestionRule
from .retrieval import canonical_intent, reply_search
from ml.retrieval import normalize_language

MAX_SUGGESTIONS = 5
RULES_SHARED_KEY = "scoring-suggestion-rules"
# Seconds between checks of the shared generation counter (one cache read per process per interval).
GENERATION_CHECK_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class _Rule:
    intent: str
    sentiment: str
    min_quality: float | None
    max_quality: float | None
    text_zh: str
    text_en: str


def _ttl() -> float:
    return float(settings.SUGGESTION_RULES_TTL)


def _rules_load() -> tuple[_Rule, ...]:
    return tuple(
        _Rule(
            intent=canonical_intent(r.intent),
            sentiment=normalize_sentiment(r.sentiment),
            min_quality=r.min_quality,
            max_quality=r.max_quality,
            text_zh=r.text_zh.strip(),
            text_en=r.text_en.strip(),
        )
        for r in SuggestionRule.objects.filter(active=True).order_by("priority", "id")
    )


_rules = TTLCache(ttl=_ttl, maxsize=1, shared_key=RULES_SHARED_KEY, sync_seconds=GENERATION_CHECK_SECONDS)


def suggestion_rules_active() -> tuple[_Rule, ...]:
    """The active rules in priority order, from this process's cache."""
    return _rules.get_or_set("rules", _rules_load)


def suggestion_rules_invalidate() -> None:
    """Make every process reload the rules (call after saving or deleting rules)."""
    _rules.invalidate()


def normalize_sentiment(sentiment: str | None) -> str:
    value = (sentiment or "").strip()
    return SENTIMENT_ALIASES.get(value.lower(), SENTIMENT_ALIASES.get(value, value.lower()))


def suggestion_language(language: str | None) -> str:
    """``"zh"`` for Chinese (``zh``, ``zh-CN``, ...), ``"en"`` for anything else."""
    return "zh" if (language or "zh").strip().lower().startswith("zh") else "en"


def _matches(rule: _Rule, *, intent: str, sentiment: str, quality: float | None) -> bool:
    if rule.intent and rule.intent != intent:
        return False
    if rule.sentiment and rule.sentiment != sentiment:
        return False
    # Quality bounds are half-open, [min_quality, max_quality), so adjacent rules never overlap.
    if rule.min_quality is not None and (quality is None or quality < rule.min_quality):
        return False
    if rule.max_quality is not None and (quality is None or quality >= rule.max_quality):
        return False
    return True


def suggestion_texts(*, intent: str, sentiment: str, quality: float | None, language: str) -> list[str]:
    """Texts of the active rules that match, in priority order, deduplicated, at most five.

    A rule matches when its intent is blank or equal (Chinese and English demo intent names
    are the same intent), its sentiment is blank or equal, and ``quality`` lies in
    ``[min_quality, max_quality)`` (a rule with a bound never matches an unknown quality).
    """
    intent = canonical_intent(intent)
    sentiment = normalize_sentiment(sentiment)
    quality = None if quality is None else float(quality)
    zh = suggestion_language(language) == "zh"
    out: list[str] = []
    seen: set[str] = set()
    for rule in suggestion_rules_active():
        if not _matches(rule, intent=intent, sentiment=sentiment, quality=quality):
            continue
        text = (rule.text_zh if zh else rule.text_en) or rule.text_en or rule.text_zh
        if text and text not in seen:
            seen.add(text)
            out.append(text)
            if len(out) == MAX_SUGGESTIONS:
                break
    return out


def suggest(*, intent: str, sentiment: str, quality: float | None, text: str, language: str,
            k_replies: int = 3) -> dict:
    """Suggestions for the agent answering ``text``.

    Returns
    -------
    dict
        ``{"suggestions": [at most 5 rule texts in the requested language],
        "replies": [{"text", "conversation_external_id", "quality", "similarity"}]}`` where
        replies are the best past agent replies (resolved conversations of quality >= 4, same
        intent and language, nearest customer messages first). Texts are PII-masked.
    """
    language = normalize_language(language, text)
    return {
        "suggestions": suggestion_texts(intent=intent, sentiment=sentiment, quality=quality, language=language),
        "replies": reply_search(text=text, intent=intent, language=language, k=k_replies),
    }
