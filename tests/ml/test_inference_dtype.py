"""bfloat16 inference (``inference_dtype``) of the transformer and embedding backends."""

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import ml  # noqa: E402
from ml import encoder  # noqa: E402
from ml.encoder import SentenceEncoder, inference_autocast  # noqa: E402
from tests.ml.test_contract import BACKENDS  # noqa: E402

CPU = torch.device("cpu")


def linear_output_dtypes(net):
    """Record the dtype of every Linear layer's output while ``net`` runs."""
    seen = set()
    for module in net.modules():
        if isinstance(module, torch.nn.Linear):
            module.register_forward_hook(lambda m, args, out: seen.add(out.dtype))
    return seen


def test_auto_is_bfloat16_only_where_the_cpu_computes_it_natively(monkeypatch):
    for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported"):
        monkeypatch.setattr(torch.cpu, name, lambda: False, raising=False)
    assert not encoder.native_bf16(CPU)
    assert inference_autocast("auto", CPU) is None
    assert inference_autocast("bfloat16", CPU) is torch.bfloat16  # asked for: emulated, but honoured
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: True, raising=False)
    assert encoder.native_bf16(CPU)
    assert inference_autocast("auto", CPU) is torch.bfloat16
    assert inference_autocast("auto", CPU, quantized=True) is None  # int8 layers stay int8
    assert inference_autocast("float32", CPU) is None
    with pytest.raises(ValueError, match="inference_dtype must be one of"):
        inference_autocast("fp8", CPU)


def test_transformer_predicts_in_bfloat16_close_to_float32_and_the_choice_survives_save(banking_slice, tmp_path):
    train_x, train_y, test_x, _ = banking_slice
    params = dict(BACKENDS["transformer"][0], max_steps=20)
    with pytest.raises(ValueError, match="inference_dtype"):
        ml.build("intent", "transformer", inference_dtype="half", **params).fit(train_x[:20], train_y[:20])
    model = ml.build("intent", "transformer", random_state=0, inference_dtype="bfloat16", **params)
    model.fit(train_x, train_y)
    assert model.autocast_dtype_ is torch.bfloat16
    seen = linear_output_dtypes(model.model_)
    low = model.predict_proba(test_x)
    assert seen == {torch.bfloat16}

    path = model.save(tmp_path / "model")
    loaded = ml.load(path)
    assert loaded.inference_dtype == "bfloat16"
    np.testing.assert_array_equal(loaded.predict_proba(test_x), low)
    exact = ml.load(path, inference_dtype="float32")
    seen = linear_output_dtypes(exact.model_)
    full = exact.predict_proba(test_x)
    assert seen == {torch.float32}
    assert not np.array_equal(full, low)
    np.testing.assert_allclose(full, low, atol=0.03)
    assert np.mean(full.argmax(1) == low.argmax(1)) >= 0.95

    # a model saved before the option existed has no such parameter: it loads as float32
    manifest = json.loads((path / "manifest.json").read_text())
    del manifest["params"]["inference_dtype"]
    (path / "manifest.json").write_text(json.dumps(manifest))
    older = ml.load(path)
    assert older.inference_dtype == "float32" and older.autocast_dtype_ is None
    np.testing.assert_array_equal(older.predict_proba(test_x), full)


def test_sentence_encoder_in_bfloat16_stays_at_the_float32_embeddings(banking_slice):
    texts = banking_slice[2][:32]
    full = SentenceEncoder(None, inference_dtype="float32")
    low = SentenceEncoder(None, inference_dtype="bfloat16")
    assert full.autocast_dtype is None and low.autocast_dtype is torch.bfloat16
    seen = linear_output_dtypes(low.model)
    a, b = full.encode(texts), low.encode(texts)
    assert seen == {torch.bfloat16} and b.dtype == np.float32
    assert not np.array_equal(a, b)
    assert np.min(np.sum(a * b, axis=1)) > 0.999  # unit vectors: the cosine


def test_embedding_and_ensemble_pass_the_load_option_on(banking_slice, tmp_path):
    # a quarter of the slice: bfloat16 is emulated (slow) on CPUs without AVX512-BF16 / AMX
    train_x, train_y, test_x = banking_slice[0][::4], banking_slice[1][::4], banking_slice[2][::4]
    model = ml.build("intent", "ensemble", backends=["linear", "embedding"], weights=[0.5, 0.5],
                     member_params={"embedding": {"inference_dtype": "bfloat16"}}).fit(train_x, train_y)
    path = model.save(tmp_path / "model")
    loaded = ml.load(path)
    assert loaded.members_[1].inference_dtype == "bfloat16"
    np.testing.assert_allclose(loaded.predict_proba(test_x), model.predict_proba(test_x), atol=1e-9)
    exact = ml.load(path, inference_dtype="float32")
    assert exact.members_[1].inference_dtype == "float32"
    assert exact.members_[1]._encoder().autocast_dtype is None
    assert not np.array_equal(exact.predict_proba(test_x), model.predict_proba(test_x))
