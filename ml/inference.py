"""Prediction with the fitted TF-IDF pipelines of ``linear`` and ``quality``, minus per-call overhead.

On a handful of texts scikit-learn spends most of a prediction in input validation (DataFrame
detection, ``check_array``, one calibrator call per class, a ``ColumnTransformer`` over a
pandas frame), not in arithmetic. The compiled forms below read a fitted pipeline's parameters
once (vocabularies and analyzers, idf weights, coefficients, sigmoid calibration, one-hot
categories) and compute the same numbers with a few NumPy/SciPy operations per call; the
tests compare them with the pipeline's own ``predict_proba``/``predict``.

This replaces the library's predict path only, and only for the real-time predict target
(``bench/load.sh``, see docs/benchmarks.md "Real-time predict"). Fitting always goes through
scikit-learn, and a pipeline of any other shape is not compiled (:class:`NotCompilable`): the
models then predict through the pipeline itself.
"""

import contextlib
import contextvars
import hashlib
import math
import threading
from collections import Counter
from itertools import chain, repeat

import numpy as np
import scipy.sparse as sp
from scipy.special import expit, softmax
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder
from sklearn.svm import LinearSVC


class NotCompilable(ValueError):
    """The fitted pipeline has a shape the compiled forms do not reproduce."""


# The TfidfVectorizer parameters that decide which tokens its analyzer makes of a text.
ANALYZER_PARAMS = ("input", "encoding", "decode_error", "strip_accents", "lowercase", "preprocessor", "tokenizer",
                   "stop_words", "token_pattern", "ngram_range", "analyzer")
_analyzer_ids = {}
_analyzer_ids_lock = threading.Lock()
_shared_counts = contextvars.ContextVar("ml_inference_shared_counts", default=None)


@contextlib.contextmanager
def shared_analysis():
    """Inside the block, a text is analysed once per set of analyzer parameters.

    The intent, sentiment and quality models of one language tokenize a text the same way;
    predicting a batch with all three inside ``shared_analysis()`` counts each text's tokens
    once instead of three times. Nothing is remembered after the block (per thread and task).
    """
    token = _shared_counts.set({})
    try:
        yield
    finally:
        _shared_counts.reset(token)


def token_counter(vectorizer):
    """``text -> Counter`` of the tokens ``vectorizer``'s analyzer makes of ``text``.

    Inside :func:`shared_analysis`, vectorizers with the same analyzer parameters share the
    counts; the counters are then shared and must not be changed.
    """
    key = repr(tuple(vectorizer.get_params()[name] for name in ANALYZER_PARAMS))
    with _analyzer_ids_lock:
        analyzer_id = _analyzer_ids.setdefault(key, len(_analyzer_ids))
    analyze = vectorizer.build_analyzer()

    def count(text):
        shared = _shared_counts.get()
        if shared is None:
            return Counter(analyze(text))
        counts = shared.get((analyzer_id, text))
        if counts is None:
            counts = shared[(analyzer_id, text)] = Counter(analyze(text))
        return counts

    count.analyzer_id = analyzer_id
    return count


class TfidfUnion:
    """A fitted ``TfidfVectorizer``, or ``FeatureUnion`` of them, as one CSR feature matrix.

    Inside :func:`shared_analysis`, unions with the same analyzers, vocabularies and weights
    (the intent, sentiment and quality models fitted on the same texts) compute the rows of
    a batch once; they are then shared and must not be changed.
    """

    def __init__(self, union):
        if isinstance(union, TfidfVectorizer):
            vectorizers = [union]
        elif isinstance(union, FeatureUnion) and not union.transformer_weights:
            vectorizers = [vectorizer for _, vectorizer in union.transformer_list]
        else:
            raise NotCompilable("expected a TfidfVectorizer or an unweighted FeatureUnion of them")
        self.blocks = []
        idf, offsets, sublinear, l2, offset = [], [], [], [], 0
        digest = hashlib.sha256()
        for vectorizer in vectorizers:
            if (not isinstance(vectorizer, TfidfVectorizer) or vectorizer.binary or vectorizer.input != "content"
                    or vectorizer.norm not in ("l2", None)):
                raise NotCompilable(f"unsupported vectorizer {vectorizer!r}")
            width = len(vectorizer.vocabulary_)
            count = token_counter(vectorizer)
            self.blocks.append((count, vectorizer.vocabulary_))
            idf.append(vectorizer.idf_ if vectorizer.use_idf else np.ones(width))
            offsets.append(offset)
            sublinear.append(bool(vectorizer.sublinear_tf))
            l2.append(vectorizer.norm == "l2")
            digest.update(repr((count.analyzer_id, sublinear[-1], l2[-1], width)).encode())
            digest.update("\x00".join(sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.get)).encode())
            digest.update(np.ascontiguousarray(idf[-1], dtype=np.float64).tobytes())
            offset += width
        self.idf = np.concatenate(idf)
        self.n_features = offset
        self.offsets = np.array(offsets, dtype=np.int64)
        self.sublinear = np.array(sublinear)
        self.l2 = np.array(l2)
        self.fingerprint = digest.hexdigest()

    def transform(self, texts):
        """The TF-IDF matrix of ``texts`` (CSR, shape (n_texts, n_features)), as ``transform`` gives it."""
        return sp.csr_array(self.rows(texts), shape=(len(texts), self.n_features))

    def decision(self, texts, coef, intercept, rows=None):
        """``transform(texts) @ coef + intercept`` for a dense ``coef`` (n_features, n_outputs).

        Computed from :meth:`rows` (or the ``rows`` given, already computed for ``texts``)
        without building the sparse matrix: on a few texts SciPy's checks when it builds one,
        and its product's set-up, cost more than the arithmetic.
        """
        values, indices, indptr = self.rows(texts) if rows is None else rows
        out = np.zeros((len(texts), coef.shape[1]))
        if len(values):
            starts = indptr[:-1]
            filled = starts < indptr[1:]  # a row with no entries sums to zero (and reduceat needs ascending starts)
            out[filled] = np.add.reduceat(coef[indices] * values[:, None], starts[filled], axis=0)
        return out + intercept

    def rows(self, texts):
        """``(data, indices, indptr)`` of the CSR matrix :meth:`transform` gives (shared within
        :func:`shared_analysis`)."""
        shared = _shared_counts.get()
        if shared is None:
            return self._rows(texts)
        key = (self.fingerprint, tuple(texts))
        rows = shared.get(key)
        if rows is None:
            rows = shared[key] = self._rows(texts)
        return rows

    def _rows(self, texts):
        # Every (text, block) pair is a segment; all segments are weighted in one pass.
        n_blocks = len(self.blocks)
        columns, counts, lengths = [], [], []
        for text in texts:
            for count, vocabulary in self.blocks:
                tokens = count(text)
                columns.append(map(vocabulary.get, tokens, repeat(-1)))
                counts.append(tokens.values())
                lengths.append(len(tokens))
        total = sum(lengths)
        indices = np.fromiter(chain.from_iterable(columns), dtype=np.int64, count=total)
        values = np.fromiter(chain.from_iterable(counts), dtype=np.float64, count=total)
        segment = np.repeat(np.arange(len(lengths)), lengths)
        known = indices >= 0
        segment, values = segment[known], values[known]
        block = segment % n_blocks
        indices = indices[known] + self.offsets[block]
        if self.sublinear.all():
            values = np.log(values) + 1.0
        elif self.sublinear.any():
            sublinear = self.sublinear[block]
            values[sublinear] = np.log(values[sublinear]) + 1.0
        values *= self.idf[indices]
        if self.l2.any():
            # Every kept count and idf is positive, so a segment with entries has a positive norm.
            norms = np.sqrt(np.bincount(segment, weights=values * values, minlength=len(lengths)))
            values /= norms[segment] if self.l2.all() else np.where(self.l2[block], norms[segment], 1.0)
        indptr = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum(np.bincount(segment // n_blocks, minlength=len(texts)), out=indptr[1:])
        return values, indices, indptr


def _linear(estimator):
    """(coefficients transposed to (n_features, n_outputs), intercepts) of a fitted linear model."""
    coef = np.asarray(estimator.coef_, dtype=np.float64)
    if coef.ndim == 1:
        coef = coef.reshape(1, -1)
    return np.ascontiguousarray(coef.T), np.atleast_1d(np.asarray(estimator.intercept_, dtype=np.float64))


class CompiledClassifier:
    """``predict_proba`` of a fitted ``linear`` pipeline: TF-IDF union into a calibrated
    ``LinearSVC`` (sigmoid, one-vs-rest, normalised) or a ``LogisticRegression``."""

    def __init__(self, pipeline):
        steps = dict(pipeline.named_steps)
        self.features = TfidfUnion(steps.get("tfidf"))
        classifier = steps.get("classifier")
        self.classes = np.asarray(classifier.classes_)
        if isinstance(classifier, CalibratedClassifierCV) and classifier.method == "sigmoid":
            self.kind = "sigmoid"
            self.members = []
            for member in classifier.calibrated_classifiers_:
                if not isinstance(member.estimator, LinearSVC):
                    raise NotCompilable("calibrated estimator is not a LinearSVC")
                coef, intercept = _linear(member.estimator)
                columns = np.searchsorted(self.classes, member.estimator.classes_)
                a = np.array([c.a_ for c in member.calibrators], dtype=np.float64)
                b = np.array([c.b_ for c in member.calibrators], dtype=np.float64)
                self.members.append((coef, intercept, columns, a, b))
        elif isinstance(classifier, LogisticRegression):
            self.kind = "logistic"
            self.members = [_linear(classifier)]
        else:
            raise NotCompilable(f"unsupported classifier {type(classifier).__name__}")

    def predict_proba(self, texts):
        n, n_classes = len(texts), len(self.classes)
        rows = self.features.rows(texts)  # once for every calibrated member
        if self.kind == "logistic":
            coef, intercept = self.members[0]
            decision = self.features.decision(texts, coef, intercept, rows)
            if n_classes == 2:
                positive = expit(decision[:, 0])
                return np.column_stack([1.0 - positive, positive])
            return softmax(decision, axis=1)
        mean = np.zeros((n, n_classes))
        for coef, intercept, columns, a, b in self.members:
            decision = self.features.decision(texts, coef, intercept, rows)
            proba = np.zeros((n, n_classes))
            if n_classes == 2:
                proba[:, 1] = expit(-(a[0] * decision[:, 0] + b[0]))
                proba[:, 0] = 1.0 - proba[:, 1]
            else:
                proba[:, columns] = expit(-(a * decision + b))
                total = proba.sum(axis=1, keepdims=True)
                proba = np.divide(proba, total, out=np.full_like(proba, 1.0 / n_classes), where=total != 0)
            proba[(1.0 < proba) & (proba <= 1.0 + 1e-5)] = 1.0
            mean += proba
        return mean / len(self.members)


def _number(value):
    """A feature value as float, NaN when missing or not a number (as ``pandas.to_numeric`` coerces)."""
    if value is None:
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _category(value):
    """A categorical feature value as the string the one-hot encoder saw ("unknown" when missing)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "unknown"
    return str(value)


def _is_identity(transformer):
    """A fitted ``"passthrough"`` column block (kept as an identity ``FunctionTransformer``)."""
    return transformer == "passthrough" or (isinstance(transformer, FunctionTransformer) and transformer.func is None)


class CompiledQuality:
    """``predict`` of a fitted ``quality`` pipeline: passthrough numeric features, one-hot
    categories and the text's ridge score into the gradient-boosted trees (unclipped).

    Without features (the real-time API) every column but the text score is the same in every
    row, so the trees compute a step function of the text score that changes only at their
    split thresholds on that column. That function is tabulated once, one tree evaluation per
    step, and read with a binary search: the trees' own numbers without walking them per call.
    """

    def __init__(self, pipeline, text_column):
        self.boosting = pipeline.named_steps["boosting"]
        self.parts = []  # the ColumnTransformer's output blocks, in its order
        for name, transformer, selected in pipeline.named_steps["features"].transformers_:
            if name == "remainder":
                if transformer != "drop":
                    raise NotCompilable("remainder columns are not dropped")
            elif _is_identity(transformer):
                self.parts.append(("numeric", list(selected)))
            elif isinstance(transformer, OneHotEncoder):
                if transformer.drop is not None or len(selected) != len(transformer.categories_):
                    raise NotCompilable("unsupported one-hot encoder")
                for column, categories in zip(selected, transformer.categories_):
                    self.parts.append(("onehot", column, {str(c): i for i, c in enumerate(categories)}))
            elif list(selected) == [text_column] and hasattr(transformer, "model_"):
                model = transformer.model_
                self.parts.append(("text", TfidfUnion(model.named_steps["tfidf"]), *_linear(model.named_steps["ridge"])))
            else:
                raise NotCompilable(f"unsupported column transformer {name!r}")
        self.text_curve = self._tabulate()

    def _tabulate(self):
        """``(thresholds, predictions)``: prediction ``i`` holds for text scores in
        ``(thresholds[i-1], thresholds[i]]`` (trees send ``x <= threshold`` left), the last one
        above every threshold; None when the model has no text column or a categorical split."""
        column = 0  # the text score's column in the trees' input
        for part in self.parts:
            if part[0] == "text":
                break
            column += len(part[1]) if part[0] == "numeric" else len(part[2])
        else:
            return None
        cuts = []
        for tree in (tree for trees in self.boosting._predictors for tree in trees):
            nodes = tree.nodes
            if nodes["is_categorical"].any():
                return None
            cuts.append(nodes["num_threshold"][(nodes["is_leaf"] == 0) & (nodes["feature_idx"] == column)])
        thresholds = np.unique(np.concatenate(cuts)) if cuts else np.zeros(0)
        points = np.append(thresholds, np.nextafter(thresholds[-1], np.inf) if len(thresholds) else 0.0)
        return thresholds, self.boosting.predict(self._matrix([""] * len(points), None, points))

    def predict(self, texts, features):
        """Raw predictions for ``texts`` and their feature dicts (or a DataFrame, or None)."""
        if features is None and self.text_curve is not None:
            return self.predict_text_scores(self._text_scores(texts))
        return self.boosting.predict(self._matrix(texts, features))

    def predict_text_scores(self, scores):
        """Raw predictions for rows without features whose text scores are ``scores``."""
        thresholds, predictions = self.text_curve
        return predictions[np.searchsorted(thresholds, scores, side="left")]

    def _text_scores(self, texts):
        for part in self.parts:
            if part[0] == "text":
                _, union, coef, intercept = part
                return union.decision(texts, coef, intercept).ravel()
        raise ValueError("the model has no text column")

    def _matrix(self, texts, features, text_scores=None):
        """The trees' input: one row per text, features missing when ``features`` is None."""
        n = len(texts)
        if features is None:
            rows = [{}] * n
        elif hasattr(features, "to_dict"):
            rows = features.to_dict("records")
        else:
            rows = list(features)
        blocks = []
        for part in self.parts:
            if part[0] == "numeric":
                columns = part[1]
                blocks.append(np.array([[_number(row.get(c)) for c in columns] for row in rows],
                                       dtype=np.float64).reshape(n, len(columns)))
            elif part[0] == "onehot":
                _, column, index = part
                block = np.zeros((n, len(index)))
                for i, row in enumerate(rows):
                    j = index.get(_category(row.get(column)))
                    if j is not None:
                        block[i, j] = 1.0
                blocks.append(block)
            else:
                blocks.append(np.reshape(self._text_scores(texts) if text_scores is None else text_scores, (n, 1)))
        return np.hstack(blocks)
