"""``linear`` backend details: shared jieba segmentation across models."""

import numpy as np
import pytest

from scipy.special import log_softmax

import ml
import ml.linear
from ml import stacking


def test_shared_tokenization_segments_each_text_once_and_changes_nothing(waimai_slice, monkeypatch):
    train_x, train_y, test_x, _ = waimai_slice
    first = ml.build("sentiment", "linear", random_state=0).fit(train_x, train_y)
    second = ml.build("sentiment", "linear", C=3.0, random_state=0).fit(train_x, train_y)
    assert first._tokenizer() == "jieba"
    texts = list(test_x[:20])
    expected = (first.predict_proba(texts), second.predict_proba(texts))

    calls = []
    segment = ml.linear._segment
    monkeypatch.setattr(ml.linear, "_segment", lambda text: calls.append(text) or segment(text))
    with ml.shared_tokenization():
        shared = (first.predict_proba(texts), second.predict_proba(texts))
    assert sorted(calls) == sorted(set(texts)), "each distinct text segmented exactly once for two models"
    np.testing.assert_array_equal(shared[0], expected[0])
    np.testing.assert_array_equal(shared[1], expected[1])

    calls.clear()
    first.predict_proba(texts)  # outside the block nothing is remembered
    assert len(calls) == len(texts)


def test_nested_shared_tokenization_keeps_the_outer_memo(monkeypatch):
    calls = []
    monkeypatch.setattr(ml.linear, "_segment", lambda text: calls.append(text) or list(text))
    with ml.shared_tokenization():
        ml.linear.jieba_tokenize("退款")
        with ml.shared_tokenization():
            ml.linear.jieba_tokenize("退款")
        ml.linear.jieba_tokenize("退款")
    assert calls == ["退款"]
    ml.linear.jieba_tokenize("退款")
    assert calls == ["退款", "退款"]


def test_svm_scores_become_calibrated_probabilities(banking_slice):
    train_x, train_y, test_x, test_y = banking_slice
    model = ml.build("intent", "linear", neighbours=0, random_state=0).fit(train_x, train_y)
    assert model.loss == "hinge" and model.C_ == 0.5
    assert 0.0 < model.temperature_ < 1.0  # SVM margins are small: softmax needs sharpening
    proba = model.predict_proba(test_x)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    scores = model.pipeline_.decision_function(test_x)
    head = model.pipeline_.named_steps["clf"]
    np.testing.assert_array_equal(proba.argmax(axis=1), head.classes_[scores.argmax(axis=1)])
    # the temperature minimises the log-loss of out-of-fold scores: sharper or softer is worse there
    # on labels drawn from softmax(logits / 0.25) it finds about 0.25 and minimises the log-loss
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(2000, 3))
    y = np.array([rng.choice(3, p=p) for p in stacking.softmax(logits / 0.25, axis=1)])
    best = stacking.fit_logit_temperature(logits, y)
    nll = lambda t: -np.mean(log_softmax(logits / t, axis=1)[np.arange(len(y)), y])  # noqa: E731
    assert 0.2 < best < 0.3
    assert nll(best) < nll(best * 1.2) and nll(best) < nll(best / 1.2)


def test_logistic_head_and_artifacts_from_before_the_loss_parameter(banking_slice, tmp_path):
    import json

    train_x, train_y, test_x, _ = banking_slice
    model = ml.build("intent", "linear", loss="log", random_state=0).fit(train_x, train_y)
    assert model.C_ == 10.0 and model.temperature_ == 1.0
    model.save(tmp_path / "m")
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text())
    assert manifest["params"]["loss"] == "log"
    del manifest["params"]["loss"]  # as written before the parameter existed
    (tmp_path / "m" / "manifest.json").write_text(json.dumps(manifest))
    loaded = ml.load(tmp_path / "m")
    np.testing.assert_allclose(loaded.predict_proba(test_x), model.predict_proba(test_x), atol=1e-9)
    assert loaded.loss == "log"

    with pytest.raises(ValueError, match="unknown loss"):
        ml.build("intent", "linear", loss="squared").fit(train_x, train_y)


def test_a_class_with_one_example_still_gets_a_fitted_temperature():
    texts = [f"refund for order {i}" for i in range(12)] + [f"card lost on day {i}" for i in range(12)]
    texts.append("open account")
    y = ["refund"] * 12 + ["card"] * 12 + ["account"]
    model = ml.build("intent", "linear", random_state=0).fit(texts, y)
    assert model.temperature_ != 1.0  # fit on the two classes that can be split
    assert model.predict(["refund for order 99"])[0] == "refund"
    assert model.predict_proba(["refund for order 99"]).max() > 0.5


def test_chinese_words_come_from_jiebas_dictionary_without_whitespace_tokens():
    # dictionary words stay whole, single characters stand alone, spaces never become tokens
    assert ml.linear.jieba_tokenize("送餐太慢了，饭都凉了") == ["送餐", "太慢", "了", "，", "饭", "都", "凉", "了"]
    assert ml.linear.jieba_tokenize("味道不错 下次还会再来") == ["味道", "不错", "下次", "还会", "再", "来"]


def test_class_prototypes_are_unit_kmeans_centres_of_each_class():
    from ml.stacking import class_prototypes

    rng = np.random.default_rng(0)
    # class 0: two tight clusters of 30 rows each; class 1: two rows (no more than per_class)
    centres = np.eye(4)[:2] * 5.0
    X = np.vstack([centres[0] + 0.01 * rng.normal(size=(30, 4)), centres[1] + 0.01 * rng.normal(size=(30, 4)),
                   rng.normal(size=(2, 4))])
    y = np.array([0] * 60 + [1] * 2)
    bank, labels = class_prototypes(X, y, per_class=2, random_state=0)
    assert bank.dtype == np.float32 and labels.tolist() == [0, 0, 1, 1]
    np.testing.assert_allclose(np.linalg.norm(bank, axis=1), 1.0, rtol=1e-6)
    found = sorted(int(np.argmax(row)) for row in bank[:2])
    assert found == [0, 1], "one prototype per cluster of class 0"
    np.testing.assert_allclose(bank[2:], X[60:] / np.linalg.norm(X[60:], axis=1, keepdims=True), rtol=1e-6)
    twice = class_prototypes(np.vstack([X[60:], X[60:]]), np.ones(4, dtype=int), per_class=3)
    assert len(twice[0]) == 2, "a duplicated row is one prototype, not a cluster of its own"
    with pytest.raises(ValueError, match="at least 1"):
        class_prototypes(X, y, per_class=0)


def test_prototype_votes_blend_with_the_svm_and_survive_save_load(banking_wide_slice, tmp_path):
    from ml.ensemble import pool
    from ml.linear import PROTOTYPES_FILE, static_step
    from ml.stacking import neighbour_proba, scores_to_logits, softmax

    train_x, train_y, test_x, test_y = banking_wide_slice  # 20 intents: the votes get a weight
    model = ml.build("intent", "linear", neighbour_temperature=0.05, random_state=0).fit(train_x, train_y)
    assert model.blend_ is not None and model.blend_["weights"][1] > 0
    assert len(model.prototypes_) == 20 * 40 and set(model.prototype_labels_) == set(range(20))
    proba = model.predict_proba(test_x)
    assert np.mean(model.classes_[proba.argmax(1)] == np.asarray(test_y)) > 0.85

    # what predict_proba returns is the geometric pool of the SVM's softmax and the prototypes' votes
    head = model.pipeline_.named_steps["clf"]
    svm = np.zeros_like(proba)
    svm[:, head.classes_] = softmax(scores_to_logits(model.pipeline_.decision_function(test_x)) / model.temperature_)
    S = static_step(model.pipeline_.named_steps["tfidf"]).unit_features(test_x)
    votes = neighbour_proba(model.prototypes_, model.prototype_labels_, S, 20, 10, 0.05)
    blend = model.blend_
    assert blend["pool"] == "geometric" and min(blend["weights"]) > 0
    (w_svm, w_votes) = blend["weights"]
    expected = softmax(w_svm * np.log(svm) + w_votes * np.log(votes))
    np.testing.assert_allclose(proba, expected, rtol=1e-5, atol=1e-7)
    assert not np.allclose(proba, svm, atol=1e-3)
    np.testing.assert_allclose(model.predict_proba(test_x[:1]), proba[:1], rtol=1e-5, atol=1e-7)  # one-text path

    model.save(tmp_path / "m")
    assert (tmp_path / "m" / PROTOTYPES_FILE).is_file()
    loaded = ml.load(tmp_path / "m")
    np.testing.assert_array_equal(loaded.predict_proba(test_x), proba)

    # the calibrated average instead, as every model saved before the geometric pool blends
    averaged = ml.build("intent", "linear", neighbour_temperature=0.05, neighbour_pool="arithmetic",
                        random_state=0).fit(train_x, train_y)
    how = averaged.blend_
    assert "pool" not in how
    np.testing.assert_allclose(averaged.predict_proba(test_x),
                               pool([svm, votes], how["weights"], how["temperatures"], how["temperature"]),
                               rtol=1e-5, atol=1e-7)
    averaged.save(tmp_path / "averaged")
    assert ml.load(tmp_path / "averaged").neighbour_pool == "arithmetic"

    alone = ml.build("intent", "linear", neighbours=0, random_state=0).fit(train_x, train_y)
    assert alone.blend_ is None and alone.prototypes_ is None
    alone.save(tmp_path / "alone")
    assert not (tmp_path / "alone" / PROTOTYPES_FILE).exists()
    np.testing.assert_allclose(alone.predict_proba(test_x), svm, rtol=1e-6, atol=1e-9)
