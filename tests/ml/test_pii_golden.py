"""ml.pii against the golden corpus (``pii_golden.jsonl``): every line, and recall/precision per type.

Run without Django:
    .venv/bin/python -m pytest tests/ml/test_pii_golden.py -q -p no:django -s
"""

import difflib
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from ml.pii import PII_TYPES, mask_pii

HERE = Path(__file__).resolve().parent
GOLDEN_PATH = HERE / "pii_golden.jsonl"
PLACEHOLDER = re.compile(r"\[(" + "|".join(PII_TYPES) + r")\]")


def _load_golden():
    rows = []
    with GOLDEN_PATH.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if line.strip():
                row = json.loads(line)
                row["lineno"] = lineno
                rows.append(row)
    return rows


GOLDEN = _load_golden()


# --------------------------------------------------------------------------
# Corpus sanity
# --------------------------------------------------------------------------


def test_golden_corpus_shape():
    assert len(GOLDEN) >= 240
    langs = Counter(r["lang"] for r in GOLDEN)
    assert set(langs) == {"zh", "en"}
    assert min(langs.values()) / len(GOLDEN) >= 0.4, langs
    negatives = sum(r["text"] == r["expected"] for r in GOLDEN)
    assert negatives >= 60, negatives
    types = Counter(t for r in GOLDEN for t in PLACEHOLDER.findall(r["expected"]))
    assert all(types[t] >= 10 for t in PII_TYPES), types
    # No placeholder text in the inputs themselves.
    assert not any(PLACEHOLDER.search(r["text"]) for r in GOLDEN)


@pytest.mark.parametrize("row", GOLDEN, ids=lambda r: f"L{r['lineno']}-{r['lang']}")
def test_golden_line(row):
    assert mask_pii(row["text"]) == row["expected"]


# --------------------------------------------------------------------------
# Per-type recall / precision over the corpus
# --------------------------------------------------------------------------


def _score(rows):
    """Count TP/FP/FN per type by aligning the placeholder sequences of the
    expected and produced strings (difflib LCS, so order and position both
    matter).  A PII value masked with the wrong type is an FN for the right
    type and an FP for the wrong one; an unmasked value is an FN; a masked
    non-PII value is an FP."""
    tp, fp, fn = Counter(), Counter(), Counter()
    for row in rows:
        want = PLACEHOLDER.findall(row["expected"])
        got = PLACEHOLDER.findall(mask_pii(row["text"]))
        matcher = difflib.SequenceMatcher(a=want, b=got, autojunk=False)
        matched_w, matched_g = set(), set()
        for block in matcher.get_matching_blocks():
            for k in range(block.size):
                matched_w.add(block.a + k)
                matched_g.add(block.b + k)
                tp[want[block.a + k]] += 1
        for i, t in enumerate(want):
            if i not in matched_w:
                fn[t] += 1
        for j, t in enumerate(got):
            if j not in matched_g:
                fp[t] += 1
    return tp, fp, fn


def _ratio(num, den):
    return num / den if den else 1.0


@pytest.fixture(scope="module")
def scores():
    return _score(GOLDEN)


def test_recall_and_precision_of_every_type(scores, capsys):
    tp, fp, fn = scores
    lines = [
        "",
        f"PII golden corpus: {len(GOLDEN)} lines",
        f"{'type':<8}{'support':>8}{'TP':>6}{'FP':>6}{'FN':>6}{'recall':>9}{'precision':>11}",
    ]
    for t in PII_TYPES + ("ALL",):
        if t == "ALL":
            a, b, c = sum(tp.values()), sum(fp.values()), sum(fn.values())
        else:
            a, b, c = tp[t], fp[t], fn[t]
        lines.append(
            f"{t:<8}{a + c:>8}{a:>6}{b:>6}{c:>6}{_ratio(a, a + c):>9.3f}{_ratio(a, a + b):>11.3f}"
        )
    with capsys.disabled():
        print("\n".join(lines))
    for t in PII_TYPES:
        assert tp[t] > 0, f"no {t} found"
        assert _ratio(tp[t], tp[t] + fn[t]) >= 0.95, f"{t} recall"
        assert _ratio(tp[t], tp[t] + fp[t]) >= 0.95, f"{t} precision"


def test_recall_id_and_card_is_perfect(scores):
    tp, _, fn = scores
    for t in ("ID", "CARD"):
        assert tp[t] > 0
        assert _ratio(tp[t], tp[t] + fn[t]) == 1.0, (t, fn[t])


def test_overall_precision_and_recall(scores):
    tp, fp, fn = scores
    a, b, c = sum(tp.values()), sum(fp.values()), sum(fn.values())
    assert _ratio(a, a + c) >= 0.98
    assert _ratio(a, a + b) >= 0.98


