"""Quality regression and the no-leakage rule for aggregate features."""

import datetime
import random

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

import ml
from ml.features import conversation_features
from ml.quality import out_of_fold_encode, target_encode

GOOD = ["thanks, solved quickly", "great help, card works now", "perfect, thank you"]
BAD = ["still broken, nobody answers", "terrible, waited for hours", "useless, cancel my account"]


def make_conversations(n, seed=0):
    """Generated conversations whose quality depends on text, response time and agent."""
    rng = random.Random(seed)
    start = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
    agent_skill = {"a0": 1.0, "a1": 0.5, "a2": 0.0, "a3": -0.5, "a4": -1.0}
    texts, features, y = [], [], []
    for _ in range(n):
        good = rng.random() < 0.5
        text = rng.choice(GOOD if good else BAD)
        wait = rng.expovariate(1 / 600)
        agent = rng.choice(sorted(agent_skill))
        messages = [
            {"speaker": "customer", "text": "hello, my card?", "sent_at": start},
            {"speaker": "agent", "text": "let me check", "sent_at": start + datetime.timedelta(seconds=wait)},
            {"speaker": "customer", "text": text, "sent_at": start + datetime.timedelta(seconds=wait + 60)},
        ]
        row = conversation_features(messages, channel=rng.choice(["chat", "email"]), resolved=good)
        row["agent_id"] = agent
        score = 3 + (1.2 if good else -1.2) - min(wait, 1800) / 1800 + agent_skill[agent] + rng.gauss(0, 0.2)
        texts.append(text)
        features.append(row)
        y.append(float(np.clip(score, 1, 5)))
    return texts, features, np.array(y)


def test_quality_learns_and_clips(tmp_path):
    texts, features, y = make_conversations(400)
    model = ml.build("quality", "quality", random_state=0)
    assert model.fit(texts[:300], y[:300], features[:300]) is model
    predicted = model.predict(texts[300:], features[300:])
    assert predicted.min() >= 1.0 and predicted.max() <= 5.0
    report = ml.evaluate.regression_report(y[300:], predicted)
    assert report["spearman"] > 0.8
    assert report["mae"] < 0.5
    assert "channel=chat" in model.feature_names_ and "agent_id_mean" in model.feature_names_

    frame = pd.DataFrame(features[300:])  # a DataFrame works as well as a list of dicts
    np.testing.assert_allclose(model.predict(texts[300:], frame), predicted)
    loaded = ml.load(model.save(tmp_path / "quality"))
    np.testing.assert_allclose(loaded.predict(texts[300:], features[300:]), predicted)
    assert ml.build("quality", "linear").backend == "quality"


def test_quality_unfitted_and_extreme_inputs():
    model = ml.build("quality", "quality")
    with pytest.raises(NotFittedError):
        model.predict(["x"], [{}])
    texts, features, y = make_conversations(120)
    model.fit(texts, y * 0 + 9.0, features)  # targets above the scale
    assert model.predict(texts[:5], features[:5]).max() == 5.0


def test_target_encoding_uses_the_training_fold_only():
    texts, features, y = make_conversations(300, seed=1)
    train, test = slice(0, 200), slice(200, 300)
    # the test fold's labels of agent a0 are made extreme: they must not move the encoding
    y_test_changed = y.copy()
    y_test_changed[test] = np.where([f["agent_id"] == "a0" for f in features[test]], 1.0, 5.0)
    for labels in (y, y_test_changed):
        model = ml.build("quality", "quality", random_state=0, smoothing=10.0).fit(
            texts[train], labels[train], features[train])
        train_agents = [f["agent_id"] for f in features[train]]
        expected = target_encode(train_agents, labels[train], 10.0, float(labels[train].mean()))
        assert model.group_encodings_["agent_id"] == pytest.approx(expected)
        assert model.global_mean_ == pytest.approx(labels[train].mean())
        a0 = [v for a, v in zip(train_agents, labels[train]) if a == "a0"]
        manual = (sum(a0) + 10.0 * labels[train].mean()) / (len(a0) + 10.0)
        encoded = model.group_features([{"agent_id": "a0"}, {"agent_id": "new-agent"}])["agent_id"]
        assert encoded == pytest.approx([manual, labels[train].mean()])
    # a model trained on all rows (the original system's leak) would differ
    leaky = target_encode([f["agent_id"] for f in features], y_test_changed, 10.0, float(y_test_changed.mean()))
    assert leaky["a0"] != pytest.approx(model.group_encodings_["agent_id"]["a0"])


def test_training_rows_never_see_their_own_label():
    keys = ["a", "b", "c", "d"]
    y = np.array([1.0, 2.0, 3.0, 4.0])
    folds = [(np.array([1, 2, 3]), np.array([0])), (np.array([0, 2, 3]), np.array([1])),
             (np.array([0, 1, 3]), np.array([2])), (np.array([0, 1, 2]), np.array([3]))]
    # every key is unique, so each row can only get the mean of the other rows
    np.testing.assert_allclose(out_of_fold_encode(keys, y, folds, smoothing=1.0), [3.0, 8 / 3, 7 / 3, 2.0])


def test_quality_without_features_uses_text():
    texts, _, y = make_conversations(200, seed=2)
    model = ml.build("quality", "quality", random_state=0).fit(texts[:150], y[:150])
    report = ml.evaluate.regression_report(y[150:], model.predict(texts[150:]))
    assert report["spearman"] > 0.5


def test_quality_without_features_matches_empty_feature_rows():
    """The no-DataFrame path (no features at all) equals rows whose features are all missing."""
    texts, features, y = make_conversations(200, seed=3)
    model = ml.build("quality", "quality", random_state=0).fit(texts[:150], y[:150], features[:150])
    new = texts[150:]
    without = model.predict(new)
    np.testing.assert_allclose(without, model.predict(new, [{} for _ in new]))
    assert without.std() > 0  # the text still moves the score


def test_text_only_curve_equals_the_trees_at_and_between_every_threshold():
    """The tabulated no-feature prediction is exact: on each split threshold, beside it, and far out."""
    texts, features, y = make_conversations(300, seed=4)
    model = ml.build("quality", "quality", random_state=0).fit(texts, y, features)
    thresholds, _ = model._text_only_curve()
    assert len(thresholds) > 10  # the trees split on the text score
    eps = np.abs(thresholds) * 1e-9 + 1e-12
    points = np.concatenate([thresholds, thresholds - eps, thresholds + eps, [-100.0, 100.0],
                             np.random.default_rng(0).uniform(thresholds[0] - 1, thresholds[-1] + 1, 500)])
    groups = {key: np.full(len(points), model.global_mean_) for key in model.group_keys_}
    trees = np.clip(model.gbm_.predict(model._matrix(None, points, groups, len(points))), 1, 5)
    model._text_scores = lambda texts: points  # the text model's output, fixed to the probe points
    np.testing.assert_array_equal(model.predict(["x"] * len(points)), trees)
    del model._text_scores

    curve = model._text_only_curve()[0]
    model.fit(texts[:200], y[:200], features[:200])  # a refit tabulates the new trees
    assert model._text_only_curve()[0] is not curve
