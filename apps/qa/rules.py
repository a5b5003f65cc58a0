"""The QA rule engine: boolean expressions over numbered conditions, evaluated on one transcript.

A rule is data (JSON)::

    {
      "expression": "!1 || 2",              # over condition numbers: && || ! and parentheses
      "applies": "3",                       # optional: when false, the answer is "na"
      "answer_when_true": "yes",            # "yes" (default) or "no": what a true expression means
      "conditions": {
        "1": {"operator": "regex", "pattern": "余额|balance", "speaker": "agent"},
        "2": {"operator": "keywords", "words": ["验证", "verify"], "speaker": "agent",
              "anchor": {"condition": "1", "where": "before"}},
        "3": {"operator": "sentiment", "polarity": "negative", "speaker": "customer"}
      }
    }

Each condition is one operator with a scope. The scope is the list of sentences (messages cut
at sentence punctuation, in transcript order) of ``speaker`` (``agent``, ``customer`` or
``any``), limited to the ``first`` or ``last`` N of them, and, with an ``anchor``, to the
sentences strictly before or after the first sentence where condition k matched. A condition
whose anchor did not match has an empty scope.

Operators (each in Chinese and English text alike): ``keywords`` (``mode`` any / all /
at_least with ``n`` / none), ``regex`` (``pattern``, optional ``exclude``: a sentence
matching it does not count), ``similar`` (TF-IDF cosine of character n-grams to ``examples``
at least ``threshold``), ``entity`` (PII placeholders such as ``[CARD]`` and amounts),
``sentiment`` (a zh/en lexicon: ``polarity`` negative or positive), ``response_time``
(an agent reply more than ``seconds`` after the customer's message), ``repetition`` (the same
agent sentence ``min_count`` times or more).

Regular expressions run on the ``regex`` engine with a time limit per search, so a rule
cannot hang a worker; validation also refuses a pattern that is slow on adversarial input.

Every hit records evidence: the message's ``seq`` and the matched ``[start, end)`` span of
its text, with the number of the condition that produced it.

``rule_validate`` and ``scorecard_compile`` raise ``ApplicationError`` naming the field.
Everything else here is pure: no database, no Django settings.
"""
from __future__ import annotations

import datetime as dt
import re as stdlib_re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable, Iterable

import regex
from django.utils.translation import gettext as _

from apps.core.exceptions import ApplicationError

REGEX_TIMEOUT_S = 0.05
REGEX_VALIDATE_TIMEOUT_S = 0.2
MAX_PATTERN_LENGTH = 2000
MAX_CONDITIONS = 20
SPEAKERS = ("agent", "customer", "any")
ANSWERS_YES_NO = ("yes", "no", "na")
ANSWERS_1_5 = ("1", "2", "3", "4", "5")

# Sentence ends: Chinese and Western punctuation and line breaks; the mark stays with its sentence.
# A full stop ends a sentence only before a space or the end ("$1,200.50" stays whole).
_SENTENCE_RE = stdlib_re.compile(r"(?:[^。！？!?；;\n.]|\.(?!\s|$))+(?:[。！？!?；;\n]+|\.+(?=\s|$))?|[。！？!?；;\n.]+")
_WS_RE = stdlib_re.compile(r"\s+")
_AMOUNT_RE = regex.compile(
    r"(?:[¥￥$€£]\s?\d[\d,]*(?:\.\d+)?|\d[\d,]*(?:\.\d+)?\s?(?:元|块|万元|万|美元|欧元|英镑|rmb|RMB|CNY|yuan|dollars?|USD|EUR|GBP))"
)
_PLACEHOLDER_RE = regex.compile(r"\[(EMAIL|ID|CARD|PHONE|[A-Z_]{2,16})\]")

# Adversarial inputs that expose catastrophic backtracking in a pattern.
_SLOW_PROBES = tuple(c * n + "!" for c in ("a", "1", " ", "您", "ab") for n in (40, 3000))

SENTIMENT_LEXICON = {
    "negative": (
        "生气", "气死", "不满", "投诉", "太差", "很差", "差劲", "失望", "烦死", "真烦", "烦人", "糟糕", "坑人", "骗",
        "受够", "怎么回事", "什么破", "无语", "离谱", "不合理", "搞什么", "急死", "急！", "太慢", "没人管", "乱扣",
        "愤怒", "又出问题", "第二次", "第三次", "好几次", "到底能不能", "还没解决", "一直没", "不接受",
        "angry", "furious", "frustrat", "disappoint", "terrible", "awful", "ridiculous", "unacceptable", "complain",
        "worst", "annoy", "upset", "not happy", "unhappy", "waste of time", "fed up", "outrage", "scam", "useless",
        "still waiting", "unbelievable", "what is going on", "second time", "third time", "again and again",
        "urgent", "not acceptable", "i've tried",
    ),
    "positive": (
        "谢谢", "感谢", "满意", "太好了", "很好", "非常好", "好的明白", "解决了", "辛苦了", "帮大忙",
        "thank", "great", "perfect", "appreciate", "helpful", "excellent", "wonderful", "awesome", "solved", "glad",
    ),
}


# ---------------------------------------------------------------- transcript


@dataclass(frozen=True)
class Msg:
    seq: int
    speaker: str
    text: str
    sent_at: dt.datetime | None = None


@dataclass(frozen=True)
class Sentence:
    index: int  # position in the whole transcript
    seq: int  # the message's sequence number
    speaker: str
    text: str
    lower: str
    offset: int  # start of the sentence in its message's text


@dataclass
class Transcript:
    messages: list[Msg]
    intent: str = ""
    channel: str = ""
    language: str = ""

    @cached_property
    def sentences(self) -> list[Sentence]:
        out: list[Sentence] = []
        for m in self.messages:
            for part in _SENTENCE_RE.finditer(m.text):
                text = part.group(0)
                stripped = text.strip()
                if not stripped:
                    continue
                lead = len(text) - len(text.lstrip())
                out.append(Sentence(len(out), m.seq, m.speaker, stripped, stripped.lower(), part.start() + lead))
        return out

    @cached_property
    def by_speaker(self) -> dict[str, list[Sentence]]:
        groups: dict[str, list[Sentence]] = {"any": self.sentences}
        for s in self.sentences:
            groups.setdefault(s.speaker, []).append(s)
        return groups


@dataclass(frozen=True)
class Hit:
    condition: str
    seq: int
    start: int
    end: int
    index: int  # sentence index, for anchoring

    def evidence(self) -> dict:
        return {"condition": self.condition, "seq": self.seq, "span": [self.start, self.end]}


# ---------------------------------------------------------------- expressions

_TOKEN_RE = stdlib_re.compile(r"\s*(?:(\d+)|(&&|\|\||!|\(|\))|(\S))")


def _tokenize(expression: str, field_name: str) -> list[str]:
    tokens: list[str] = []
    pos = 0
    expression = expression or ""
    while pos < len(expression):
        m = _TOKEN_RE.match(expression, pos)
        if m is None:  # only trailing whitespace is left
            break
        if m.group(3):
            raise ApplicationError(
                _("Unexpected character %(char)r in the expression.") % {"char": m.group(3)},
                {field_name: _("Use condition numbers with && || ! and parentheses.")},
            )
        tokens.append(m.group(1) or m.group(2))
        pos = m.end()
    return tokens


class _Parser:
    """expr := and ('||' and)* ; and := unary ('&&' unary)* ; unary := '!' unary | atom ; atom := NUM | '(' expr ')'"""

    def __init__(self, tokens: list[str], field_name: str):
        self.tokens, self.pos, self.field = tokens, 0, field_name

    def error(self, message: str) -> ApplicationError:
        return ApplicationError(message, {self.field: message})

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str | None:
        token = self.peek()
        self.pos += 1
        return token

    def parse(self) -> tuple:
        if not self.tokens:
            raise self.error(_("The expression is empty."))
        node = self.expr()
        if self.peek() is not None:
            raise self.error(_("Unexpected %(token)r in the expression.") % {"token": self.peek()})
        return node

    def expr(self) -> tuple:
        node = self.conj()
        while self.peek() == "||":
            self.take()
            node = ("or", node, self.conj())
        return node

    def conj(self) -> tuple:
        node = self.unary()
        while self.peek() == "&&":
            self.take()
            node = ("and", node, self.unary())
        return node

    def unary(self) -> tuple:
        if self.peek() == "!":
            self.take()
            return ("not", self.unary())
        return self.atom()

    def atom(self) -> tuple:
        token = self.take()
        if token is None:
            raise self.error(_("The expression ends too early."))
        if token == "(":
            node = self.expr()
            if self.take() != ")":
                raise self.error(_("A parenthesis is not closed."))
            return node
        if token.isdigit():
            return ("cond", str(int(token)))
        raise self.error(_("Unexpected %(token)r in the expression.") % {"token": token})


def expression_parse(expression: str, *, field_name: str = "expression") -> tuple:
    """Parse ``1 && (2 || !3)`` into a tree of tuples; raises ApplicationError on bad syntax."""
    return _Parser(_tokenize(expression, field_name), field_name).parse()


def expression_conditions(node: tuple) -> set[str]:
    if node[0] == "cond":
        return {node[1]}
    return set().union(*(expression_conditions(child) for child in node[1:]))


def expression_eval(node: tuple, values: dict[str, bool]) -> bool:
    kind = node[0]
    if kind == "cond":
        return values[node[1]]
    if kind == "not":
        return not expression_eval(node[1], values)
    if kind == "and":
        return expression_eval(node[1], values) and expression_eval(node[2], values)
    return expression_eval(node[1], values) or expression_eval(node[2], values)


# ---------------------------------------------------------------- operators


def _find_all(needle: str, haystack: str) -> Iterable[int]:
    start = haystack.find(needle)
    while start >= 0:
        yield start
        start = haystack.find(needle, start + 1)


def _words(cfg: dict) -> list[str]:
    return [str(w).strip().lower() for w in cfg.get("words", []) if str(w).strip()]


def _compile_regex(pattern: str, field_name: str, *, probe: bool) -> regex.Pattern:
    if not isinstance(pattern, str) or not pattern:
        raise ApplicationError(_("A regular expression is required."), {field_name: _("This field is required.")})
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise ApplicationError(
            _("The regular expression is too long."), {field_name: _("At most %(n)d characters.") % {"n": MAX_PATTERN_LENGTH}}
        )
    try:
        compiled = regex.compile(pattern, regex.IGNORECASE | regex.V0)
    except regex.error as exc:
        raise ApplicationError(
            _("Invalid regular expression: %(error)s") % {"error": exc}, {field_name: str(exc)}
        ) from exc
    if probe:
        for text in _SLOW_PROBES:
            try:
                compiled.search(text, timeout=REGEX_VALIDATE_TIMEOUT_S)
            except TimeoutError as exc:
                raise ApplicationError(
                    _("The regular expression is too slow (catastrophic backtracking)."),
                    {field_name: _("Too slow on long input; simplify nested repetition.")},
                ) from exc
    return compiled


def _prefilter_safe(pattern: str) -> bool:
    """Whether a match of ``pattern`` inside a sentence is also a match inside the scope's joined text.

    True without anchors and lookarounds (``^ $ \\A \\Z \\G (?= (?! (?<= (?<!``), whose result
    depends on what surrounds the sentence; ``[^`` is a character class, not an anchor.
    """
    stripped = pattern.replace("\\\\", "").replace("[^", "[").replace("\\^", "").replace("\\$", "")
    if any(token in stripped for token in ("^", "$", "\\A", "\\Z", "\\G", "(?=", "(?!", "(?<=", "(?<!")):
        return False
    return True


def _regex_spans(compiled: regex.Pattern, text: str) -> list[tuple[int, int]]:
    try:
        return [m.span() for m in compiled.finditer(text, timeout=REGEX_TIMEOUT_S) if m.end() > m.start()]
    except TimeoutError:
        return []


@dataclass
class Condition:
    """One compiled condition: which sentences it looks at and how it finds hits in them."""

    number: str
    operator: str
    speaker: str = "any"
    first: int | None = None
    last: int | None = None
    anchor: str | None = None
    where: str = "before"
    # An operator returns (matched, hits); ``sentences`` is the scope, ``transcript`` the whole.
    run: Callable[["Condition", list[Sentence], Transcript], tuple[bool, list[Hit]]] | None = None
    params: dict = field(default_factory=dict)

    def scope(self, transcript: Transcript, anchors: dict[str, list[Hit]]) -> list[Sentence]:
        sentences = transcript.by_speaker.get(self.speaker, [])
        if self.anchor is not None:
            hits = anchors.get(self.anchor) or []
            if not hits:
                return []
            pivot = min(h.index for h in hits)
            if self.where == "before":
                sentences = [s for s in sentences if s.index < pivot]
            else:
                sentences = [s for s in sentences if s.index > pivot]
        if self.first:
            sentences = sentences[: self.first]
        if self.last:
            sentences = sentences[-self.last:]
        return sentences


def _run_keywords(cond: Condition, sentences: list[Sentence], transcript: Transcript) -> tuple[bool, list[Hit]]:
    words: list[str] = cond.params["words"]
    found: dict[str, list[Hit]] = {}
    joined = "\n".join(s.lower for s in sentences)
    if not any(w in joined for w in words):
        sentences = []
    for s in sentences:
        for w in words:
            for start in _find_all(w, s.lower):
                found.setdefault(w, []).append(Hit(cond.number, s.seq, s.offset + start, s.offset + start + len(w), s.index))
    hits = [h for w in words for h in found.get(w, [])]
    mode = cond.params["mode"]
    if mode == "any":
        return bool(found), hits
    if mode == "all":
        return len(found) == len(words), hits
    if mode == "at_least":
        return len(found) >= cond.params["n"], hits
    return not found, []  # none


def _run_regex(cond: Condition, sentences: list[Sentence], transcript: Transcript) -> tuple[bool, list[Hit]]:
    pattern, exclude = cond.params["pattern"], cond.params.get("exclude")
    if not sentences:
        return False, []
    # One search over the whole scope first: most conditions match no sentence at all. A match
    # here may straddle two sentences, so the sentences are still checked one by one.
    if cond.params["prefilter"]:
        try:
            if pattern.search("\n".join(s.text for s in sentences), timeout=REGEX_TIMEOUT_S) is None:
                return False, []
        except TimeoutError:
            pass
    hits: list[Hit] = []
    for s in sentences:
        spans = _regex_spans(pattern, s.text)
        if not spans or (exclude is not None and _regex_spans(exclude, s.text)):
            continue
        hits.extend(Hit(cond.number, s.seq, s.offset + a, s.offset + b, s.index) for a, b in spans)
    return bool(hits), hits


def _run_similar(cond: Condition, sentences: list[Sentence], transcript: Transcript) -> tuple[bool, list[Hit]]:
    if not sentences:
        return False, []
    vectorizer, examples = cond.params["vectorizer"], cond.params["matrix"]
    matrix = vectorizer.transform([s.lower for s in sentences])
    best = (matrix @ examples.T).max(axis=1).toarray().ravel()
    threshold = cond.params["threshold"]
    hits = [
        Hit(cond.number, s.seq, s.offset, s.offset + len(s.text), s.index)
        for s, score in zip(sentences, best) if score >= threshold
    ]
    return bool(hits), hits


def _run_entity(cond: Condition, sentences: list[Sentence], transcript: Transcript) -> tuple[bool, list[Hit]]:
    wanted: set[str] = cond.params["entities"]
    hits: list[Hit] = []
    for s in sentences:
        for m in _PLACEHOLDER_RE.finditer(s.text):
            if m.group(1) in wanted:
                hits.append(Hit(cond.number, s.seq, s.offset + m.start(), s.offset + m.end(), s.index))
        if "AMOUNT" in wanted:
            hits.extend(
                Hit(cond.number, s.seq, s.offset + m.start(), s.offset + m.end(), s.index) for m in _AMOUNT_RE.finditer(s.text)
            )
    return bool(hits), hits


_SENTIMENT_RE = {
    polarity: stdlib_re.compile("|".join(stdlib_re.escape(w) for w in sorted(words, key=len, reverse=True)))
    for polarity, words in SENTIMENT_LEXICON.items()
}


def sentence_sentiment(text: str) -> tuple[str, list[tuple[int, int]]]:
    """Lexicon polarity of one sentence: ``negative`` wins over ``positive``; returns the matched spans."""
    lower = text.lower()
    for polarity in ("negative", "positive"):
        spans = [m.span() for m in _SENTIMENT_RE[polarity].finditer(lower)]
        if spans:
            return polarity, spans
    return "neutral", []


def _run_sentiment(cond: Condition, sentences: list[Sentence], transcript: Transcript) -> tuple[bool, list[Hit]]:
    polarity = cond.params["polarity"]
    hits: list[Hit] = []
    for s in sentences:
        found, spans = sentence_sentiment(s.lower)
        if found == polarity:
            hits.extend(Hit(cond.number, s.seq, s.offset + a, s.offset + b, s.index) for a, b in spans)
    return bool(hits), hits


def _run_response_time(cond: Condition, sentences: list[Sentence], transcript: Transcript) -> tuple[bool, list[Hit]]:
    """An agent message whose first sentence is in scope, answering a customer message more than N s earlier."""
    limit = cond.params["seconds"]
    in_scope = {s.seq for s in sentences}
    first_index = {}
    for s in transcript.sentences:
        first_index.setdefault(s.seq, s)
    hits: list[Hit] = []
    waiting_since: dt.datetime | None = None
    for m in transcript.messages:
        if m.speaker == "customer":
            if waiting_since is None and m.sent_at is not None:
                waiting_since = m.sent_at
        elif m.speaker == "agent":
            if waiting_since is not None and m.sent_at is not None and m.seq in in_scope:
                if (m.sent_at - waiting_since).total_seconds() > limit:
                    s = first_index[m.seq]
                    hits.append(Hit(cond.number, m.seq, 0, len(m.text), s.index))
            waiting_since = None
    return bool(hits), hits


def _normalise(text: str) -> str:
    return _WS_RE.sub(" ", text.lower()).strip(" 。！？!?.,，；;")


def _run_repetition(cond: Condition, sentences: list[Sentence], transcript: Transcript) -> tuple[bool, list[Hit]]:
    min_count, min_length = cond.params["min_count"], cond.params["min_length"]
    groups: dict[str, list[Sentence]] = {}
    for s in sentences:
        key = _normalise(s.text)
        if len(key) >= min_length:
            groups.setdefault(key, []).append(s)
    hits = [
        Hit(cond.number, s.seq, s.offset, s.offset + len(s.text), s.index)
        for group in groups.values() if len(group) >= min_count for s in group
    ]
    return bool(hits), hits


class _SimilarityVectorizer:
    """TF-IDF of hashed character 1-3-grams, IDF fitted on the examples.

    Hashing keeps a sentence's n-grams that the examples lack in its norm, so a sentence
    that only shares common n-grams with the examples stays far from them.
    """

    def __init__(self, examples: list[str]):
        from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer

        self.hashing = HashingVectorizer(
            analyzer="char_wb", ngram_range=(1, 3), alternate_sign=False, norm=None, n_features=2**18
        )
        self.tfidf = TfidfTransformer(sublinear_tf=True).fit(self.hashing.transform(examples))

    def transform(self, texts: list[str]):
        return self.tfidf.transform(self.hashing.transform(texts))


# ---------------------------------------------------------------- validation / compilation


def _positive_int(cfg: dict, key: str, field_name: str, *, required: bool = False, default: int | None = None) -> int | None:
    value = cfg.get(key, default)
    if value is None:
        if required:
            raise ApplicationError(_("%(key)s is required.") % {"key": key}, {field_name: _("This field is required.")})
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value or value < 1:
        raise ApplicationError(
            _("%(key)s must be a whole number of at least 1.") % {"key": key}, {field_name: _("A whole number ≥ 1.")}
        )
    return int(value)


def _compile_condition(number: str, cfg: Any, prefix: str, *, probe: bool) -> Condition:
    if not isinstance(cfg, dict):
        raise ApplicationError(_("A condition must be an object."), {prefix: _("Expected an object.")})
    operator = cfg.get("operator")
    speaker = cfg.get("speaker", "any")
    if speaker not in SPEAKERS:
        raise ApplicationError(_("Unknown speaker %(s)r.") % {"s": speaker}, {f"{prefix}.speaker": ", ".join(SPEAKERS)})
    first = _positive_int(cfg, "first", f"{prefix}.first")
    last = _positive_int(cfg, "last", f"{prefix}.last")
    if first and last:
        raise ApplicationError(_("Use either first or last, not both."), {f"{prefix}.last": _("Use either first or last.")})
    anchor_cfg = cfg.get("anchor")
    anchor, where = None, "before"
    if anchor_cfg is not None:
        if not isinstance(anchor_cfg, dict) or "condition" not in anchor_cfg:
            raise ApplicationError(_("An anchor names a condition."), {f"{prefix}.anchor": _('{"condition": "1", "where": "before"}')})
        anchor = str(anchor_cfg["condition"])
        where = anchor_cfg.get("where", "before")
        if where not in ("before", "after"):
            raise ApplicationError(_("An anchor is before or after."), {f"{prefix}.anchor.where": "before, after"})
    cond = Condition(number=number, operator=operator, speaker=speaker, first=first, last=last, anchor=anchor, where=where)
    p = cond.params
    if operator == "keywords":
        words = cfg.get("words")
        if not isinstance(words, list) or not _words(cfg):
            raise ApplicationError(_("List at least one keyword."), {f"{prefix}.words": _("This field is required.")})
        p["words"] = list(dict.fromkeys(_words(cfg)))
        p["mode"] = cfg.get("mode", "any")
        if p["mode"] not in ("any", "all", "at_least", "none"):
            raise ApplicationError(_("Unknown keyword mode."), {f"{prefix}.mode": "any, all, at_least, none"})
        if p["mode"] == "at_least":
            p["n"] = _positive_int(cfg, "n", f"{prefix}.n", required=True)
            if p["n"] > len(p["words"]):
                raise ApplicationError(_("n is larger than the number of keywords."), {f"{prefix}.n": _("At most the number of keywords.")})
        cond.run = _run_keywords
    elif operator == "regex":
        p["pattern"] = _compile_regex(cfg.get("pattern"), f"{prefix}.pattern", probe=probe)
        p["prefilter"] = _prefilter_safe(cfg["pattern"])
        if cfg.get("exclude"):
            p["exclude"] = _compile_regex(cfg["exclude"], f"{prefix}.exclude", probe=probe)
        cond.run = _run_regex
    elif operator == "similar":
        examples = [str(e).strip().lower() for e in cfg.get("examples") or [] if str(e).strip()]
        if not examples:
            raise ApplicationError(_("List at least one example sentence."), {f"{prefix}.examples": _("This field is required.")})
        threshold = cfg.get("threshold", 0.5)
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 < threshold <= 1:
            raise ApplicationError(_("The threshold is between 0 and 1."), {f"{prefix}.threshold": _("A number in (0, 1].")})
        vectorizer = _SimilarityVectorizer(examples)
        p.update(vectorizer=vectorizer, matrix=vectorizer.transform(examples), threshold=float(threshold))
        cond.run = _run_similar
    elif operator == "entity":
        entities = cfg.get("entities")
        if not isinstance(entities, list) or not entities or not all(isinstance(e, str) and e for e in entities):
            raise ApplicationError(_("List at least one entity."), {f"{prefix}.entities": _("e.g. CARD, PHONE, ID, EMAIL, AMOUNT")})
        p["entities"] = {e.strip("[]").upper() for e in entities}
        cond.run = _run_entity
    elif operator == "sentiment":
        p["polarity"] = cfg.get("polarity", "negative")
        if p["polarity"] not in ("negative", "positive"):
            raise ApplicationError(_("Polarity is negative or positive."), {f"{prefix}.polarity": "negative, positive"})
        cond.run = _run_sentiment
    elif operator == "response_time":
        p["seconds"] = _positive_int(cfg, "seconds", f"{prefix}.seconds", required=True)
        cond.run = _run_response_time
    elif operator == "repetition":
        p["min_count"] = _positive_int(cfg, "min_count", f"{prefix}.min_count", default=2)
        if p["min_count"] < 2:
            raise ApplicationError(_("A repetition needs at least 2 occurrences."), {f"{prefix}.min_count": _("At least 2.")})
        p["min_length"] = _positive_int(cfg, "min_length", f"{prefix}.min_length", default=4)
        cond.run = _run_repetition
    else:
        raise ApplicationError(
            _("Unknown operator %(op)r.") % {"op": operator},
            {f"{prefix}.operator": "keywords, regex, similar, entity, sentiment, response_time, repetition"},
        )
    return cond


@dataclass
class CompiledRule:
    expression: tuple
    applies: tuple | None
    answer_when_true: str
    conditions: dict[str, Condition]
    order: list[str]  # anchors before the conditions anchored to them

    def match(self, transcript: Transcript) -> tuple[bool, bool, list[dict]]:
        """Whether the rule applies, whether its expression is true, and the evidence.

        The evidence is every hit of the expression's conditions that matched, in condition order.
        """
        values: dict[str, bool] = {}
        hits: dict[str, list[Hit]] = {}
        for number in self.order:
            cond = self.conditions[number]
            matched, found = cond.run(cond, cond.scope(transcript, hits), transcript)
            values[number] = matched
            hits[number] = found
        if self.applies is not None and not expression_eval(self.applies, values):
            return False, False, []
        truth = expression_eval(self.expression, values)
        used = expression_conditions(self.expression)
        evidence = [h.evidence() for number in self.order if number in used and values[number] for h in hits[number]]
        return True, truth, evidence

    def evaluate(self, transcript: Transcript) -> tuple[str, list[dict]]:
        """The answer (``yes``/``no``/``na``) and the evidence of every condition that matched."""
        applies, truth, evidence = self.match(transcript)
        if not applies:
            return "na", []
        if self.answer_when_true == "yes":
            return ("yes" if truth else "no"), evidence
        return ("no" if truth else "yes"), evidence


def _has_nul(value: Any) -> bool:
    """Whether a NUL character occurs in any string of ``value`` (JSON columns cannot store it)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def rule_compile(rule: Any, *, field_name: str = "rule", probe: bool = True) -> CompiledRule:
    """Validate ``rule`` (see the module docstring) and compile it; errors name ``field_name.…``."""
    if not isinstance(rule, dict):
        raise ApplicationError(_("A rule must be an object."), {field_name: _("Expected an object.")})
    if _has_nul(rule):
        raise ApplicationError(_("A rule may not contain NUL characters."), {field_name: _("Remove the NUL characters.")})
    conditions_cfg = rule.get("conditions")
    if not isinstance(conditions_cfg, dict) or not conditions_cfg:
        raise ApplicationError(_("A rule needs at least one condition."), {f"{field_name}.conditions": _("This field is required.")})
    if len(conditions_cfg) > MAX_CONDITIONS:
        raise ApplicationError(
            _("A rule has at most %(n)d conditions.") % {"n": MAX_CONDITIONS}, {f"{field_name}.conditions": _("Too many conditions.")}
        )
    conditions: dict[str, Condition] = {}
    for key, cfg in conditions_cfg.items():
        number = str(key).strip()
        if not number.isdigit():
            raise ApplicationError(_("Conditions are numbered 1, 2, 3…"), {f"{field_name}.conditions": _("Bad key %(k)r.") % {"k": key}})
        number = str(int(number))
        conditions[number] = _compile_condition(number, cfg, f"{field_name}.conditions.{number}", probe=probe)
    for number, cond in conditions.items():
        if cond.anchor is not None and cond.anchor not in conditions:
            raise ApplicationError(
                _("Condition %(n)s is anchored to condition %(k)s, which does not exist.") % {"n": number, "k": cond.anchor},
                {f"{field_name}.conditions.{number}.anchor": _("No condition %(k)s.") % {"k": cond.anchor}},
            )
    order = _anchor_order(conditions, field_name)
    expression = expression_parse(rule.get("expression", ""), field_name=f"{field_name}.expression")
    missing = sorted(expression_conditions(expression) - set(conditions), key=int)
    if missing:
        raise ApplicationError(
            _("The expression names conditions that do not exist: %(m)s.") % {"m": ", ".join(missing)},
            {f"{field_name}.expression": _("Missing conditions: %(m)s") % {"m": ", ".join(missing)}},
        )
    applies = None
    if rule.get("applies"):
        applies = expression_parse(rule["applies"], field_name=f"{field_name}.applies")
        missing = sorted(expression_conditions(applies) - set(conditions), key=int)
        if missing:
            raise ApplicationError(
                _("The expression names conditions that do not exist: %(m)s.") % {"m": ", ".join(missing)},
                {f"{field_name}.applies": _("Missing conditions: %(m)s") % {"m": ", ".join(missing)}},
            )
    answer_when_true = rule.get("answer_when_true", "yes")
    if answer_when_true not in ("yes", "no"):
        raise ApplicationError(_("answer_when_true is yes or no."), {f"{field_name}.answer_when_true": "yes, no"})
    return CompiledRule(expression, applies, answer_when_true, conditions, order)


def _anchor_order(conditions: dict[str, Condition], field_name: str) -> list[str]:
    """Conditions in an order where every anchor comes before its dependants; refuses cycles."""
    order: list[str] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(number: str, path: list[str]) -> None:
        if state.get(number) == 2:
            return
        if state.get(number) == 1:
            cycle = " → ".join(path[path.index(number):] + [number])
            raise ApplicationError(
                _("The anchors form a cycle: %(c)s.") % {"c": cycle},
                {f"{field_name}.conditions.{number}.anchor": _("Anchoring cycle: %(c)s") % {"c": cycle}},
            )
        state[number] = 1
        anchor = conditions[number].anchor
        if anchor is not None:
            visit(anchor, path + [number])
        state[number] = 2
        order.append(number)

    for number in sorted(conditions, key=int):
        visit(number, [])
    return order


def rule_validate(rule: Any, *, field_name: str = "rule") -> None:
    """Raise ApplicationError (field named) when ``rule`` is not a valid rule."""
    rule_compile(rule, field_name=field_name, probe=True)


# ---------------------------------------------------------------- criteria and scorecards


@dataclass
class CriterionSpec:
    """What the engine needs to know about a criterion."""

    id: int
    key: str
    scale: str
    points: float
    auto_fail: bool
    answered_by: str
    applies_intents: list[str] = field(default_factory=list)
    applies_channels: list[str] = field(default_factory=list)
    applies_languages: list[str] = field(default_factory=list)
    rule: CompiledRule | None = None
    question_en: str = ""
    question_zh: str = ""

    def applies_to(self, transcript: Transcript) -> bool:
        return (
            (not self.applies_intents or transcript.intent in self.applies_intents)
            and (not self.applies_channels or transcript.channel in self.applies_channels)
            and (not self.applies_languages or transcript.language in self.applies_languages)
        )


def answer_validate(*, scale: str, answer: str, field_name: str = "answer") -> str:
    allowed = ANSWERS_YES_NO if scale == "yes_no" else ANSWERS_1_5 + ("na",)
    answer = str(answer).strip().lower()
    if answer not in allowed:
        raise ApplicationError(
            _("The answer %(a)r is outside the criterion's scale.") % {"a": answer}, {field_name: ", ".join(allowed)}
        )
    return answer


def answer_fraction(scale: str, answer: str) -> float | None:
    """The share of a criterion's points an answer earns (None: not counted)."""
    if not answer or answer == "na":
        return None
    if scale == "yes_no":
        return 1.0 if answer == "yes" else 0.0
    return (int(answer) - 1) / 4.0


def answer_passes(scale: str, answer: str) -> bool | None:
    fraction = answer_fraction(scale, answer)
    return None if fraction is None else fraction >= 0.5


def score_compute(criteria: list[CriterionSpec], answers: dict[int, str]) -> tuple[float | None, bool, str]:
    """Score 0-100 from the answers by criterion id: earned points over applicable points.

    A ``no`` on an auto-fail criterion makes the score 0 and says which criterion did it.
    Unanswered and not-applicable criteria count neither way; with none applicable the score is None.
    """
    earned = possible = 0.0
    failed = [c for c in criteria if c.auto_fail and answers.get(c.id) == "no"]
    if failed:
        return 0.0, True, "; ".join(f"{c.key}: {c.question_en}" for c in failed)
    for c in criteria:
        fraction = answer_fraction(c.scale, answers.get(c.id, ""))
        if fraction is None:
            continue
        earned += c.points * fraction
        possible += c.points
    if possible <= 0:
        return None, False, ""
    return round(100.0 * earned / possible, 2), False, ""


def criterion_evaluate(spec: CriterionSpec, transcript: Transcript) -> tuple[str, list[dict]]:
    """The automatic answer of one criterion ('' when only a reviewer or a model answers it)."""
    if not spec.applies_to(transcript):
        return "na", []
    if spec.answered_by != "rule" or spec.rule is None:
        return "", []
    return spec.rule.evaluate(transcript)
