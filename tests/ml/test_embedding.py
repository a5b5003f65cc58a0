"""``embedding`` backend: int8 encoder option, and how the encoder batches texts."""

import json

import numpy as np
import pytest

import ml


def weight_schemes(module):
    """The weight quantization schemes of a quantized model's Linear layers."""
    return {m.weight().qscheme() for m in module.modules() if callable(getattr(m, "weight", None))}


def test_quantized_encoder_learns_and_round_trips(banking_slice, tmp_path):
    import torch

    train_x, train_y, test_x, test_y = banking_slice
    model = ml.build("intent", "embedding", quantize=True, C=10.0, random_state=0).fit(train_x, train_y)
    linear_types = {type(m).__module__ for m in model.encoder_.model.modules() if "Linear" in type(m).__name__}
    assert any("quantized" in name for name in linear_types), linear_types
    assert not any(type(m) is torch.nn.Linear for m in model.encoder_.model.modules())
    assert np.mean(model.predict(test_x) == np.asarray(test_y)) >= 0.8

    assert weight_schemes(model.encoder_.model) == {torch.per_channel_affine}

    path = model.save(tmp_path / "int8")
    loaded = ml.load(path)
    assert loaded.quantize is True and loaded.quantize_per_channel is True
    proba = loaded.predict_proba(test_x)
    np.testing.assert_allclose(proba, model.predict_proba(test_x), atol=1e-6)
    assert weight_schemes(loaded.encoder_.model) == {torch.per_channel_affine}

    # a model saved before the option existed had its encoder quantized per tensor: it loads so
    manifest = json.loads((path / "manifest.json").read_text())
    del manifest["params"]["quantize_per_channel"]
    (path / "manifest.json").write_text(json.dumps(manifest))
    older = ml.load(path)
    assert older.quantize_per_channel is False
    assert not np.allclose(older.predict_proba(test_x), proba, atol=1e-6)
    assert weight_schemes(older.encoder_.model) == {torch.per_tensor_affine}


def test_token_batches_bound_rows_and_padded_tokens():
    from ml.encoder import token_batches

    lengths = [5, 40, 7, 7, 12, 300, 5, 9]
    batches = token_batches(lengths, batch_size=3, max_tokens=40)
    rows = np.concatenate(batches)
    assert sorted(rows.tolist()) == list(range(len(lengths)))  # every row exactly once
    assert [lengths[b[0]] for b in batches] == sorted((lengths[b[0]] for b in batches), reverse=True)
    for batch in batches:
        longest = max(lengths[i] for i in batch)
        assert lengths[batch[0]] == longest
        assert len(batch) <= 3
        assert len(batch) == 1 or len(batch) * longest <= 40
    assert [5] in [b.tolist() for b in batches]  # the 300-token row, longer than the budget, alone
    assert [len(b) for b in token_batches(lengths, batch_size=3)] == [3, 3, 2]  # no token bound


def test_encoder_embeddings_do_not_depend_on_the_batching(banking_slice):
    from ml.encoder import SentenceEncoder

    texts = list(banking_slice[2][:40]) + ["card " * 200]  # one text past max_length
    encoder = SentenceEncoder(None, max_length=64, inference_dtype="float32")
    together = encoder.encode(texts, batch_size=64)
    one_by_one = np.vstack([encoder.encode([text]) for text in texts])
    np.testing.assert_allclose(together, one_by_one, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)


def test_encoder_tokenizes_a_chunk_at_a_time_and_keeps_the_order(banking_slice, monkeypatch):
    import ml.encoder
    from ml.encoder import SentenceEncoder

    texts = list(banking_slice[2][:23])
    encoder = SentenceEncoder(None, max_length=64, inference_dtype="float32")
    whole = encoder.encode(texts)
    states = list(encoder.token_states(texts))
    monkeypatch.setattr(ml.encoder, "ENCODE_CHUNK", 5)
    sizes = []
    tokenize = encoder.tokenizer.__class__.__call__
    monkeypatch.setattr(encoder.tokenizer.__class__, "__call__",
                        lambda self, batch, **kw: sizes.append(len(batch)) or tokenize(self, batch, **kw))
    np.testing.assert_allclose(encoder.encode(texts), whole, atol=1e-5)
    assert sizes == [5, 5, 5, 5, 3]
    rows = np.concatenate([r for r, _, _ in encoder.token_states(texts)])
    assert sorted(set(rows.tolist())) == list(range(23))  # every text's tokens, indexed into the whole input
    np.testing.assert_array_equal(np.sort(rows), np.sort(np.concatenate([r for r, _, _ in states])))


def test_neighbour_votes_fall_with_similarity_and_every_class_keeps_a_floor():
    from ml.embedding import NEIGHBOUR_FLOOR, neighbour_proba

    bank = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0]])
    labels = np.array([0, 1, 2])
    x = np.array([[1.0, 0.0]])
    proba = neighbour_proba(bank, labels, x, n_classes=4, k=2, temperature=0.1)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    votes = np.array([1.0, np.exp((0.8 - 1.0) / 0.1), 0.0, 0.0]) + NEIGHBOUR_FLOOR  # the third row is not among the 2
    np.testing.assert_allclose(proba[0], votes / votes.sum())
    assert proba[0, 2] == proba[0, 3]  # outside the k nearest, a class only has the floor
    sharper = neighbour_proba(bank, labels, x, 4, k=2, temperature=0.01)
    assert sharper[0, 0] > proba[0, 0]
    everything = neighbour_proba(bank, labels, x, 4, k=10, temperature=0.1)  # k beyond the bank: all of it
    assert everything[0, 2] > everything[0, 3]


@pytest.fixture(scope="module")
def banking_all_intents():
    """(train_texts, train_labels, test_texts, test_labels): all 77 intents, 10 + 3 texts each.

    Five easy intents (``banking_slice``) leave the neighbours nothing to add to the head.
    """
    import pandas as pd

    from tests.ml.conftest import BANKING, _require

    _require(BANKING)
    df = pd.read_csv(BANKING).groupby("category", sort=True).sample(13, random_state=0)
    train, test = df.groupby("category").head(10), df.groupby("category").tail(3)
    return train.text.tolist(), train.category.tolist(), test.text.tolist(), test.category.tolist()


def test_neighbours_blend_with_the_head_and_survive_save_and_load(banking_all_intents, tmp_path):
    import ml.embedding
    from ml.ensemble import temper

    train_x, train_y, test_x, test_y = banking_all_intents
    model = ml.build("intent", "embedding", C=10.0, random_state=0).fit(train_x, train_y)
    assert model.blend_ is not None and model.blend_["weights"][1] > 0
    assert model.bank_.shape == (len(train_x), model._encoder().dim)
    X = model.embed(test_x)
    head = model.head_.predict_proba(X)
    near = ml.embedding.neighbour_proba(model.bank_, model.bank_labels_, X, len(model.classes_), 20, 0.02)
    (w_head, w_near), (t_head, t_near) = model.blend_["weights"], model.blend_["temperatures"]
    expected = temper(w_head * temper(head, t_head) + w_near * temper(near, t_near), model.blend_["temperature"])
    proba = model.predict_proba(test_x)
    np.testing.assert_allclose(proba, expected, atol=1e-6)
    assert not np.allclose(proba, head, atol=1e-3)
    assert np.mean(model.predict(test_x) == np.asarray(test_y)) >= 0.6  # 77 intents from 10 texts each

    path = model.save(tmp_path / "model")
    assert (path / ml.embedding.NEIGHBOURS_FILE).is_file()
    np.testing.assert_allclose(ml.load(path).predict_proba(test_x), proba, atol=1e-6)

    plain = ml.build("intent", "embedding", C=10.0, neighbours=0, random_state=0).fit(train_x, train_y)
    assert plain.blend_ is None
    np.testing.assert_allclose(plain.predict_proba(test_x), head, atol=1e-6)
    assert not (plain.save(tmp_path / "plain") / ml.embedding.NEIGHBOURS_FILE).exists()

    capped = ml.build("intent", "embedding", C=10.0, neighbour_rows=500, random_state=0).fit(train_x, train_y)
    assert len(capped.bank_) == 500


def test_models_saved_before_neighbours_load_as_the_head_alone(banking_slice, tmp_path):
    from ml.artifacts import sha256_file

    train_x, train_y, test_x, _ = banking_slice
    model = ml.build("intent", "embedding", C=10.0, neighbours=0, random_state=0).fit(train_x, train_y)
    path = model.save(tmp_path / "old")
    config = json.loads((path / "config.json").read_text())
    del config["blend"]  # as written before the option existed
    (path / "config.json").write_text(json.dumps(config))
    manifest = json.loads((path / "manifest.json").read_text())
    for key in ("neighbours", "neighbour_temperature", "neighbour_rows"):
        del manifest["params"][key]
    manifest["files"]["config.json"] = sha256_file(path / "config.json")
    (path / "manifest.json").write_text(json.dumps(manifest))
    older = ml.load(path)
    assert older.neighbours == 0 and older.blend_ is None
    np.testing.assert_allclose(older.predict_proba(test_x), model.predict_proba(test_x), atol=1e-6)
