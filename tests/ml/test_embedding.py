"""``embedding`` backend: int8 encoder option, and how the encoder batches texts."""

import json

import numpy as np

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
