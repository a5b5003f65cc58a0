"""Transformer backend specifics: early stopping, WordPiece from scratch, int8 loading."""

import numpy as np

import ml
from tests.ml.test_contract import BACKENDS


def test_early_stopping_quantized_load(banking_slice, tmp_path):
    train_x, train_y, test_x, _ = banking_slice
    params = dict(BACKENDS["transformer"][0], epochs=4, eval_steps=5, patience=100)
    model = ml.build("intent", "transformer", random_state=0, **params).fit(train_x, train_y)
    assert [h["step"] for h in model.history_][:2] == [5, 10]
    assert model.best_val_accuracy_ == max(h["val_accuracy"] for h in model.history_)
    path = model.save(tmp_path / "model")
    assert (path / "model" / "model.safetensors").is_file()
    assert not list(path.rglob("*.bin"))
    quantized = ml.load(path, quantize=True)
    assert quantized.quantized_
    agree = np.mean(quantized.predict(test_x) == model.predict(test_x))
    assert agree > 0.8


def test_max_steps_bounds_training(banking_slice):
    train_x, train_y, _, _ = banking_slice
    params = dict(BACKENDS["transformer"][0], max_steps=3)
    model = ml.build("intent", "transformer", random_state=0, **params).fit(train_x, train_y)
    assert model.steps_ == 3
