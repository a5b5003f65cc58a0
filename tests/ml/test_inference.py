"""The compiled prediction path gives the fitted pipelines' own numbers, or is not used."""

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

import ml
from ml.inference import CompiledClassifier, CompiledQuality, NotCompilable, TfidfUnion
from ml.linear import tfidf_features
from ml.quality import TEXT_COLUMN, model_frame

from .test_linear import ONE_TEXT_CLASS
from .test_quality import make_conversations

# Texts the vocabularies partly or wholly miss: empty, whitespace, digits, emoji, mixed scripts.
ODD = ["", "   ", "12345", "😀😀", "card 卡 丢了 lost", "exchange\nrate\t!!", "ÀÉÎ café"]


def _same(a, b):
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


def test_tfidf_union_equals_the_feature_union(banking_slice):
    train_x = banking_slice[0]
    union = tfidf_features("en").fit(train_x)
    texts = banking_slice[2] + ODD
    _same(TfidfUnion(union).transform(texts).toarray(), union.transform(texts).toarray())


def test_multiclass_probabilities_equal_the_pipeline(banking_slice):
    train_x, train_y, test_x, _ = banking_slice
    model = ml.build("intent", "linear", random_state=0).fit(train_x, train_y)
    assert isinstance(model.compiled_, CompiledClassifier)
    texts = test_x + ODD
    _same(model.predict_proba(texts), model.pipeline_.predict_proba(texts))
    # one text at a time (the real-time path) gives the same rows
    _same(np.vstack([model.predict_proba([t]) for t in texts[:10]]), model.pipeline_.predict_proba(texts[:10]))


def test_binary_chinese_probabilities_equal_the_pipeline(waimai_slice):
    train_x, train_y, test_x, _ = waimai_slice
    model = ml.build("sentiment", "linear", random_state=0).fit(train_x, train_y)
    texts = test_x + ODD
    _same(model.predict_proba(texts), model.pipeline_.predict_proba(texts))


def test_logistic_fallback_equals_the_pipeline():
    texts, labels = ONE_TEXT_CLASS
    model = ml.build("intent", "linear", random_state=0).fit(texts, labels)
    assert isinstance(model.pipeline_.named_steps["classifier"], LogisticRegression)
    queries = ["where is my card please", "euro rate", "close account"] + ODD
    _same(model.predict_proba(queries), model.pipeline_.predict_proba(queries))
    binary = ml.build("intent", "linear", random_state=0).fit(texts[:4], ["a", "a", "a", "b"])
    _same(binary.predict_proba(queries), binary.pipeline_.predict_proba(queries))


def test_saved_and_loaded_model_is_compiled_again(banking_slice, tmp_path):
    train_x, train_y, test_x, _ = banking_slice
    model = ml.build("intent", "linear", random_state=0).fit(train_x, train_y)
    loaded = ml.load(model.save(tmp_path / "intent"))
    assert isinstance(loaded.compiled_, CompiledClassifier)
    _same(loaded.predict_proba(test_x), model.pipeline_.predict_proba(test_x))


def test_unsupported_pipeline_is_not_compiled_and_predicts_through_the_pipeline(banking_slice):
    train_x, train_y, test_x, _ = banking_slice
    weighted = tfidf_features("en")
    weighted.transformer_weights = {"word": 2.0, "char": 1.0}
    pipeline = Pipeline([("tfidf", weighted), ("classifier", LogisticRegression(max_iter=1000))]).fit(train_x, train_y)
    with pytest.raises(NotCompilable):
        CompiledClassifier(pipeline)
    model = ml.build("intent", "linear", random_state=0).fit(train_x, train_y)
    model.pipeline_, model.compiled_ = pipeline, None  # what loading such a pipeline leaves
    _same(model.predict_proba(test_x), pipeline.predict_proba(test_x))


@pytest.fixture(scope="module")
def quality():
    texts, features, y = make_conversations(300)
    return ml.build("quality", "quality", random_state=0).fit(texts, y, features)


def test_quality_equals_the_pipeline_on_features_dicts_frames_and_odd_values(quality):
    texts, features, _ = make_conversations(60, seed=1)
    assert isinstance(quality.compiled_, CompiledQuality)
    expected = np.clip(quality.pipeline_.predict(model_frame(texts, features)), 1, 5)
    _same(quality.predict(texts, features), expected)
    _same(quality.predict(texts, pd.DataFrame(features)), expected)

    odd = [{}, {"channel": None}, {"channel": "fax", "n_turns": "x"}, {"n_turns": "7", "resolved": True},
           {"first_response_s": math.nan, "channel": math.nan}, {"digits": None, "n_customer": 2.5}, {}]
    _same(quality.predict(ODD, odd), np.clip(quality.pipeline_.predict(model_frame(ODD, odd)), 1, 5))
    _same(quality.predict(ODD), np.clip(quality.pipeline_.predict(model_frame(ODD, None)), 1, 5))


def test_quality_without_features_reads_the_trees_step_function(quality):
    compiled = quality.compiled_
    thresholds, _ = compiled.text_curve
    assert len(thresholds) > 10
    # On the thresholds, just either side of them and far outside, the table equals the trees.
    scores = np.concatenate([thresholds, np.nextafter(thresholds, -np.inf), np.nextafter(thresholds, np.inf),
                             [-1e9, 0.0, 3.0, 1e9]])
    rows = compiled._matrix([""] * len(scores), None, scores)
    np.testing.assert_array_equal(compiled.predict_text_scores(scores), compiled.boosting.predict(rows))

    texts, _, _ = make_conversations(80, seed=2)
    _same(quality.predict(texts), np.clip(quality.pipeline_.predict(model_frame(texts, None)), 1, 5))


def test_quality_refuses_features_of_another_length(quality):
    with pytest.raises(ValueError, match="features has 1 rows, texts has 2"):
        quality.predict(["a", "b"], [{}])


def test_quality_without_text_feature_is_compiled_too():
    texts, features, y = make_conversations(200)
    model = ml.build("quality", "quality", use_text=False, random_state=0).fit(texts, y, features)
    assert isinstance(model.compiled_, CompiledQuality)
    _same(model.predict(texts[:50], features[:50]),
          np.clip(model.pipeline_.predict(model_frame(texts[:50], features[:50])), 1, 5))
    assert TEXT_COLUMN not in model.feature_names_
    assert model.compiled_.text_curve is None  # nothing to tabulate: the trees are walked
    _same(model.predict(texts[:5]), np.clip(model.pipeline_.predict(model_frame(texts[:5], None)), 1, 5))


def test_tfidf_union_equals_a_single_vectorizer(waimai_slice):
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), min_df=2, max_features=3000).fit(waimai_slice[0])
    texts = waimai_slice[2] + ODD
    _same(TfidfUnion(vectorizer).transform(texts).toarray(), vectorizer.transform(texts).toarray())


def test_shared_analysis_tokenizes_each_text_once_per_analyzer_and_only_inside_the_block(banking_slice):
    from sklearn.feature_extraction.text import TfidfVectorizer

    from ml.inference import shared_analysis

    calls = []

    def words(text):
        calls.append(text)
        return text.lower().split()

    train_x, texts = banking_slice[0], banking_slice[2][:20]
    first = TfidfVectorizer(analyzer=words).fit(train_x)
    second = TfidfVectorizer(analyzer=words, sublinear_tf=True, min_df=2).fit(train_x[:100])
    compiled = [TfidfUnion(first), TfidfUnion(second)]
    calls.clear()
    with shared_analysis():
        matrices = [c.transform(texts) for c in compiled]
    assert len(calls) == len(texts)
    _same(matrices[0].toarray(), first.transform(texts).toarray())
    _same(matrices[1].toarray(), second.transform(texts).toarray())
    calls.clear()
    for c in compiled:
        c.transform(texts)
    assert len(calls) == 2 * len(texts)


def test_shared_analysis_computes_the_matrix_once_for_identical_unions(banking_slice):
    from ml.inference import shared_analysis

    train_x, texts = banking_slice[0], banking_slice[2][:20]
    union = tfidf_features("en").fit(train_x)
    twin = tfidf_features("en").fit(train_x)  # fitted alike: same vocabularies and weights
    other = tfidf_features("en").fit(train_x[:60])
    compiled = [TfidfUnion(union), TfidfUnion(twin), TfidfUnion(other)]
    assert compiled[0].fingerprint == compiled[1].fingerprint != compiled[2].fingerprint
    with shared_analysis():
        rows = [c.rows(texts) for c in compiled]
        assert rows[0] is rows[1]
        assert rows[0] is not compiled[0].rows(texts[:5])  # other texts, other rows
        matrices = [c.transform(texts) for c in compiled]
    assert rows[2] is not rows[0]
    _same(matrices[1].toarray(), twin.transform(texts).toarray())
    _same(matrices[2].toarray(), other.transform(texts).toarray())
    assert compiled[0].rows(texts) is not compiled[1].rows(texts)  # nothing kept outside the block


def test_decision_equals_the_sparse_product(banking_slice):
    train_x, texts = banking_slice[0], banking_slice[2][:20]
    compiled = TfidfUnion(tfidf_features("en").fit(train_x))
    coef = np.random.default_rng(0).normal(size=(compiled.n_features, 3))
    intercept = np.array([0.5, -1.0, 2.0])
    for batch in (texts, texts[:1], ["", "zzzz"] + texts[:3] + ["", "qqqq"], [""], []):
        expected = compiled.transform(batch) @ coef + intercept
        _same(compiled.decision(batch, coef, intercept), expected.reshape(len(batch), 3))
