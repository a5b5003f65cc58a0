"""``linear`` backend details: shared jieba segmentation across models."""

import numpy as np

import ml
import ml.linear


def test_shared_tokenization_segments_each_text_once_and_changes_nothing(waimai_slice, monkeypatch):
    train_x, train_y, test_x, _ = waimai_slice
    first = ml.build("sentiment", "linear", random_state=0).fit(train_x, train_y)
    second = ml.build("sentiment", "linear", C=3.0, random_state=0).fit(train_x, train_y)
    assert first._tokenizer() == "jieba"
    texts = list(test_x[:20])
    expected = (first.predict_proba(texts), second.predict_proba(texts))

    calls = []
    segment = ml.linear._segment
    monkeypatch.setattr(ml.linear, "_segment", lambda text: calls.append(text) or segment(text))
    with ml.shared_tokenization():
        shared = (first.predict_proba(texts), second.predict_proba(texts))
    assert sorted(calls) == sorted(set(texts)), "each distinct text segmented exactly once for two models"
    np.testing.assert_array_equal(shared[0], expected[0])
    np.testing.assert_array_equal(shared[1], expected[1])

    calls.clear()
    first.predict_proba(texts)  # outside the block nothing is remembered
    assert len(calls) == len(texts)


def test_nested_shared_tokenization_keeps_the_outer_memo(monkeypatch):
    calls = []
    monkeypatch.setattr(ml.linear, "_segment", lambda text: calls.append(text) or list(text))
    with ml.shared_tokenization():
        ml.linear.jieba_tokenize("退款")
        with ml.shared_tokenization():
            ml.linear.jieba_tokenize("退款")
        ml.linear.jieba_tokenize("退款")
    assert calls == ["退款"]
    ml.linear.jieba_tokenize("退款")
    assert calls == ["退款", "退款"]
