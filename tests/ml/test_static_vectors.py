"""Static token vectors (``ml.static_vectors``) as the third feature block of English ``linear`` models."""

import json

import numpy as np
import scipy.sparse as sp
import pytest

import ml
from ml import static_vectors
from ml.encoder import SentenceEncoder
from ml.static_vectors import (
    StaticVectors, adaptation_sample, adapted_table, contextual_states, sentence_fit, token_table,
)

from .conftest import BANKING, _require


def static_block(model):
    return dict(model.pipeline_.named_steps["tfidf"].transformer_list).get("static")


def test_a_text_is_the_normalised_mean_of_its_token_rows(banking_slice):
    block = StaticVectors(weight=2.0).fit(banking_slice[0])
    table = block.vectors_.astype(np.float32)
    assert table.shape[1] == 256 and block.vectors_.dtype == np.float16
    texts = ["my card has not arrived", "", "exchange rate", "\u2603"]
    out = block.transform(texts)
    ids = block._encoder().encode("my card has not arrived", add_special_tokens=False).ids
    expected = table[ids].mean(0)
    np.testing.assert_allclose(out[0], 2.0 * expected / np.linalg.norm(expected), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(out[[0, 2]], axis=1), 2.0, rtol=1e-5)
    assert not out[1].any()  # no tokens: a zero block, not NaN
    one_by_one = np.vstack([block.features([text]) for text in texts])  # the one-text path
    np.testing.assert_allclose(one_by_one, out, rtol=1e-5, atol=1e-6)
    # related words sit closer than unrelated ones: what TF-IDF cannot give unseen words
    card, cards, weather = block.transform(["card", "cards", "weather forecast"])
    assert card @ cards > card @ weather


def test_english_linear_models_use_them_and_chinese_ones_never(banking_slice, waimai_slice):
    english = ml.build("intent", "linear", random_state=0).fit(banking_slice[0], banking_slice[1])
    assert static_block(english) is not None
    plain = ml.build("intent", "linear", static_vectors=None, random_state=0).fit(banking_slice[0], banking_slice[1])
    assert static_block(plain) is None
    assert not np.allclose(english.predict_proba(banking_slice[2]), plain.predict_proba(banking_slice[2]))
    assert np.mean(english.predict(banking_slice[2]) == np.asarray(banking_slice[3])) > 0.8
    chinese = ml.build("sentiment", "linear", random_state=0).fit(waimai_slice[0], waimai_slice[1])
    assert chinese.language_ == "zh" and static_block(chinese) is None


def test_saved_models_keep_their_vectors_and_older_artifacts_load_without(banking_slice, tmp_path):
    train_x, train_y, test_x, _ = banking_slice
    model = ml.build("intent", "linear", random_state=0).fit(train_x, train_y)
    model.save(tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert config["static_vectors_checkpoint_sha256"] == static_block(model).checkpoint_digest_
    loaded = ml.load(tmp_path / "m")
    np.testing.assert_array_equal(loaded.predict_proba(test_x), model.predict_proba(test_x))

    plain = ml.build("intent", "linear", static_vectors=None, random_state=0).fit(train_x, train_y)
    plain.save(tmp_path / "old")
    manifest = json.loads((tmp_path / "old" / "manifest.json").read_text())
    for key in ("static_vectors", "static_dims", "static_weight", "static_adapt", "static_refine",
                "neighbours", "neighbour_temperature", "prototypes"):
        del manifest["params"][key]  # as written before the parameters existed
    (tmp_path / "old" / "manifest.json").write_text(json.dumps(manifest))
    old = ml.load(tmp_path / "old")
    assert old.static_vectors is None
    np.testing.assert_allclose(old.predict_proba(test_x), plain.predict_proba(test_x), atol=1e-12)


def test_the_table_is_computed_once_then_read_from_the_disk_cache(tmp_path, monkeypatch):
    class Recomputed(Exception):
        pass

    def refuse(checkpoint):
        raise Recomputed

    checkpoint = static_vectors.default_checkpoint()
    _, table, digest = token_table(checkpoint)  # computed (or cached) with the user's cache dir
    monkeypatch.setenv("ML_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(static_vectors, "_distil", refuse)
    token_table.cache_clear()
    try:
        with pytest.raises(Recomputed):  # an empty cache dir: the table must be computed
            token_table(checkpoint)
        cached = tmp_path / f"static-{digest[:16]}-r{static_vectors.RECIPE}.npy"
        np.save(cached, table[:10])  # a truncated file is not trusted
        with pytest.raises(Recomputed):
            token_table(checkpoint)
        cached.write_bytes(b"not a numpy file")
        with pytest.raises(Recomputed):
            token_table(checkpoint)
        np.save(cached, table)
        _, again, _ = token_table(checkpoint)  # a sound file: read, not recomputed
        np.testing.assert_array_equal(again, table)
        assert not again.flags.writeable
    finally:
        token_table.cache_clear()


def test_a_new_table_replaces_the_older_recipes_files_of_its_checkpoint(tmp_path, monkeypatch):
    checkpoint = static_vectors.default_checkpoint()
    digest = static_vectors.checkpoint_digest(checkpoint)
    monkeypatch.setenv("ML_CACHE_DIR", str(tmp_path))
    small = np.zeros((3, 4), dtype=np.float32)
    monkeypatch.setattr(static_vectors, "_distil", lambda checkpoint: small)
    stale = tmp_path / f"static-{digest[:16]}-r{static_vectors.RECIPE - 1}.npy"
    other = tmp_path / "static-0123456789abcdef-r1.npy"  # another checkpoint's table stays
    for path in (stale, other):
        np.save(path, small)
    token_table.cache_clear()
    try:
        token_table(checkpoint)
    finally:
        token_table.cache_clear()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [other.name, f"static-{digest[:16]}-r{static_vectors.RECIPE}.npy"])


def test_models_of_one_checkpoint_share_one_float32_table(banking_slice, tmp_path):
    train_x, train_y, test_x, _ = banking_slice
    first = ml.build("intent", "linear", random_state=0).fit(train_x, train_y)
    first.save(tmp_path / "a")
    second = ml.load(tmp_path / "a")
    for model in (first, second):
        model.predict_proba(test_x[:3])
    assert static_block(second) is not static_block(first)
    assert static_block(second)._float_table() is static_block(first)._float_table()
    assert not static_block(first)._float_table().flags.writeable
    changed = StaticVectors()
    changed.__dict__.update(static_block(first).__getstate__())
    changed.vectors_ = static_block(first).vectors_ * 2  # another table: not shared
    assert changed._float_table() is not static_block(first)._float_table()
    np.testing.assert_array_equal(changed._float_table(), 2 * static_block(first)._float_table())


def test_an_unwritable_cache_dir_costs_time_not_the_model(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("ML_CACHE_DIR", str(blocker / "cache"))
    small = np.zeros((3, 4), dtype=np.float32)
    monkeypatch.setattr(static_vectors, "_distil", lambda checkpoint: small)
    token_table.cache_clear()
    try:
        with pytest.warns(UserWarning, match="not cached"):
            _, table, _ = token_table(static_vectors.default_checkpoint())
        assert table is small
    finally:
        token_table.cache_clear()


def test_unseen_tokens_are_mapped_by_the_map_the_seen_ones_define():
    rng = np.random.RandomState(0)
    table = rng.randn(3000, 8).astype(np.float32)
    weights = rng.randn(9, 8)
    mapped = np.hstack([table, np.ones((3000, 1))]) @ weights
    seen = np.arange(0, 3000, 3)
    means = mapped[seen].astype(np.float32)
    out = adapted_table(table, seen, means)
    unseen = np.setdiff1d(np.arange(3000), seen)
    np.testing.assert_allclose(out[unseen], mapped[unseen], rtol=1e-3, atol=1e-3)
    means[0] += 5.0  # a seen token keeps its own contextual mean, off the map
    np.testing.assert_array_equal(adapted_table(table, seen, means)[seen], means)
    assert adapted_table(table, seen[:17], means[:17]) is table  # 17 pairs cannot fit 9 x 8 coefficients


def test_contextual_states_average_each_tokens_states_in_its_contexts():
    checkpoint = static_vectors.default_checkpoint()
    texts = ["my card is lost", "a lost card", "card", ""]
    contexts = contextual_states(checkpoint, texts)
    assert contextual_states(checkpoint, list(texts)) is contexts  # the same texts: encoded once
    seen, means = contexts.seen, contexts.means
    encoder = SentenceEncoder(checkpoint)
    card = encoder.tokenizer.convert_tokens_to_ids("card")
    per_text = {}
    for rows, ids, states in encoder.token_states(texts, batch_size=1):
        for row in set(rows.tolist()):
            per_text[row] = (ids[rows == row], states[rows == row])
    assert sorted(per_text) == [0, 1, 2]  # the empty text has no tokens
    assert [int(np.sum(ids == card)) for ids, _ in per_text.values()] == [1, 1, 1]  # no [CLS] / [SEP]
    card_states = np.vstack([states[ids == card] for ids, states in per_text.values()])
    np.testing.assert_allclose(means[list(seen).index(card)], card_states.mean(0), rtol=1e-4, atol=1e-5)
    expected = {i for text in texts for i in encoder.tokenizer(text, add_special_tokens=False)["input_ids"]}
    assert set(seen) == expected
    for row, (ids, states) in per_text.items():  # each text: its tokens' mean state, and their average
        np.testing.assert_allclose(contexts.text_means[row], states.mean(0), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose((contexts.averaging[row] @ means)[0], means[np.searchsorted(seen, ids)].mean(0),
                                   rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(contexts.text_means[3], 0)
    assert contexts.averaging[3].nnz == 0


def test_contextual_states_read_in_int8_on_a_cpu_are_close_to_float32():
    checkpoint = static_vectors.default_checkpoint()
    texts = ["my card is lost", "a lost card", "how do i top up my account", "card"]
    full = contextual_states(checkpoint, texts)
    int8 = contextual_states(checkpoint, texts, quantize=True)
    assert int8 is not full and contextual_states(checkpoint, texts, quantize=True) is int8  # cached apart
    # the int8 encoder's states (its activations' scales are per batch: the same batches)
    batches = list(SentenceEncoder(checkpoint, quantize=True).token_states(texts))
    card = np.concatenate([states[rows == 3] for rows, _, states in batches])
    np.testing.assert_allclose(int8.text_means[3], card[0], rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(int8.seen, full.seen)
    assert not np.allclose(int8.means, full.means, atol=1e-4)  # int8 weights give other states ...
    cosine = np.sum(int8.means * full.means, 1) / np.linalg.norm(int8.means, axis=1) / np.linalg.norm(full.means, axis=1)
    assert cosine.min() > 0.9  # ... near the float32 ones


def test_contextual_means_of_more_tokens_than_the_first_allocation():
    checkpoint = static_vectors.default_checkpoint()
    encoder = SentenceEncoder(checkpoint)
    words = [w for w in encoder.tokenizer.convert_ids_to_tokens(range(3000, 3700)) if w.isalpha()]
    words = [words[i] for i in np.random.RandomState(0).permutation(len(words))]  # first seen != id order
    texts = [" ".join(words[i:i + 25]) for i in range(0, len(words), 20)]  # overlapping: tokens recur
    contexts = contextual_states(checkpoint, texts, batch_size=4)
    sums, counts = {}, {}
    for _, ids, states in encoder.token_states(texts, batch_size=4):
        for token, state in zip(ids.tolist(), states):
            sums[token] = sums.get(token, 0.0) + state.astype(np.float64)
            counts[token] = counts.get(token, 0) + 1
    assert len(contexts.seen) > 256 and sorted(sums) == list(contexts.seen)
    expected = np.stack([sums[token] / counts[token] for token in contexts.seen])
    np.testing.assert_allclose(contexts.means, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("n_texts", [40, 150])  # fewer texts than tokens (the dual system), more (the primal)
def test_the_sentence_fit_is_the_ridge_solution_over_the_seen_tokens(n_texts):
    rng = np.random.RandomState(0)
    n_tokens, dim = 60, 5
    A = sp.random(n_texts, n_tokens, density=0.1, random_state=rng, format="csr")
    A = sp.csr_matrix(A.multiply(1.0 / np.maximum(A.sum(1), 1e-9)))  # rows average their tokens
    means = rng.randn(n_tokens, dim).astype(np.float32)
    targets = (A @ means + 0.3 * rng.randn(n_texts, dim)).astype(np.float32)
    contexts = static_vectors.Contexts(np.arange(n_tokens), means, A, targets)
    for ridge in (0.01, 1.0):
        fitted = sentence_fit(contexts, ridge)
        primal = means + np.linalg.solve((A.T @ A).toarray() + ridge * np.eye(n_tokens),
                                         A.T @ (targets - A @ means))
        np.testing.assert_allclose(fitted, primal, rtol=1e-4, atol=1e-4)
        assert np.linalg.norm(A @ fitted - targets) < np.linalg.norm(A @ means - targets)
    np.testing.assert_allclose(sentence_fit(contexts, 1e9), means, atol=1e-6)  # a huge ridge: no correction


def test_the_adaptation_sample_is_bounded_by_texts_and_tokens():
    lengths = np.full(50, 10)
    np.testing.assert_array_equal(adaptation_sample(lengths, 100, 500), np.arange(50))  # all fit: all, in order
    by_count = adaptation_sample(lengths, 20, 1000)
    assert len(by_count) == 20 and np.all(np.diff(by_count) > 0) and by_count.max() < 50
    np.testing.assert_array_equal(adaptation_sample(lengths, 20, 1000), by_count)  # a fixed sample
    by_tokens = adaptation_sample(lengths, 100, 95)
    assert len(by_tokens) == 9  # 90 tokens; a tenth text would pass the budget
    assert len(adaptation_sample([500, 400], 10, 100)) == 1  # one text however long


def test_the_table_is_adapted_to_a_sample_of_the_training_texts(monkeypatch):
    _require(BANKING)
    import pandas as pd

    texts = pd.read_csv(BANKING).text.tolist()[:1200]
    adapted = StaticVectors(adapt=1000).fit(texts)
    assert adapted.adapted_tokens_ > 2 * 385  # enough seen tokens to fit the map
    plain = StaticVectors(adapt=0).fit(texts)
    assert plain.adapted_tokens_ == 0 and plain.get_params()["adapt"] == 0
    assert adapted.vectors_.shape == plain.vectors_.shape == (len(plain.vectors_), 256)
    assert not np.allclose(adapted.vectors_, plain.vectors_)
    np.testing.assert_array_equal(StaticVectors(adapt=1000).fit(texts).vectors_, adapted.vectors_)  # deterministic
    unrefined = StaticVectors(adapt=1000, refine=0).fit(texts)
    assert unrefined.adapted_tokens_ == adapted.adapted_tokens_
    assert not np.allclose(unrefined.vectors_, adapted.vectors_)
    read = []  # what the encoder is given under a token budget
    monkeypatch.setattr(static_vectors, "contextual_states", lambda checkpoint, sample, **options:
                        read.append(sample) or contextual_states(checkpoint, sample))
    monkeypatch.setattr(static_vectors, "ADAPT_TOKENS", 5000)
    bounded = StaticVectors(adapt=1000).fit(texts)
    tokens = sum(len(ids) for ids in bounded._token_ids(read[0]))
    assert 100 < len(read[0]) < 1000 and tokens <= 5000 and set(read[0]) <= set(texts)
    old = StaticVectors.__new__(StaticVectors)  # as skops rebuilds one saved before ``adapt`` and ``refine``
    old.__dict__.update({k: v for k, v in plain.__getstate__().items() if k not in ("adapt", "refine")})
    assert old.get_params()["adapt"] == 0 and old.get_params()["refine"] == 0
