"""Quality regression: what it learns from, what it must never learn from, and no label leakage."""

import datetime
import random

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import KFold, cross_val_predict

import ml
from ml.evaluate import regression_report
from ml.features import conversation_features
from ml.quality import OutOfFoldText

GOOD = ["thanks, solved quickly", "great help, card works now", "perfect, thank you"]
BAD = ["still broken, nobody answers", "terrible, waited for hours", "useless, cancel my account"]


def make_conversations(n, seed=0):
    """Generated conversations whose quality depends on text, response time and (deliberately) the agent."""
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
        row["customer_id"] = f"c{rng.randrange(20)}"
        score = 3 + (1.2 if good else -1.2) - min(wait, 1800) / 1800 + agent_skill[agent] + rng.gauss(0, 0.2)
        texts.append(text)
        features.append(row)
        y.append(float(np.clip(score, 1, 5)))
    return texts, features, np.array(y)


@pytest.fixture(scope="module")
def conversations():
    return make_conversations(400)


@pytest.fixture(scope="module")
def fitted(conversations):
    texts, features, y = conversations
    return ml.build("quality", "quality", random_state=0).fit(texts[:300], y[:300], features[:300])


def test_quality_learns_from_text_and_features_and_clips(fitted, conversations, tmp_path):
    texts, features, y = conversations
    predicted = fitted.predict(texts[300:], features[300:])
    assert predicted.min() >= 1.0 and predicted.max() <= 5.0
    report = regression_report(y[300:], predicted)
    assert report["spearman"] > 0.7
    names = fitted.feature_names_
    assert "channel__channel_chat" in names and "text__text_score" in names
    np.testing.assert_allclose(fitted.predict(texts[300:], pd.DataFrame(features[300:])), predicted)
    loaded = ml.load(fitted.save(tmp_path / "quality"))
    np.testing.assert_allclose(loaded.predict(texts[300:], features[300:]), predicted)


def test_identity_of_agent_or_customer_is_never_an_input(fitted, conversations):
    """The same conversation gets the same score whoever handled it, even though agents differ in the data."""
    texts, features, y = conversations
    assert not any("agent_id" in name or "customer_id" in name for name in fitted.feature_names_)
    new_texts, new_features = texts[300:], features[300:]
    base = fitted.predict(new_texts, new_features)
    for agent in ("a0", "a4", "never-seen"):
        swapped = [dict(row, agent_id=agent, customer_id="someone-else") for row in new_features]
        np.testing.assert_array_equal(fitted.predict(new_texts, swapped), base)
    # training on scrambled identities gives the very same model
    shuffled = [dict(row, agent_id=f"x{i}", customer_id=f"y{i}") for i, row in enumerate(features[:300])]
    other = ml.build("quality", "quality", random_state=0).fit(texts[:300], y[:300], shuffled)
    np.testing.assert_array_equal(other.predict(new_texts, new_features), base)


def test_text_feature_of_training_rows_is_out_of_fold():
    """Leakage: the stacked text feature of a training row comes from a model that never saw that row."""
    rng = np.random.default_rng(0)
    texts = [f"ticket {i} word{i % 7} other{i % 3}" for i in range(60)]
    y = rng.normal(3, 1, size=60)
    step = OutOfFoldText(random_state=0)
    oof = step.fit_transform(np.array(texts, dtype=object).reshape(-1, 1), y).ravel()
    expected = cross_val_predict(step._model(), texts, y, cv=KFold(5, shuffle=True, random_state=0))
    np.testing.assert_allclose(oof, expected)
    in_sample = step.transform(np.array(texts, dtype=object).reshape(-1, 1)).ravel()
    # an in-sample fit memorises the unique texts; the out-of-fold values cannot
    assert np.abs(in_sample - y).mean() < 0.5 * np.abs(oof - y).mean()


def test_quality_unfitted_and_extreme_inputs():
    model = ml.build("quality", "quality")
    with pytest.raises(NotFittedError):
        model.predict(["x"], [{}])
    texts, features, y = make_conversations(120)
    model.fit(texts, y * 0 + 9.0, features)  # targets above the scale
    assert model.predict(texts[:5], features[:5]).max() == 5.0


def test_quality_without_features_uses_text():
    texts, _, y = make_conversations(200, seed=2)
    model = ml.build("quality", "quality", random_state=0).fit(texts[:150], y[:150])
    without = model.predict(texts[150:])
    np.testing.assert_allclose(without, model.predict(texts[150:], [{} for _ in texts[150:]]))
    assert regression_report(y[150:], without)["spearman"] > 0.5
