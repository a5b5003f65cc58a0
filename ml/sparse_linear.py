"""Inference of fitted TF-IDF -> linear-model pipelines without scikit-learn's per-call overhead.

``Pipeline.predict_proba`` on one short text spends more time in scikit-learn's machinery
(``FeatureUnion``'s joblib dispatch, input validation, sparse-format checks) than in the
arithmetic. :func:`compile_pipeline` reads the fitted state of a
``Pipeline([("tfidf", TfidfVectorizer | FeatureUnion of TfidfVectorizers),
(name, LogisticRegression | LinearSVC | Ridge)])`` once and computes the same numbers with
NumPy: each vectorizer's own analyzer (so the n-grams are exactly scikit-learn's), its
vocabulary, IDF and normalisation, then ``X @ coef.T + intercept`` (and the softmax / logistic
link of a logistic head; an SVM's scores are left to its owner's temperature). Anything it does not
recognise makes it return ``None`` and the caller keeps the scikit-learn pipeline.

Inside :func:`ml.shared_tokenization` the n-grams of a text are computed once per analyzer
configuration, however many models read that text: intent, sentiment and quality models
built by :func:`ml.linear.make_vectorizer` for one language share them. Parts with the same
analyzer also share one n-gram -> id table (:class:`_SharedVocabulary`), so each n-gram is
looked up once per text and mapped to each model's columns with a NumPy gather. The table
only grows (new model versions add their n-grams), so a long-lived process that compiles many
versions keeps the n-grams of the old ones too.
"""

import contextlib
import threading
from collections import Counter
from itertools import chain, repeat

import numpy as np
import scipy.sparse as sp
from scipy.special import expit, softmax
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from ml.static_vectors import StaticVectors


_shared = threading.local()
WORD_MEMO = 50_000  # words whose n-gram ids a char_wb vocabulary keeps (~25 MB at most)


@contextlib.contextmanager
def shared_tokenization():
    """Segment each text with jieba once per block, however many models read it.

    Intent, sentiment and quality models each tokenise the same texts; inside this block
    (per thread, nothing kept after it) the second and third model reuse the first one's
    jieba segmentation, which is most of the cost of a Chinese ``linear`` prediction, and
    the word and character n-grams of each analyzer configuration (:mod:`ml.sparse_linear`).
    """
    if getattr(_shared, "tokens", None) is not None:  # nested: the outer block owns the memo
        yield
        return
    _shared.tokens = {}
    _shared.grams = {}
    try:
        yield
    finally:
        _shared.tokens = None
        _shared.grams = None


def shared_tokens():
    """The jieba segmentation memo of the current :func:`shared_tokenization` block, or ``None``."""
    return getattr(_shared, "tokens", None)


def shared_grams():
    """The n-gram memo of the current :func:`shared_tokenization` block (``None`` outside one).

    Keys are ``(analyzer signature, text)``; :mod:`ml.sparse_linear` fills it.
    """
    return getattr(_shared, "grams", None)


# TfidfVectorizer parameters that decide which n-grams a text yields.
_ANALYZER_PARAMS = (
    "analyzer", "ngram_range", "lowercase", "strip_accents", "preprocessor", "tokenizer",
    "token_pattern", "stop_words", "encoding", "decode_error", "input",
)


def _signature(vectorizer):
    """Hashable description of a vectorizer's analyzer, or ``None`` when it cannot be described."""
    values = []
    for name in _ANALYZER_PARAMS:
        value = getattr(vectorizer, name, None)
        if callable(value):
            module = getattr(value, "__module__", None)
            qualname = getattr(value, "__qualname__", None)
            if not module or not qualname or "<" in qualname:  # lambdas, closures: not comparable
                return None
            value = f"{module}.{qualname}"
        elif isinstance(value, list | set | frozenset):
            value = tuple(sorted(value))
        try:
            hash(value)
        except TypeError:
            return None
        values.append(value)
    return tuple(values)


def _lookup(mapping, keys):
    """``mapping[key]`` of each key as an int64 array, -1 where absent."""
    return np.fromiter(map(mapping.get, keys, repeat(-1)), dtype=np.int64, count=len(keys))


class _SharedVocabulary:
    """One n-gram -> id table for every part with the same analyzer signature.

    Intent, sentiment and quality models of a language are trained on the same conversations,
    so their vocabularies overlap almost entirely; looking each n-gram of a text up once here
    (instead of once per model's vocabulary: the largest single cost of a prediction) and
    mapping the ids to each model's columns with one NumPy gather is what it saves. Ids never
    change once given; the table only grows (when a new model version is compiled).
    """

    _all: dict = {}
    _lock = threading.Lock()

    def __init__(self):
        self.ids: dict = {}
        self.words: dict = {}  # char_wb parts: word -> ids of its n-grams (:meth:`TfidfPart.counted`)

    @classmethod
    def for_signature(cls, signature):
        with cls._lock:
            shared = cls._all.get(signature)
            if shared is None:
                shared = cls._all[signature] = cls()
            return shared

    def add(self, vocabulary):
        """Union ids of ``vocabulary``'s n-grams, in column order (new n-grams get new ids)."""
        uids = np.empty(len(vocabulary), dtype=np.int64)
        with self._lock:
            ids = dict(self.ids)  # readers keep the old table until the new one is complete
            for gram, column in vocabulary.items():
                uid = ids.get(gram)
                if uid is None:
                    uid = ids[gram] = len(ids)
                uids[column] = uid
            grew = len(ids) > len(self.ids)
            self.ids = ids
            if grew:  # n-grams once unknown may be known now (dropped after the new ids are in place)
                self.words = {}
        return uids

    def lookup(self, grams):
        """Ids of ``grams`` (-1 for n-grams no model knows)."""
        return _lookup(self.ids, grams)


class TfidfPart:
    """The fitted state of one ``TfidfVectorizer`` (columns ``offset .. offset + size`` of the union)."""

    def __init__(self, analyze, vocabulary, idf, *, sublinear_tf, norm="l2", binary=False, offset=0, signature=None):
        self.analyze = analyze
        self.signature = signature  # None: n-grams not shared with other parts
        self.vocabulary = vocabulary
        self.size = len(vocabulary)
        self.offset = offset
        self.idf = None if idf is None else np.asarray(idf, dtype=np.float64)
        self.binary = binary
        self.sublinear_tf = sublinear_tf
        self.norm = norm
        self.shared = None
        if signature is not None:
            self.shared = _SharedVocabulary.for_signature(signature)
            self._uids = self.shared.add(vocabulary)
            self._columns = np.full(1, -1, dtype=np.int32)

    @classmethod
    def from_vectorizer(cls, vectorizer, offset=0):
        """The part of a fitted ``TfidfVectorizer``."""
        part = cls(
            vectorizer.build_analyzer(), vectorizer.vocabulary_, vectorizer.idf_ if vectorizer.use_idf else None,
            sublinear_tf=vectorizer.sublinear_tf, norm=vectorizer.norm, binary=vectorizer.binary, offset=offset,
            signature=_signature(vectorizer),
        )
        if vectorizer.analyzer == "char_wb" and part.shared is not None:  # n-grams never cross a word
            preprocess, decode = vectorizer.build_preprocessor(), vectorizer.decode
            part.split_words = lambda text: preprocess(decode(text)).split()
        return part

    split_words = None  # char_wb: text -> its words, each analysed on its own (ids kept per word)

    def _word_grams(self, text):
        """Shared-vocabulary ids of a char_wb text's n-grams: its words' n-grams, looked up once per word.

        A word's n-grams are the same in every text, and a few thousand words make most texts, so
        each word is analysed and looked up once (up to :data:`WORD_MEMO` words, then no more are
        kept); the table is dropped when the shared vocabulary grows.
        """
        memo = self.shared.words
        ids = []
        for word in self.split_words(text):
            found = memo.get(word)
            if found is None:
                found = self.shared.lookup(self.analyze(word))
                if len(memo) < WORD_MEMO:
                    memo[word] = found
            ids.append(found)
        return np.concatenate(ids) if ids else np.zeros(0, dtype=np.int64)

    def counted(self, text):
        """(n-gram keys, counts, 1 + log(counts)) of ``text``'s distinct n-grams.

        The keys are shared-vocabulary ids for a part with a signature (computed once per text
        inside :func:`shared_tokenization`, however many models read it, and again after a model
        compiled since has grown the shared table), else the n-grams.
        """
        memo = shared_grams() if self.shared is not None else None
        if memo is not None:
            hit = memo.get((self.signature, text))
            if hit is not None and hit[3] == len(self.shared.ids):  # else the table grew since: look up again
                return hit[:3]
            generation = len(self.shared.ids)  # read before the look-up: a table growing during it makes it stale
        if self.split_words is not None:
            keys, counts = np.unique(self._word_grams(text), return_counts=True)  # unknown n-grams: all -1
            counts = counts.astype(np.float64)
        else:
            counted = Counter(self.analyze(text))
            counts = np.fromiter(counted.values(), dtype=np.float64, count=len(counted))
            keys = self.shared.lookup(counted) if self.shared is not None else list(counted)
        hit = (keys, counts, np.log(counts) + 1.0)
        if memo is not None:
            memo[(self.signature, text)] = hit + (generation,)
        return hit

    def _found(self, keys):
        """This part's column of each key, -1 where it has none."""
        if self.shared is None:
            return _lookup(self.vocabulary, keys)
        table = self._columns
        known = len(self.shared.ids)  # read after the keys: every key is below it
        if len(table) <= known:  # the shared table grew: id -> column, last entry -1 (the id of unknowns)
            table = np.full(known + 1, -1, dtype=np.int32)  # int32: 4 bytes per n-gram of the table
            table[self._uids] = np.arange(self.size, dtype=np.int32)
            self._columns = table
        return table[keys]

    def rows(self, texts):
        """``(row of each value, columns, values)`` of ``texts``: counts -> tf weighting -> idf -> norm.

        Few NumPy calls per batch whatever its size (a prediction is mostly one to a few texts).
        """
        hits = [self.counted(text) for text in texts]
        if len(hits) == 1:
            keys, counts, log_tf = hits[0]
        else:
            if self.shared is not None:
                keys = np.concatenate([hit[0] for hit in hits])
            else:
                keys = list(chain.from_iterable(hit[0] for hit in hits))
            counts = np.concatenate([hit[1] for hit in hits])
            log_tf = np.concatenate([hit[2] for hit in hits])
        found = self._found(keys)
        known = found >= 0
        columns = found[known]
        if self.binary:
            values = np.ones(len(columns))
        else:
            values = (log_tf if self.sublinear_tf else counts)[known]  # a copy: the memo stays intact
        if self.idf is not None:
            values *= self.idf[columns]
        if len(hits) == 1:
            row_of = None
            if self.norm is not None:
                total = np.sqrt(values @ values) if self.norm == "l2" else np.abs(values).sum()
                if total > 0:
                    values /= total
        else:
            row_of = np.repeat(np.arange(len(hits)), [len(hit[0]) for hit in hits])[known]
            if self.norm is not None and len(values):
                squares = values * values if self.norm == "l2" else np.abs(values)
                totals = np.bincount(row_of, weights=squares, minlength=len(hits))
                if self.norm == "l2":
                    totals = np.sqrt(totals)
                totals[totals == 0] = 1.0
                values /= totals[row_of]
        return row_of, columns, values


class DensePart:
    """A fitted dense feature block of the union (:class:`ml.static_vectors.StaticVectors`)."""

    def __init__(self, transformer, offset):
        self.transformer = transformer
        self.offset = offset
        self.size = transformer.vectors_.shape[1]


class CompiledLinear:
    """TF-IDF parts and a linear head, evaluated with NumPy (see the module docstring)."""

    def __init__(self, parts, n_features, coef, intercept, kind):
        self.parts = parts
        self.n_features = n_features
        self.coef_t = np.ascontiguousarray(np.atleast_2d(coef).T, dtype=np.float64)  # (n_features, k)
        self.intercept = np.asarray(intercept, dtype=np.float64).reshape(-1)
        self.kind = kind  # "logistic", "svm" (decision scores only) or "ridge"
        self.part_weights = [self.coef_t[part.offset:part.offset + part.size] for part in parts]

    def decision_function(self, texts, return_dense=False):
        """Scores of ``texts``; with ``return_dense``, ``(scores, [features of each dense block])``."""
        n = len(texts)
        scores = np.tile(self.intercept, (n, 1))
        dense = []
        for part, weights in zip(self.parts, self.part_weights):
            if isinstance(part, DensePart):
                dense.append(part.transformer.features(texts))
                scores += dense[-1] @ weights
                continue
            row_of, columns, values = part.rows(texts)
            if n == 1:
                scores[0] += values @ weights[columns]
            elif n <= 64:  # a few texts: sum each text's weighted weight rows (rows with no value skipped)
                lengths = np.bincount(row_of, minlength=n)
                filled = lengths > 0
                if filled.any():
                    starts = (np.cumsum(lengths) - lengths)[filled]
                    scores[filled] += np.add.reduceat(weights[columns] * values[:, None], starts, axis=0)
            else:
                indptr = np.concatenate([[0], np.cumsum(np.bincount(row_of, minlength=n))])
                scores += sp.csr_matrix((values, columns, indptr), shape=(n, part.size)) @ weights
        return (scores, dense) if return_dense else scores

    def predict_proba(self, texts):
        if self.kind != "logistic":
            raise TypeError(f"a {self.kind} head gives scores, not probabilities")
        scores = self.decision_function(texts)
        if scores.shape[1] == 1:
            positive = expit(scores[:, 0])
            return np.column_stack([1.0 - positive, positive])
        return softmax(scores, axis=1)

    def predict(self, texts):
        """Regression output (``Ridge`` heads)."""
        scores = self.decision_function(texts)
        return scores[:, 0] if scores.shape[1] == 1 else scores


def compile_pipeline(pipeline):
    """A :class:`CompiledLinear` computing ``pipeline``'s outputs, or ``None`` when unsupported.

    Supported: ``Pipeline`` of two steps, a ``TfidfVectorizer`` or a ``FeatureUnion`` of them
    (no transformer weights, nothing dropped; a fitted ``StaticVectors`` block may join them), then a binary or multinomial
    ``LogisticRegression``, a ``LinearSVC`` (its ``decision_function``) or a ``Ridge`` with one
    target.
    """
    if not isinstance(pipeline, Pipeline) or len(pipeline.steps) != 2:
        return None
    features, head = pipeline.steps[0][1], pipeline.steps[1][1]
    if isinstance(features, TfidfVectorizer):
        vectorizers = [features]
    elif isinstance(features, FeatureUnion) and not features.transformer_weights:
        vectorizers = [step for _, step in features.transformer_list]
    else:
        return None
    if not vectorizers or not all(type(v) in (TfidfVectorizer, StaticVectors) for v in vectorizers):
        return None
    if type(head) is LogisticRegression:
        kind = "logistic"
    elif type(head) is LinearSVC:
        kind = "svm"
    elif type(head) is Ridge and np.ndim(head.coef_) == 1:
        kind = "ridge"
    else:
        return None
    parts = []
    offset = 0
    for vectorizer in vectorizers:
        if type(vectorizer) is StaticVectors:
            if getattr(vectorizer, "vectors_", None) is None:
                return None
            parts.append(DensePart(vectorizer, offset))
        elif getattr(vectorizer, "vocabulary_", None) is None or vectorizer.norm not in ("l1", "l2", None):
            return None
        else:
            parts.append(TfidfPart.from_vectorizer(vectorizer, offset))
        offset += parts[-1].size
    if np.atleast_2d(head.coef_).shape[1] != offset:
        return None
    return CompiledLinear(parts, offset, head.coef_, head.intercept_, kind)


def compiled_for(owner, pipeline):
    """:func:`compile_pipeline` of ``pipeline``, kept on ``owner`` until its pipeline is replaced."""
    cache = getattr(owner, "_compiled_", None)
    if cache is None or cache[0] is not pipeline:
        cache = owner._compiled_ = (pipeline, compile_pipeline(pipeline))
    return cache[1]
