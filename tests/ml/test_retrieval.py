"""The reply index without Django: pairs, partitions, similarity, PII guard, incremental update, artifacts."""
import json

import pytest
from sklearn.exceptions import NotFittedError

from ml.artifacts import ArtifactError
from ml.retrieval import ReplyIndex, default_ngram_range, normalize_language, reply_pairs


def rec(query, reply, intent="余额查询", language="zh", group="1", quality=5.0):
    return {"query": query, "reply": reply, "intent": intent, "language": language, "group": group,
            "source": f"EXT-{group}", "quality": quality}


RECORDS = [
    rec("我想查一下账户余额", "您可以在手机银行首页查看余额。", group="1"),
    rec("余额怎么查询", "登录APP后点击账户总览即可。", group="2", quality=4.0),
    rec("怎么给别人转账", "请在转账页面填写收款人信息。", intent="转账汇款", group="3"),
    rec("How do I check my balance?", "Open the app and look at the home screen.", intent="余额查询",
        language="en", group="4"),
    rec("I want to send money abroad", "Use the international transfer page.", intent="转账汇款", language="en",
        group="5"),
]


def test_reply_pairs_link_each_reply_to_the_customer_message_before_it():
    messages = [
        {"seq": 3, "speaker": "agent", "text": "a1"},
        {"seq": 0, "speaker": "agent", "text": "greeting"},
        {"seq": 1, "speaker": "customer", "text": "q1"},
        {"seq": 2, "speaker": "system", "text": "transferred"},
        {"seq": 4, "speaker": "agent", "text": "a1 continued"},
        {"seq": 5, "speaker": "customer", "text": "q2"},
        {"seq": 6, "speaker": "customer", "text": "q3"},
        {"seq": 7, "speaker": "agent", "text": "a3"},
        {"seq": 8, "speaker": "customer", "text": "unanswered"},
    ]
    assert reply_pairs(messages) == [("q1", "a1"), ("q3", "a3")]


def test_language_codes_and_ngram_defaults():
    assert normalize_language("zh-CN") == "zh"
    assert normalize_language("EN_us") == "en"
    assert normalize_language("", "我想查余额") == "zh"
    assert normalize_language(None, "check my balance") == "en"
    assert default_ngram_range("zh") == (1, 3)
    assert default_ngram_range("en") == (2, 4)


def test_search_returns_nearest_replies_of_the_same_intent_and_language():
    index = ReplyIndex().fit(RECORDS)
    hits = index.search("查询余额", language="zh", intent="余额查询", k=3)
    assert [h["source"] for h in hits] == ["EXT-2", "EXT-1"]
    assert 1.0 >= hits[0]["similarity"] >= hits[1]["similarity"] > 0
    assert {h["intent"] for h in hits} == {"余额查询"}
    assert index.search("查询余额", language="zh", intent="转账汇款", k=3)[0]["source"] == "EXT-3"
    assert index.search("查询余额", language="zh", intent="贷款咨询") == []
    # no intent: the whole language
    assert {h["source"] for h in index.search("余额 转账", language="zh", k=5)} == {"EXT-1", "EXT-2", "EXT-3"}
    # language is a hard partition
    en = index.search("check balance 余额", language="en", k=5)
    assert en and {h["source"] for h in en} <= {"EXT-4", "EXT-5"}
    assert en[0]["source"] == "EXT-4"
    assert index.search("余额", language="fr") == []
    assert index.counts() == {"en": {"余额查询": 1, "转账汇款": 1}, "zh": {"余额查询": 2, "转账汇款": 1}}


def test_identical_replies_are_returned_once():
    index = ReplyIndex().fit([rec(f"查余额{i}", "请在APP查看。", group=str(i)) for i in range(5)]
                             + [rec("查余额啊", "请到网点查询。", group="9")])
    hits = index.search("查余额", language="zh", intent="余额查询", k=3)
    assert [h["text"] for h in hits] == ["请在APP查看。", "请到网点查询。"]


def test_replies_are_masked_on_the_way_in_and_out():
    index = ReplyIndex().fit([rec("余额不对", "专员会用13912345678联系您，或邮件 a.b@example.com")])
    hit = index.search("余额不对", language="zh", k=1)[0]
    assert "13912345678" not in hit["text"] and "[PHONE]" in hit["text"] and "[EMAIL]" in hit["text"]


def test_unfitted_index_raises():
    with pytest.raises(NotFittedError):
        ReplyIndex().search("x", language="zh")


def test_update_removes_groups_and_adds_rows_without_refitting():
    index = ReplyIndex().fit(RECORDS[:3])
    vocabulary = dict(index.vectorizers_["zh"].vocabulary_)
    index.update([rec("贷款利率是多少", "当前利率请以官网为准。", intent="贷款咨询", group="6")], remove_groups=["1"])
    assert index.n_encoded_ == 1 and index.n_removed_ == 1
    assert index.vectorizers_["zh"].vocabulary_ == vocabulary
    assert index.counts()["zh"] == {"余额查询": 1, "转账汇款": 1, "贷款咨询": 1}
    assert "EXT-1" not in {h["source"] for h in index.search("账户余额", language="zh", k=5)}
    # replacing a group = removing it and adding its new rows
    index.update([rec("余额怎么查询", "新的回复。", group="2")], remove_groups=["2"])
    assert [h["text"] for h in index.search("余额怎么查询", language="zh", intent="余额查询")] == ["新的回复。"]
    # a language seen for the first time gets its own vocabulary
    index.update([RECORDS[3]])
    assert index.search("check my balance", language="en")[0]["source"] == "EXT-4"


def test_save_and_load_round_trip(tmp_path):
    index = ReplyIndex().fit(RECORDS, group_tags={"1": "a", "2": "b"})
    path = index.save(tmp_path / "reply_index", manifest={"watermark": {"id": 5}})
    loaded = ReplyIndex.load(path)
    for query, language in (("查询余额", "zh"), ("send money", "en")):
        assert loaded.search(query, language=language, k=5) == index.search(query, language=language, k=5)
    assert loaded.group_tags_ == {"1": "a", "2": "b"}
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["task"] == "reply_index" and manifest["n_rows"] == 5 and manifest["watermark"] == {"id": 5}
    assert sorted(manifest["files"]) == sorted(p.name for p in path.iterdir() if p.name != "manifest.json")
    assert not any(p.suffix in (".pkl", ".pickle", ".joblib") for p in path.iterdir())


def test_tampered_or_foreign_artifacts_are_refused(tmp_path):
    path = ReplyIndex().fit(RECORDS).save(tmp_path / "reply_index")
    vocab = path / "vocab_zh.json"
    vocab.write_bytes(vocab.read_bytes().replace(b'"analyzer":"char_wb"', b'"analyzer":"char  "'))
    with pytest.raises(ArtifactError, match="sha256"):
        ReplyIndex.load(path)
    path = ReplyIndex().fit(RECORDS).save(tmp_path / "again")
    (path / "extra.npz").write_bytes(b"x")
    with pytest.raises(ArtifactError, match="unknown file"):
        ReplyIndex.load(path)
    with pytest.raises(ArtifactError):
        ReplyIndex.load(tmp_path / "missing")


def test_empty_index_saves_and_loads(tmp_path):
    path = ReplyIndex().fit([]).save(tmp_path / "empty")
    assert ReplyIndex.load(path).search("余额", language="zh") == []


def test_saved_vectorizer_encodes_like_the_fitted_one(tmp_path):
    index = ReplyIndex().fit(RECORDS)
    loaded = ReplyIndex.load(index.save(tmp_path / "index"))
    for language, text in (("zh", "我想查询余额，谢谢！"), ("en", "How do I CHECK my balance??"), ("zh", "完全没见过的字")):
        fitted, restored = index.vectorizers_[language], loaded.vectorizers_[language]
        assert abs(fitted.transform([text]) - restored.transform([text])).max() < 1e-12 if fitted.transform([text]).nnz \
            else restored.transform([text]).nnz == 0


def test_an_index_holding_unmasked_replies_is_masked_on_load(tmp_path):
    """An index written under older masking rules holds raw PII; loading masks it with today's rules."""
    import json

    from ml.artifacts import MANIFEST, sha256_file

    path = ReplyIndex().fit([rec("余额不对", "请拨打专员")]).save(tmp_path / "index")
    entries_file = path / "entries_zh.json"
    entries = json.loads(entries_file.read_text(encoding="utf-8"))
    entries[0]["reply"] = "请拨打13912345678联系专员"
    entries_file.write_text(json.dumps(entries, ensure_ascii=False), encoding="utf-8")
    manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    manifest["files"]["entries_zh.json"] = sha256_file(entries_file)
    (path / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    hit = ReplyIndex.load(path).search("余额不对", language="zh", k=1)[0]
    assert "13912345678" not in hit["text"] and "[PHONE]" in hit["text"]


def test_similarities_equal_the_sparse_product(banking_slice):
    import numpy as np

    from ml.retrieval import _similarities

    train_x, _, test_x, _ = banking_slice
    records = [rec(q, f"reply {i}", intent="", language="en", group=str(i)) for i, q in enumerate(train_x)]
    index = ReplyIndex().fit(records)
    part = index.parts_[("en", "")]
    for text in test_x[:30] + ["zzzz qqqq", "card"]:
        row = index.query_features_["en"].transform([text])
        np.testing.assert_allclose(_similarities(row.indices, row.data, part["XT"]),
                                   (row @ part["XT"]).toarray().ravel(), rtol=0, atol=1e-12)
    assert not _similarities(np.zeros(0, dtype=np.int64), np.zeros(0), part["XT"]).any()
