"""One contract test over every backend (scikit-learn estimator habits + save/load)."""

import json

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

import ml
from ml.artifacts import data_fingerprint

TINY_BERT = {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 128}
# backend -> (build params, minimum held-out accuracy on 5 intents; chance is 0.20)
BACKENDS = {
    "linear": ({}, 0.8),
    "embedding": ({}, 0.8),
    "transformer": ({"checkpoint": "scratch", "scratch_config": TINY_BERT, "vocab_size": 1000, "epochs": 12,
                     "learning_rate": 1e-3, "batch_size": 16, "max_length": 32, "patience": 4,
                     "pretrain_steps": 0}, 0.6),
    "ensemble": ({}, 0.8),
}


def test_every_classification_backend_is_covered():
    assert set(BACKENDS) == set(ml.CLASSIFICATION_BACKENDS)
    assert set(ml.BACKENDS) == set(BACKENDS) | {"quality"}


@pytest.fixture(scope="module", params=sorted(BACKENDS))
def fitted(request, banking_slice):
    backend = request.param
    params, minimum = BACKENDS[backend]
    train_x, train_y, test_x, test_y = banking_slice
    model = ml.build("intent", backend, random_state=0, **params)
    returned = model.fit(train_x, train_y)
    return backend, model, returned, minimum


def test_fit_returns_self_and_learns(fitted, banking_slice):
    backend, model, returned, minimum = fitted
    _, train_y, test_x, test_y = banking_slice
    assert returned is model
    assert list(model.classes_) == sorted(set(train_y))
    proba = model.predict_proba(test_x)
    assert proba.shape == (len(test_x), 5)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    predicted = model.predict(test_x)
    np.testing.assert_array_equal(predicted, model.classes_[proba.argmax(axis=1)])
    accuracy = float(np.mean(predicted == np.asarray(test_y)))
    assert accuracy >= minimum, f"{backend} accuracy {accuracy:.2f} is not well above chance (0.20)"


@pytest.mark.parametrize("backend", sorted(BACKENDS))
def test_unfitted_model_raises_not_fitted(backend):
    model = ml.build("intent", backend)
    with pytest.raises(NotFittedError):
        model.predict(["where is my card"])
    with pytest.raises(NotFittedError):
        model.predict_proba(["where is my card"])
    with pytest.raises(NotFittedError):
        model.save("unused")


@pytest.mark.parametrize("backend", sorted(BACKENDS))
def test_init_only_stores_hyperparameters(backend):
    params, _ = BACKENDS[backend]
    model = ml.build("intent", backend, random_state=7, **params)
    assert model.get_params()["random_state"] == 7
    assert clone(model).get_params() == model.get_params()
    assert not [name for name in vars(model) if name.endswith("_")]


def test_save_load_keeps_predict_proba(fitted, banking_slice, tmp_path):
    backend, model, _, _ = fitted
    train_x, train_y, test_x, _ = banking_slice
    model.metrics_ = {"accuracy": 0.5}
    path = model.save(tmp_path / "model")
    loaded = ml.load(path)
    assert type(loaded) is type(model)
    np.testing.assert_array_equal(loaded.classes_, model.classes_)
    np.testing.assert_allclose(loaded.predict_proba(test_x), model.predict_proba(test_x), rtol=0, atol=1e-6)
    assert type(model).load(path).backend == backend

    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["task"] == "intent"
    assert manifest["backend"] == backend
    assert manifest["classes"] == list(model.classes_)
    assert manifest["metrics"] == {"accuracy": 0.5}
    assert manifest["params"]["random_state"] == 0
    assert manifest["training_data"] == {"sha256": data_fingerprint(train_x, train_y), "n": len(train_x)}
    assert manifest["library_versions"]["scikit-learn"]
    assert manifest["created_at"]
    on_disk = {p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file()} - {"manifest.json"}
    assert set(manifest["files"]) == on_disk
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "temporary directory left behind"


def test_chinese_linear_and_scratch_transformer_need_no_english_checkpoint(waimai_slice, monkeypatch):
    import ml.encoder

    def forbidden():
        raise AssertionError("a Chinese model must not use the English checkpoint")

    monkeypatch.setattr(ml.encoder, "default_checkpoint", forbidden)
    train_x, train_y, test_x, test_y = waimai_slice
    linear = ml.build("sentiment", "linear", random_state=0).fit(train_x, train_y)
    assert linear.language_ == "zh"
    assert np.mean(linear.predict(test_x) == np.asarray(test_y)) >= 0.75
    params = dict(BACKENDS["transformer"][0], checkpoint=None, max_steps=2, max_length=32)
    transformer = ml.build("sentiment", "transformer", random_state=0, **params).fit(train_x[:100], train_y[:100])
    assert transformer.source_ == {"checkpoint": "scratch"}


def test_build_rejects_unknown_task_and_backend():
    with pytest.raises(ValueError, match="unknown task"):
        ml.build("topic", "linear")
    with pytest.raises(ValueError, match="unknown backend|supports backends"):
        ml.build("intent", "svm")
    with pytest.raises(ValueError):
        ml.build("intent", "quality")
    assert ml.build("quality", "linear").backend == "quality"
    assert set(ml.TASKS) == {"intent", "sentiment", "quality"}


def test_seed_makes_runs_repeatable(banking_slice):
    train_x, train_y, test_x, _ = banking_slice
    params = dict(BACKENDS["transformer"][0], max_steps=4, learning_rate=1e-2)
    a = ml.build("intent", "transformer", random_state=3, **params).fit(train_x[:60], train_y[:60])
    b = ml.build("intent", "transformer", random_state=3, **params).fit(train_x[:60], train_y[:60])
    c = ml.build("intent", "transformer", random_state=4, **params).fit(train_x[:60], train_y[:60])
    np.testing.assert_allclose(a.predict_proba(test_x[:20]), b.predict_proba(test_x[:20]), atol=1e-6)
    assert not np.allclose(a.predict_proba(test_x[:20]), c.predict_proba(test_x[:20]), atol=1e-6)


def test_set_seed_seeds_random_numpy_and_torch():
    import random

    import torch

    from ml.seed import set_seed

    set_seed(5)
    first = (random.random(), np.random.rand(), torch.rand(1).item())
    set_seed(5)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == first
