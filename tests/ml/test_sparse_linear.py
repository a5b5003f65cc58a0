"""``ml.sparse_linear``: NumPy inference of fitted TF-IDF pipelines equals scikit-learn's."""

import numpy as np
import pytest
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from scipy.special import expit, softmax

import ml
from ml.linear import static_step
from ml.sparse_linear import DensePart, TfidfPart, compile_pipeline
from ml import stacking
from ml.stacking import neighbour_proba

# unseen words only: every n-gram outside the vocabulary gives an all-zero row (intercept only)
ODD = ["", "   ", "\u2603\u2603\u2603", "zzzzqqqq xxxjjj"]


def sklearn_proba(model, texts):
    """``model``'s probabilities computed through scikit-learn's pipeline (no compiled inference),
    blended with its class prototypes' votes where it has them."""
    if model.loss == "log":
        return model.pipeline_.predict_proba(texts)
    proba = softmax(model.pipeline_.decision_function(texts) / model.temperature_, axis=1)
    blend = model.blend_
    if blend is None:
        return proba
    S = static_step(model.pipeline_.named_steps["tfidf"]).unit_features(texts)
    votes = neighbour_proba(model.prototypes_, model.prototype_labels_, S, proba.shape[1], model.neighbours,
                            model.neighbour_temperature)
    return stacking.blend(proba, votes, blend)


def tfidf_parts(compiled):
    return [part for part in compiled.parts if isinstance(part, TfidfPart)]


@pytest.mark.parametrize("size", [1, 3, 9, 40, 90])  # every path: one text, a few (<= 64), a sparse matrix
def test_compiled_english_intent_scores_equal_sklearns(banking_slice, size):
    train_x, train_y, test_x, _ = banking_slice
    model = ml.build("intent", "linear", random_state=0).fit(train_x, train_y)
    compiled = compile_pipeline(model.pipeline_)
    assert compiled is not None and compiled.kind == "svm"
    assert [type(part) for part in compiled.parts] == [TfidfPart, TfidfPart, DensePart]  # word, char_wb, static
    texts = (list(test_x) + ODD)[-size:] if size < 10 else list(test_x[:size - 4]) + ODD
    scores = model.pipeline_.decision_function(texts)
    np.testing.assert_allclose(compiled.decision_function(texts), scores, atol=1e-5)
    np.testing.assert_allclose(model.predict_proba(texts), sklearn_proba(model, texts), atol=1e-5)
    with pytest.raises(TypeError):
        compiled.predict_proba(texts)

    logistic = ml.build("intent", "linear", loss="log", random_state=0).fit(train_x, train_y)
    compiled = compile_pipeline(logistic.pipeline_)
    assert compiled.kind == "logistic"
    np.testing.assert_allclose(compiled.predict_proba(texts), logistic.pipeline_.predict_proba(texts), atol=1e-5)
    np.testing.assert_allclose(logistic.predict_proba(texts), logistic.pipeline_.predict_proba(texts), atol=1e-5)


def test_compiled_chinese_binary_and_ridge_equal_sklearns(waimai_slice):
    train_x, train_y, test_x, _ = waimai_slice
    model = ml.build("sentiment", "linear", loss="log", random_state=0).fit(train_x, train_y)
    compiled = compile_pipeline(model.pipeline_)
    assert compiled.kind == "logistic" and compiled.coef_t.shape[1] == 1  # binary: one logit
    texts = list(test_x[:30]) + ODD
    np.testing.assert_allclose(compiled.predict_proba(texts), model.pipeline_.predict_proba(texts), atol=1e-5)

    svm = ml.build("sentiment", "linear", random_state=0).fit(train_x, train_y)
    scores = svm.pipeline_.decision_function(texts)  # binary: one column, positive = second class
    np.testing.assert_allclose(compile_pipeline(svm.pipeline_).decision_function(texts)[:, 0], scores, atol=1e-5)
    np.testing.assert_allclose(svm.predict_proba(texts)[:, 1], expit(scores / svm.temperature_), atol=1e-5)

    quality = ml.build("quality", "quality", random_state=0).fit(train_x, np.linspace(1, 5, len(train_x)))
    ridge = compile_pipeline(quality.text_model_)
    assert ridge.kind == "ridge"
    for batch in (texts[:2], texts):
        np.testing.assert_allclose(ridge.predict(batch), quality.text_model_.predict(batch), atol=1e-5)


def test_unsupported_pipelines_are_left_to_sklearn(banking_slice):
    train_x, train_y, _, _ = banking_slice
    svd = Pipeline([("tfidf", TfidfVectorizer()), ("svd", TruncatedSVD(5)), ("clf", LogisticRegression())])
    assert compile_pipeline(svd.fit(train_x, train_y)) is None
    two_targets = Pipeline([("tfidf", TfidfVectorizer()), ("ridge", Ridge())])
    two_targets.fit(train_x, np.column_stack([np.arange(len(train_x)), np.arange(len(train_x))]))
    assert compile_pipeline(two_targets) is None
    # a tokenizer that cannot be named still compiles, but shares no n-grams with other models
    lambda_tok = Pipeline([("tfidf", TfidfVectorizer(tokenizer=lambda s: s.split(), token_pattern=None)),
                           ("clf", LogisticRegression())]).fit(train_x, train_y)
    compiled = compile_pipeline(lambda_tok)
    assert compiled.parts[0].signature is None
    np.testing.assert_allclose(compiled.predict_proba(train_x[:5]), lambda_tok.predict_proba(train_x[:5]), atol=1e-6)


def test_models_of_one_language_share_ngrams_inside_a_block(banking_slice, monkeypatch):
    train_x, train_y, test_x, _ = banking_slice
    intent = ml.build("intent", "linear", random_state=0).fit(train_x, train_y)
    other = ml.build("intent", "linear", C=3.0, random_state=0).fit(train_x, train_y)
    texts = list(test_x[:10])
    expected = other.predict_proba(texts)
    first_parts = tfidf_parts(compile_pipeline(intent.pipeline_))
    second = ml.sparse_linear.compiled_for(other, other.pipeline_)
    assert [p.signature for p in tfidf_parts(second)] == [p.signature for p in first_parts]

    def refuse(text):
        raise AssertionError("the second model re-analysed a text the first one had analysed")

    for part in tfidf_parts(second):
        monkeypatch.setattr(part, "analyze", refuse)
    with ml.shared_tokenization():
        intent.predict_proba(texts)
        np.testing.assert_array_equal(other.predict_proba(texts), expected)
    with pytest.raises(AssertionError, match="re-analysed"):  # outside a block nothing is shared
        other.predict_proba(texts)


def test_refit_replaces_the_compiled_model(banking_slice):
    train_x, train_y, test_x, _ = banking_slice
    model = ml.build("intent", "linear", random_state=0).fit(train_x, train_y)
    before = model.predict_proba(test_x[:5])
    flipped = [train_y[(i + 1) % len(train_y)] for i in range(len(train_y))]  # different labels
    model.fit(train_x, flipped)
    assert model.blend_ is not None  # noisy labels: the prototypes' votes get a weight
    np.testing.assert_allclose(model.predict_proba(test_x[:5]), sklearn_proba(model, test_x[:5]), atol=1e-5)
    assert not np.allclose(model.predict_proba(test_x[:5]), before)


def test_shared_vocabulary_serves_models_with_different_vocabularies(banking_slice, monkeypatch):
    """Two models of one analyzer, trained on different texts: one lookup per n-gram, exact results.

    The second model is compiled in the middle of a block, after the first one's look-ups: the
    shared table grows and the first model's columns still come out right.
    """
    train_x, train_y, test_x, _ = banking_slice
    half = len(train_x) // 2
    first = ml.build("intent", "linear", random_state=0).fit(train_x[:half], train_y[:half])
    second = ml.build("intent", "linear", random_state=0).fit(train_x[half:], train_y[half:])
    texts = list(test_x[:12]) + list(train_x[half:half + 6]) + ODD  # n-grams only the second model knows
    expected = sklearn_proba(first, texts), sklearn_proba(second, texts)
    compiled_first = ml.sparse_linear.compiled_for(first, first.pipeline_)
    shared = compiled_first.parts[0].shared
    assert shared is not None
    lookups = []
    original = type(shared).lookup
    monkeypatch.setattr(type(shared), "lookup", lambda self, grams: lookups.append(1) or original(self, grams))
    with ml.shared_tokenization():
        np.testing.assert_allclose(first.predict_proba(texts), expected[0], atol=1e-5)
        compiled_second = ml.sparse_linear.compiled_for(second, second.pipeline_)
        assert compiled_second.parts[0].shared is shared  # same analyzer: same table
        # the table grew: the texts' ids are looked up again (the first model's lack the second's n-grams)
        np.testing.assert_allclose(second.predict_proba(texts), expected[1], atol=1e-5)
        lookups.clear()
        np.testing.assert_allclose(first.predict_proba(texts), expected[0], atol=1e-5)
        np.testing.assert_allclose(second.predict_proba(texts), expected[1], atol=1e-5)
        assert not lookups  # then both models reuse them
    char = tfidf_parts(compiled_second)[1]
    assert char.split_words is not None and char.shared.words  # char_wb: ids kept per word
    for batch in (texts[:1], texts[:3], texts):  # outside a block too, on every batch path
        np.testing.assert_allclose(first.predict_proba(batch), expected[0][:len(batch)], atol=1e-5)
        np.testing.assert_allclose(second.predict_proba(batch), expected[1][:len(batch)], atol=1e-5)
