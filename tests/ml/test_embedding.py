"""``embedding`` backend: int8 encoder option."""

import numpy as np

import ml


def test_quantized_encoder_learns_and_round_trips(banking_slice, tmp_path):
    import torch

    train_x, train_y, test_x, test_y = banking_slice
    model = ml.build("intent", "embedding", quantize=True, C=10.0, random_state=0).fit(train_x, train_y)
    linear_types = {type(m).__module__ for m in model.encoder_.model.modules() if "Linear" in type(m).__name__}
    assert any("quantized" in name for name in linear_types), linear_types
    assert not any(type(m) is torch.nn.Linear for m in model.encoder_.model.modules())
    assert np.mean(model.predict(test_x) == np.asarray(test_y)) >= 0.8

    loaded = ml.load(model.save(tmp_path / "int8"))
    assert loaded.quantize is True
    np.testing.assert_allclose(loaded.predict_proba(test_x), model.predict_proba(test_x), atol=1e-6)
