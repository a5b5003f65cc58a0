"""One contract test over every backend: scikit-learn estimator habits and safe save/load."""

import inspect
import json
import shutil

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

import ml
from ml.artifacts import ArtifactError, data_fingerprint
from tests.ml.test_quality import make_conversations

# backend -> (build params, minimum held-out accuracy on 5 intents; chance is 0.20)
BACKENDS = {
    "linear": ({}, 0.8),
    "embedding": ({}, 0.8),
    # a tiny BERT checkpoint (``tiny_checkpoint``) fine-tuned briefly: the contract, not the accuracy
    "transformer": ({"epochs": 8, "learning_rate": 1e-3, "batch_size": 16, "max_length": 32}, 0.35),
    "ensemble": ({}, 0.8),
}
MAX_CONSTRUCTOR_PARAMS = 8


def test_every_backend_is_covered():
    assert set(BACKENDS) == set(ml.CLASSIFICATION_BACKENDS)
    assert set(ml.BACKENDS) == set(BACKENDS) | {"quality"}


@pytest.mark.parametrize("backend", ml.BACKENDS)
def test_constructor_only_stores_a_few_hyperparameters(backend):
    cls = ml.backend_class(backend)
    assert len(inspect.signature(cls.__init__).parameters) - 1 <= MAX_CONSTRUCTOR_PARAMS
    model = ml.build("quality" if backend == "quality" else "intent", backend, random_state=7)
    assert model.get_params()["random_state"] == 7
    assert clone(model).get_params() == model.get_params()
    assert not [name for name in vars(model) if name.endswith("_")]


def _params(backend, tiny_checkpoint):
    params, _ = BACKENDS[backend]
    if backend == "transformer":
        return {**params, "checkpoint": str(tiny_checkpoint)}
    if backend == "ensemble":
        return {"members": ["linear", "transformer"],
                "member_params": {"transformer": _params("transformer", tiny_checkpoint)}}
    return params


@pytest.fixture(scope="module", params=ml.BACKENDS)
def fitted(request, banking_slice, tiny_checkpoint):
    """(backend, model, what fit returned, texts to predict, their labels, predict kwargs, reference output)."""
    backend = request.param
    if backend == "quality":
        texts, features, y = make_conversations(200)
        model = ml.build("quality", "quality", random_state=0)
        returned = model.fit(texts[:150], y[:150], features[:150])
        texts, y, kwargs = texts[150:], y[150:], {"features": features[150:]}
    else:
        train_x, train_y, texts, y = banking_slice
        model = ml.build("intent", backend, random_state=0, **_params(backend, tiny_checkpoint))
        returned, kwargs = model.fit(train_x, train_y), {}
    return backend, model, returned, texts, y, kwargs, _output(model, texts[:SHORT], _short(kwargs))


SHORT = 20


def _short(kwargs):
    return {key: value[:SHORT] for key, value in kwargs.items()}


def _output(model, texts, kwargs):
    return model.predict(texts, **kwargs) if model.task == "quality" else model.predict_proba(texts)


def test_fit_returns_self_and_learns(fitted, banking_slice):
    backend, model, returned, texts, labels, kwargs, _ = fitted
    assert returned is model
    if backend == "quality":
        assert np.corrcoef(model.predict(texts, **kwargs), labels)[0, 1] > 0.7
        return
    assert list(model.classes_) == sorted(set(banking_slice[1]))
    proba = model.predict_proba(texts)
    assert proba.shape == (len(texts), 5)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    predicted = model.predict(texts)
    np.testing.assert_array_equal(predicted, model.classes_[proba.argmax(axis=1)])
    accuracy = float(np.mean(predicted == np.asarray(labels)))
    assert accuracy >= BACKENDS[backend][1], f"{backend} accuracy {accuracy:.2f} is not well above chance (0.20)"


def test_predict_changes_nothing_on_the_model(fitted):
    _, model, _, texts, _, kwargs, _ = fitted
    before = {name: value for name, value in vars(model).items()}
    _output(model, texts[:7], {key: value[:7] for key, value in kwargs.items()})
    assert set(vars(model)) == set(before)
    assert all(vars(model)[name] is value for name, value in before.items())


@pytest.mark.parametrize("backend", ml.BACKENDS)
def test_unfitted_model_raises_not_fitted(backend, tmp_path):
    model = ml.build("quality" if backend == "quality" else "intent", backend)
    with pytest.raises(NotFittedError):
        model.predict(["where is my card"])
    if backend != "quality":
        with pytest.raises(NotFittedError):
            model.predict_proba(["where is my card"])
    with pytest.raises(NotFittedError):
        model.save(tmp_path / "unused")


def test_save_load_keeps_predictions_and_refuses_tampered_or_other_format(fitted, tmp_path):
    backend, model, _, texts, _, kwargs, reference = fitted
    model.metrics_ = {"accuracy": 0.5}
    path = model.save(tmp_path / "a" / "model")
    moved = shutil.copytree(path, tmp_path / "b" / "model")  # an artifact is self-contained
    shutil.rmtree(tmp_path / "a")
    loaded = ml.load(moved)
    assert type(loaded) is type(model) and type(model).load(moved).backend == backend
    np.testing.assert_allclose(_output(loaded, texts[:SHORT], _short(kwargs)), reference, rtol=0, atol=1e-6)
    manifest = json.loads((moved / "manifest.json").read_text())
    assert manifest["format_version"] == ml.FORMAT_VERSION
    assert (manifest["task"], manifest["backend"]) == (model.task, backend)
    assert manifest["metrics"] == {"accuracy": 0.5}
    assert manifest["params"]["random_state"] == 0
    assert manifest["training_data"]["sha256"] == model.fingerprint_ and manifest["training_data"]["n"] == model.n_train_
    on_disk = {p.relative_to(moved).as_posix() for p in moved.rglob("*") if p.is_file()} - {"manifest.json"}
    assert set(manifest["files"]) == on_disk
    assert not [p for p in (tmp_path / "b").iterdir() if p.name.startswith(".")], "temporary directory left behind"

    other = dict(manifest, format_version=ml.FORMAT_VERSION - 1)
    (moved / "manifest.json").write_text(json.dumps(other))
    with pytest.raises(ArtifactError, match="retrain"):
        ml.load(moved)
    (moved / "manifest.json").write_text(json.dumps(manifest))
    victim = max((p for p in moved.rglob("*") if p.is_file() and p.name != "manifest.json"),
                 key=lambda p: p.stat().st_size)
    with open(victim, "ab") as handle:
        handle.write(b"\0")
    with pytest.raises(ArtifactError, match="sha256 mismatch"):
        ml.load(moved)


def test_fingerprint_covers_texts_and_labels(banking_slice):
    train_x, train_y, _, _ = banking_slice
    assert data_fingerprint(train_x, train_y) != data_fingerprint(train_x, train_y[::-1])


def test_build_rejects_unknown_task_and_backend():
    with pytest.raises(ValueError, match="unknown task"):
        ml.build("topic", "linear")
    with pytest.raises(ValueError, match="supports backends"):
        ml.build("intent", "svm")
    with pytest.raises(ValueError, match="supports backend 'quality'"):
        ml.build("quality", "linear")
    with pytest.raises(ValueError, match="supports backends"):
        ml.build("intent", "quality")
