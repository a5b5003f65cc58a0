"""Ensemble stacking: member weights come from out-of-fold predictions of the training data."""

import numpy as np
import pytest

import ml
from ml.ensemble import fit_weights, simplex_grid, temper
from ml.linear import LinearClassifier
from tests.ml.test_contract import BACKENDS


def test_simplex_grid_covers_the_simplex():
    grid = simplex_grid(3, 0.25)
    assert len(grid) == 15
    np.testing.assert_allclose(grid.sum(axis=1), 1.0)
    assert simplex_grid(2, 0.05).shape == (21, 2)


def test_fit_weights_prefers_the_informative_member():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, 400)
    good = np.full((400, 4), 0.1)
    good[np.arange(400), y] = 0.7
    noise = rng.dirichlet(np.ones(4), 400)
    weights, temperature, member_t, loss = fit_weights([noise, good], y)
    assert weights[1] >= 0.8
    assert 0.1 <= temperature <= 5.0 and len(member_t) == 2
    np.testing.assert_allclose(temper(good, 1.0), good)
    np.testing.assert_allclose(temper(good, 2.0).sum(axis=1), 1.0)


def test_an_underconfident_good_member_keeps_its_weight():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 10, 600)
    flat = np.full((600, 10), 0.09)
    right = rng.random(600) < 0.9
    flat[np.arange(600), np.where(right, y, (y + 1) % 10)] = 0.19  # 90 % right, barely confident
    flat /= flat.sum(axis=1, keepdims=True)
    sharp = np.full((600, 10), 0.01)
    right = rng.random(600) < 0.8
    sharp[np.arange(600), np.where(right, y, (y + 2) % 10)] = 0.91  # 80 % right, confident
    weights, _, member_t, _ = fit_weights([flat, sharp], y)
    assert member_t[0] < 1.0  # the under-confident member is sharpened
    assert weights[0] >= 0.3


def test_the_geometric_pool_lets_the_votes_veto_a_class():
    from ml.stacking import blend, fit_blend, geometric_pool

    rng = np.random.default_rng(2)
    y = rng.integers(0, 5, 800)
    model = np.full((800, 5), 0.1)
    right = rng.random(800) < 0.7
    model[np.arange(800), np.where(right, y, (y + 1) % 5)] = 0.6  # 70 % right ...
    model[np.flatnonzero(~right), y[~right]] = 0.2  # ... and second when wrong
    model /= model.sum(axis=1, keepdims=True)
    votes = np.full((800, 5), 1e-4)
    votes[np.arange(800), y] = 0.5  # the votes always include the true class ...
    votes[np.arange(800), (y + 3) % 5] = 0.5  # ... and one that is never the model's mistake
    votes /= votes.sum(axis=1, keepdims=True)
    how = fit_blend(model, votes, y, pooling="geometric")
    assert how["pool"] == "geometric" and how["weights"][1] > 0.1
    pooled = blend(model, votes, how)
    np.testing.assert_allclose(pooled, geometric_pool([model, votes], how["weights"]))
    np.testing.assert_allclose(pooled.sum(axis=1), 1.0)
    assert np.mean(model.argmax(1) == y) < 0.75
    assert np.mean(pooled.argmax(1) == y) == 1.0  # the votes veto the model's mistakes, the model breaks their ties

    uniform = np.full((800, 5), 0.2)  # votes that tell nothing get no weight
    assert fit_blend(model, uniform, y, pooling="geometric") is None
    with pytest.raises(ValueError, match="unknown pooling"):
        fit_blend(model, votes, y, pooling="median")


def test_oof_rows_come_from_models_that_never_saw_them(banking_slice, monkeypatch):
    train_x, train_y, _, _ = banking_slice
    seen = []
    original = LinearClassifier._fit

    def spy(self, texts, y):
        seen.append(set(texts))
        return original(self, texts, y)

    monkeypatch.setattr(LinearClassifier, "_fit", spy)
    oof = ml.build("intent", "linear", random_state=0).fit_oof(train_x, train_y, cv=4)
    assert seen[0] == set(train_x) and len(seen) == 5
    held_out = [set(train_x) - fold for fold in seen[1:]]
    assert set().union(*held_out) == set(train_x)
    assert not np.isnan(oof).any()
    np.testing.assert_allclose(oof.sum(axis=1), 1.0, atol=1e-6)
    assert 0.6 < np.mean(oof.argmax(1) == np.searchsorted(sorted(set(train_y)), train_y)) < 1.0


def test_weights_are_fit_on_training_data_only(banking_slice, monkeypatch):
    train_x, train_y, test_x, _ = banking_slice
    calls = []
    original = ml.base.TextClassifier.fit_oof

    def spy(self, texts, y, cv=5, random_state=0):
        calls.append(list(texts))
        return original(self, texts, y, cv=cv, random_state=random_state)

    monkeypatch.setattr(ml.base.TextClassifier, "fit_oof", spy)
    params = {"backends": ["linear", "linear"], "member_params": [{}, {"C": 0.01, "static_vectors": None}], "cv": 3}
    model = ml.build("intent", "ensemble", random_state=0, **params).fit(train_x, train_y)
    assert calls == [train_x, train_x]
    assert model.oof_["n"] == len(train_x)
    assert model.weights_[0] > model.weights_[1]  # the over-regularised, TF-IDF-only member gets less weight
    np.testing.assert_allclose(model.weights_.sum(), 1.0)
    again = ml.build("intent", "ensemble", random_state=0, **params).fit(train_x, train_y)
    np.testing.assert_allclose(again.predict_proba(test_x), model.predict_proba(test_x))


def test_fixed_and_equal_weights_skip_cross_validation(banking_slice):
    train_x, train_y, test_x, _ = banking_slice
    model = ml.build("intent", "ensemble", backends=["linear", "linear"], weights=[3, 1], random_state=0)
    model.fit(train_x, train_y)
    np.testing.assert_allclose(model.weights_, [0.75, 0.25])
    assert model.temperature_ == 1.0 and model.oof_ == {}
    with pytest.raises(ValueError):
        ml.build("intent", "ensemble", backends=["linear"], weights="best").fit(train_x, train_y)


def test_transformer_member_uses_its_held_out_split(banking_slice):
    train_x, train_y, _, _ = banking_slice
    tiny = dict(BACKENDS["transformer"][0], max_steps=4)
    model = ml.build("intent", "ensemble", backends=["linear", "transformer"],
                     member_params={"transformer": tiny}, cv=3, random_state=0).fit(train_x, train_y)
    assert model.oof_["n"] == round(0.1 * len(train_x))


def test_chinese_auto_ensemble_needs_no_english_checkpoint(waimai_slice, monkeypatch, tmp_path):
    import ml.encoder

    def forbidden():
        raise AssertionError("a Chinese model must not use the English checkpoint")

    monkeypatch.setattr(ml.encoder, "default_checkpoint", forbidden)
    train_x, train_y, test_x, test_y = waimai_slice
    tiny = dict(BACKENDS["transformer"][0], checkpoint=None, max_steps=6, pretrain_steps=3)
    model = ml.build("sentiment", "ensemble", cv=3, member_params={"transformer": tiny}, random_state=0)
    model.fit(train_x, train_y)
    assert [m.backend for m in model.members_] == ["linear", "transformer"]
    assert model.members_[0]._tokenizer() == "jieba"
    assert model.members_[1].source_ == {"checkpoint": "scratch"}
    assert model.members_[1].pretrain_["steps"] == 3  # self-pretrained before fine-tuning
    assert np.mean(model.predict(test_x) == np.asarray(test_y)) >= 0.75
    loaded = ml.load(model.save(tmp_path / "model"))
    np.testing.assert_allclose(loaded.predict_proba(test_x), model.predict_proba(test_x), atol=1e-6)
    assert loaded.members_[1].pretrain_ == model.members_[1].pretrain_


def test_embedding_head_C_is_chosen_by_cross_validation(banking_slice, tmp_path):
    from ml.embedding import C_GRID

    train_x, train_y, test_x, _ = banking_slice
    model = ml.build("intent", "embedding", random_state=0).fit(train_x[:100], train_y[:100])
    assert model.C == "cv" and model.C_ in C_GRID
    oof_model = ml.build("intent", "embedding", C=30.0, random_state=0)
    oof = oof_model.fit_oof(train_x[:100], train_y[:100], cv=3)
    assert oof_model.C_ == 30.0 and not np.isnan(oof).any()
    assert ml.load(model.save(tmp_path / "model")).C_ == model.C_


CASCADE_PARAMS = {"backends": ["linear", "linear"], "member_params": [{}, {"C": 0.01, "static_vectors": None}],
                  "cv": 3}


def test_cascade_asks_the_other_members_only_about_unsure_texts(banking_slice):
    train_x, train_y, test_x, _ = banking_slice
    model = ml.build("intent", "ensemble", cascade=0.6, random_state=0, **CASCADE_PARAMS).fit(train_x, train_y)
    asked = []
    second = model.members_[1]
    original = second.predict_proba
    second.predict_proba = lambda texts: asked.extend(texts) or original(texts)
    first = temper(model.members_[0].predict_proba(test_x), model.member_temperatures_[0])
    sure = first.max(axis=1) >= 0.6
    assert 0 < sure.sum() < len(test_x)  # the slice exercises both paths
    everyone = model._mix(test_x)
    asked.clear()
    proba = model.predict_proba(test_x)
    assert asked == [t for t, s in zip(test_x, sure) if not s]
    np.testing.assert_allclose(proba, np.where(sure[:, None], first, everyone))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_cascade_threshold_is_chosen_on_out_of_fold_rows_and_saved(banking_slice, tmp_path):
    train_x, train_y, test_x, _ = banking_slice
    model = ml.build("intent", "ensemble", random_state=0, **CASCADE_PARAMS).fit(train_x, train_y)
    chosen = model.oof_["cascade"]
    assert model.cascade_threshold_ == chosen["threshold"] and 0 < chosen["early_share"] <= 1
    assert chosen["accuracy"] >= model.oof_["accuracy"] - model.cascade_tolerance
    loaded = ml.load(model.save(tmp_path / "model"))
    assert loaded.cascade_threshold_ == model.cascade_threshold_
    np.testing.assert_allclose(loaded.predict_proba(test_x), model.predict_proba(test_x))
    # asking more accuracy than the whole ensemble has leaves every text to every member
    strict = ml.build("intent", "ensemble", cascade_tolerance=-1.0, random_state=0, **CASCADE_PARAMS)
    strict.fit(train_x, train_y)
    assert strict.cascade_threshold_ is None and "cascade" not in strict.oof_
    np.testing.assert_allclose(strict.predict_proba(test_x), strict._mix(test_x))
    off = ml.build("intent", "ensemble", cascade=None, random_state=0, **CASCADE_PARAMS).fit(train_x, train_y)
    assert off.cascade_threshold_ is None
    for bad in ("fast", 0, 1.5):
        with pytest.raises(ValueError, match="cascade"):
            ml.build("intent", "ensemble", cascade=bad, **CASCADE_PARAMS).fit(train_x, train_y)
