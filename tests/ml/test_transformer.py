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


def test_predictions_are_tokenized_a_chunk_at_a_time_in_input_order(banking_slice, monkeypatch):
    import ml.encoder

    train_x, train_y, test_x, _ = banking_slice
    params = dict(BACKENDS["transformer"][0], max_steps=60, inference_dtype="float32")
    model = ml.build("intent", "transformer", random_state=0, **params).fit(train_x, train_y)
    texts = list(test_x[:23])
    whole = model.predict_proba(texts)
    assert np.abs(whole - whole[::-1]).max() > 1e-3  # rows out of order would show
    sizes = []
    encode = model._encode
    monkeypatch.setattr(model, "_encode", lambda chunk: sizes.append(len(chunk)) or encode(chunk))
    monkeypatch.setattr(ml.encoder, "ENCODE_CHUNK", 5)
    np.testing.assert_allclose(model.predict_proba(texts), whole, atol=1e-5)
    assert sizes == [5, 5, 5, 5, 3]


def test_pretrained_mean_pooling_starts_from_the_linear_probe(banking_slice, tmp_path):
    """LP-FT: the head starts from a probe on frozen embeddings, not at chance."""
    train_x, train_y, test_x, test_y = banking_slice
    frozen = dict(max_steps=1, learning_rate=1e-12, max_length=32, val_fraction=0.0)
    warm = ml.build("intent", "transformer", random_state=0, **frozen).fit(train_x, train_y)
    cold = ml.build("intent", "transformer", random_state=0, warm_start=False, **frozen).fit(train_x, train_y)
    assert warm.pooling_ == "mean" and warm.source_["checkpoint"] != "scratch"
    assert warm.pretrain_ is None  # self-pretraining is for models from scratch only
    assert np.mean(warm.predict(test_x) == np.asarray(test_y)) >= 0.8
    assert np.mean(cold.predict(test_x) == np.asarray(test_y)) < 0.6  # a random head, barely trained

    path = warm.save(tmp_path / "mean")
    assert (path / "head.safetensors").is_file() and (path / "model" / "model.safetensors").is_file()
    assert not list(path.rglob("*.bin"))
    loaded = ml.load(path)
    assert loaded.pooling_ == "mean"
    np.testing.assert_allclose(loaded.predict_proba(test_x), warm.predict_proba(test_x), atol=1e-5)
    quantized = ml.load(path, quantize=True)
    assert quantized.quantized_ and np.mean(quantized.predict(test_x) == warm.predict(test_x)) > 0.8


def test_scratch_pooling_follows_self_pretraining(banking_slice, tmp_path):
    """From scratch, "auto" pools [CLS] without pretraining; "mean" builds the mean-pooling classifier."""
    train_x, train_y, test_x, _ = banking_slice
    params = dict(BACKENDS["transformer"][0], max_steps=2)
    assert params["pretrain_steps"] == 0
    cls = ml.build("intent", "transformer", random_state=0, **params).fit(train_x, train_y)
    assert cls.pooling_ == "cls" and hasattr(cls.model_, "bert")
    mean = ml.build("intent", "transformer", random_state=0, pooling="mean", **params).fit(train_x, train_y)
    assert mean.pooling_ == "mean" and hasattr(mean.model_, "head")
    loaded = ml.load(mean.save(tmp_path / "model"))
    assert loaded.pooling_ == "mean"
    np.testing.assert_allclose(loaded.predict_proba(test_x), mean.predict_proba(test_x), atol=1e-6)


def test_split_seed_lines_up_the_held_out_rows_of_differently_seeded_models(banking_slice):
    train_x, train_y, _, _ = banking_slice
    params = dict(BACKENDS["transformer"][0], max_steps=2)
    held_out = {}
    for name, seeds in {"a": dict(random_state=0, split_seed=7), "b": dict(random_state=1, split_seed=7),
                        "own": dict(random_state=1)}.items():
        model = ml.build("intent", "transformer", **params, **seeds).fit(train_x, train_y)
        held_out[name] = sorted(model._val_index)
    assert held_out["a"] == held_out["b"]
    assert held_out["own"] != held_out["a"]  # without split_seed the split follows random_state


def test_refit_full_retrains_on_everything_for_the_best_step_count(banking_slice, tmp_path):
    train_x, train_y, test_x, _ = banking_slice
    params = dict(BACKENDS["transformer"][0], eval_steps=4, max_steps=16, patience=100, refit_full=True)
    model = ml.build("intent", "transformer", random_state=0, **params)
    oof = model.fit_oof(train_x, train_y)
    best = max(model.history_, key=lambda h: h["val_accuracy"])["step"]
    assert model.refit_steps_ == model.steps_ == best
    held = ~np.isnan(oof).any(axis=1)
    assert held.sum() == len(model._val_index) > 0
    # the ensemble's rows come from the model that never saw them, not from the refit one
    refit_proba = model.predict_proba([train_x[i] for i in np.flatnonzero(held)])
    assert not np.allclose(oof[held], refit_proba)
    loaded = ml.load(model.save(tmp_path / "model"))
    assert loaded.refit_steps_ == best
    np.testing.assert_allclose(loaded.predict_proba(test_x), model.predict_proba(test_x), atol=1e-5)


def test_without_early_stopping_the_whole_budget_is_trained_and_refit(banking_slice):
    """``patience=None``: no stop however the held-out accuracy moves; the refit trains the same budget."""
    train_x, train_y, _, _ = banking_slice
    params = dict(BACKENDS["transformer"][0], eval_steps=2, max_steps=12, patience=None, refit_full=True)
    model = ml.build("intent", "transformer", random_state=0, **params).fit(train_x, train_y)
    assert [h["step"] for h in model.history_] == [2, 4, 6, 8, 10, 12]
    assert model.best_val_accuracy_ == model.history_[-1]["val_accuracy"]  # the weights kept are the last
    assert model.refit_steps_ == model.steps_ == 12
    stopped = ml.build("intent", "transformer", random_state=0, **{**params, "patience": 1}).fit(train_x, train_y)
    assert stopped.refit_steps_ == max(stopped.history_, key=lambda h: h["val_accuracy"])["step"]


def test_weight_averaging_is_on_by_default_and_can_be_turned_off(banking_slice):
    """The backend hands ``ema_decay`` to the loop: averaged weights differ from the last ones."""
    train_x, train_y, test_x, _ = banking_slice
    params = dict(BACKENDS["transformer"][0], max_steps=4, val_fraction=0.0)
    averaged = ml.build("intent", "transformer", random_state=0, **params).fit(train_x, train_y)
    last = ml.build("intent", "transformer", random_state=0, ema_decay=0, **params).fit(train_x, train_y)
    assert averaged.ema_decay == 0.98
    assert not np.allclose(averaged.predict_proba(test_x), last.predict_proba(test_x), atol=1e-4)


def test_length_grouped_batches_cover_every_row_once_with_similar_lengths():
    from ml.finetune import length_grouped_batches

    rng = np.random.default_rng(0)
    lengths = rng.integers(3, 90, size=1000)
    batches = length_grouped_batches(lengths, 16, np.random.default_rng(1), group=10)
    assert sorted(i for batch in batches for i in batch) == list(range(1000))
    spread = np.mean([lengths[b].max() - lengths[b].min() for b in map(np.asarray, batches)])
    random_spread = np.mean([np.ptp(lengths[rng.permutation(1000)[:16]]) for _ in range(50)])
    assert spread < random_spread / 4  # padding to the longest of a batch wastes little


def test_fine_tuning_batches_are_length_grouped_unless_turned_off(banking_slice, monkeypatch):
    """Each epoch sees every training row once; grouped batches pad far less than random ones."""
    import ml.transformer

    train_x, train_y, _, _ = banking_slice
    real = ml.transformer.fine_tune
    widths = {}

    def spy(model, groups, *, collate, group_by_length, **kwargs):
        def recording(rows):
            widths[group_by_length].append([len(row) for row in rows])
            return collate(rows)

        widths[group_by_length] = []
        return real(model, groups, collate=recording, group_by_length=group_by_length, **kwargs)

    monkeypatch.setattr(ml.transformer, "fine_tune", spy)
    models = {}
    for grouped in (True, False):
        params = dict(BACKENDS["transformer"][0], max_steps=13, val_fraction=0.0, group_by_length=grouped)
        models[grouped] = ml.build("intent", "transformer", random_state=0, **params).fit(train_x, train_y)
    assert set(widths) == {True, False}
    expected = sorted(len(ids) for ids in models[True]._encode(train_x))
    padding = {}
    for grouped, batches in widths.items():
        assert len(batches) == 13 == models[grouped].steps_  # one epoch: 200 rows in batches of 16
        assert max(len(b) for b in batches) == 16
        assert sorted(n for b in batches for n in b) == expected
        padding[grouped] = sum(max(b) * len(b) for b in batches) / sum(map(sum, batches))
    assert padding[True] < 1.1 < 1.5 < padding[False]


def test_scratch_model_is_self_pretrained_on_its_training_texts(waimai_slice, tmp_path, monkeypatch):
    """Masked-LM pretraining on the training texts: the loss falls, the encoder changes, its pooler does not;
    the mean-pooled head then starts from a probe on the pretrained encoder."""
    import torch

    train_x, train_y, test_x, _ = waimai_slice
    params = dict(BACKENDS["transformer"][0], pretrain_steps=100, max_steps=1, learning_rate=1e-12, val_fraction=0.0)
    seen = []
    import ml.transformer

    real = ml.transformer.mlm_pretrain

    def spy(encoder, tokenizer, ids, **kwargs):
        before = {k: v.clone() for k, v in encoder.state_dict().items()}
        seen.append(len(ids))
        result = real(encoder, tokenizer, ids, **kwargs)
        after = encoder.state_dict()
        changed = {k for k in before if not torch.equal(before[k], after[k])}
        assert any(k.startswith("encoder.layer.") for k in changed)
        assert not any(k.startswith("pooler.") for k in changed)
        order.append("pretrain")
        return result

    order = []
    real_probe = ml.transformer.TransformerClassifier._linear_probe

    def probe(self, ids_list, y):
        order.append("probe")
        return real_probe(self, ids_list, y)

    monkeypatch.setattr(ml.transformer, "mlm_pretrain", spy)
    monkeypatch.setattr(ml.transformer.TransformerClassifier, "_linear_probe", probe)
    model = ml.build("sentiment", "transformer", random_state=0, **params).fit(train_x, train_y)
    assert seen == [len(train_x)]
    assert model.pooling_ == "mean" and order == ["pretrain", "probe"]  # the head is probed on the pretrained encoder
    assert model.pretrain_["steps"] == 100
    assert model.pretrain_["loss"] < model.pretrain_["first_loss"] - 0.5
    loaded = ml.load(model.save(tmp_path / "model"))
    assert loaded.pretrain_ == model.pretrain_
    np.testing.assert_allclose(loaded.predict_proba(test_x), model.predict_proba(test_x), atol=1e-6)
