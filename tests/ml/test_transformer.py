"""``transformer``: fine-tuning with ``transformers.Trainer``, and the from-scratch Chinese option."""

import numpy as np
import pytest

import ml
from tests.ml.test_contract import _params


def test_trainer_keeps_the_best_epoch_and_saves_safetensors(banking_slice, tiny_checkpoint, tmp_path):
    train_x, train_y, test_x, _ = banking_slice
    model = ml.build("intent", "transformer", random_state=0, **_params("transformer", tiny_checkpoint))
    model.fit(train_x, train_y)
    assert model.model_.config.id2label == {i: c for i, c in enumerate(model.classes_)}
    path = model.save(tmp_path / "model")
    assert (path / "model" / "model.safetensors").is_file() and not list(path.rglob("*.bin"))
    np.testing.assert_allclose(ml.load(path).predict_proba(test_x[:10]), model.predict_proba(test_x[:10]), atol=1e-6)


def test_same_seed_same_model(banking_slice, tiny_checkpoint):
    train_x, train_y, test_x, _ = banking_slice
    params = dict(_params("transformer", tiny_checkpoint), epochs=1)
    a = ml.build("intent", "transformer", random_state=3, **params).fit(train_x[:60], train_y[:60])
    b = ml.build("intent", "transformer", random_state=3, **params).fit(train_x[:60], train_y[:60])
    np.testing.assert_allclose(a.predict_proba(test_x[:10]), b.predict_proba(test_x[:10]), atol=1e-6)


@pytest.mark.slow
def test_chinese_text_trains_a_small_bert_from_scratch_with_its_own_tokenizer(waimai_slice):
    train_x, train_y, test_x, test_y = waimai_slice
    model = ml.build("sentiment", "transformer", epochs=2, max_length=64, learning_rate=5e-4, random_state=0)
    model.fit(train_x, train_y)
    assert model.model_.config.num_hidden_layers == 4
    assert "好" in model.tokenizer_.get_vocab()  # the tokenizer was trained on these Chinese texts
    proba = model.predict_proba(test_x)
    assert proba.shape == (len(test_x), 2) and np.allclose(proba.sum(axis=1), 1.0, atol=1e-5)
