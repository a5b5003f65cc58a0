"""Reply index: what goes in (good, resolved conversations), PII, language, incremental rebuild, tampering."""
import datetime as dt
import json

import pytest
from django.utils import timezone

from apps.conversations.models import Conversation
from apps.conversations.services import conversations_upsert
from apps.scoring.services import retrieval
from apps.scoring.models import ReviewItem
from apps.scoring.services.suggestions import suggest
from ml.artifacts import ArtifactError

pytestmark = pytest.mark.django_db

PHONE = "13912345678"


@pytest.fixture
def store(settings, tmp_path):
    settings.MODEL_STORE = tmp_path / "models"
    retrieval.reply_index_clear_cache()
    yield settings.MODEL_STORE / "reply_index"
    retrieval.reply_index_clear_cache()


def item(external_id, question, answer, *, intent="余额查询", quality=5, resolved=True, language="zh"):
    start = timezone.now() - dt.timedelta(days=1)
    return {
        "external_id": external_id, "customer": "C1", "agent": "A1", "channel": "app", "language": language,
        "started_at": start, "ended_at": start + dt.timedelta(minutes=5), "resolved": resolved, "csat": 5,
        "label_intent": intent, "label_sentiment": "neutral", "label_quality": quality,
        "messages": [
            {"seq": 0, "speaker": "agent", "text": "您好，请问有什么可以帮您？", "sent_at": start},
            {"seq": 1, "speaker": "customer", "text": question, "sent_at": start},
            {"seq": 2, "speaker": "agent", "text": answer, "sent_at": start},
        ],
    }


def ingest(*items):
    conversations_upsert(items=list(items))


def search(text, intent="余额查询", language="zh", k=5):
    return retrieval.reply_search(text=text, intent=intent, language=language, k=k)


def manifest(store):
    return json.loads((store / "manifest.json").read_text())


def test_only_good_resolved_conversations_are_indexed(store):
    ingest(
        item("GOOD", "我想查一下余额", "您可以在手机银行首页查看余额。", quality=5),
        item("OK4", "余额怎么查询", "登录APP后点击账户总览即可看到余额。", quality=4),
        item("POOR", "查余额", "不知道。", quality=2),
        item("OPEN", "我的余额是多少", "稍等我去问问。", quality=5, resolved=False),
    )
    summary = retrieval.reply_index_rebuild()
    assert summary["full"] and summary["n_conversations"] == 2
    hits = search("我想查询余额")
    assert {h["conversation_external_id"] for h in hits} == {"GOOD", "OK4"}
    assert all(h["quality"] >= 4 for h in hits)
    assert hits[0]["similarity"] >= hits[-1]["similarity"] > 0
    assert set(hits[0]) == {"text", "conversation_external_id", "quality", "similarity"}
    # the greeting before the first customer message answers nothing and is not indexed
    assert all("有什么可以帮您" not in h["text"] for h in hits)


def test_reviewed_quality_beats_the_crm_label_which_beats_the_prediction(store):
    ingest(item("LABEL5", "余额多少", "请在APP查看余额。", quality=5),
           item("LABEL2", "余额是多少钱", "您可以拨打客服热线查询余额。", quality=2),
           item("PENDING", "余额查一下", "余额可在网点查询。", quality=5),
           item("PREDICTED", "余额还有多少", "请在微信银行查看余额。", quality=None))
    conv = {c.external_id: c for c in Conversation.objects.all()}
    ReviewItem.objects.create(conversation=conv["LABEL5"], status=ReviewItem.Status.REVIEWED, quality=1)
    ReviewItem.objects.create(conversation=conv["LABEL2"], status=ReviewItem.Status.REVIEWED, quality=5)
    # a pending review's quality is not a verdict yet
    ReviewItem.objects.create(conversation=conv["PENDING"], status=ReviewItem.Status.PENDING, quality=1)
    Conversation.objects.filter(external_id="PREDICTED").update(predicted_quality=4.4, predicted_intent="余额查询")
    Conversation.objects.filter(external_id="LABEL5").update(predicted_quality=5.0)
    retrieval.reply_index_rebuild()
    assert {h["conversation_external_id"] for h in search("余额")} == {"LABEL2", "PENDING", "PREDICTED"}
    hit = next(h for h in search("余额") if h["conversation_external_id"] == "PREDICTED")
    assert hit["quality"] == pytest.approx(4.4)

    # a verdict given after the build reaches the index at the next incremental rebuild
    ReviewItem.objects.filter(conversation=conv["PENDING"]).update(status=ReviewItem.Status.REVIEWED)
    summary = retrieval.reply_index_rebuild()
    assert not summary["full"] and summary["n_conversations_removed"] == 1
    assert {h["conversation_external_id"] for h in search("余额")} == {"LABEL2", "PREDICTED"}


def test_replies_come_from_the_same_intent(store):
    ingest(item("BAL", "我要查余额", "您可以在手机银行首页查看余额。", intent="余额查询"),
           item("TRF", "我要查转账记录和余额", "请在转账记录页面查看。", intent="转账汇款"))
    retrieval.reply_index_rebuild()
    assert [h["conversation_external_id"] for h in search("查余额", intent="余额查询")] == ["BAL"]
    assert [h["conversation_external_id"] for h in search("查余额", intent="转账汇款")] == ["TRF"]
    assert search("查余额", intent="贷款咨询") == []


def test_pii_never_reaches_the_index_or_the_answer(store):
    ingest(item("PII", "我的余额不对", f"已为您登记，稍后专员用{PHONE}联系您。"))
    conversation = Conversation.objects.get(external_id="PII")
    assert PHONE not in "".join(conversation.messages.values_list("text", flat=True))
    retrieval.reply_index_rebuild()
    for path in store.iterdir():
        assert PHONE.encode() not in path.read_bytes(), path.name
    result = suggest(intent="余额查询", sentiment="negative", quality=3.0, text="余额不对", language="zh")
    assert result["replies"] and all(PHONE not in r["text"] for r in result["replies"])
    assert "[PHONE]" in result["replies"][0]["text"]


def test_query_language_is_respected(store):
    ingest(item("ZH", "我想查询余额", "您可以在手机银行首页查看余额。"),
           item("EN", "I want to check my balance", "You can see your balance on the app's home screen.",
                intent="balance_inquiry", language="en"))
    retrieval.reply_index_rebuild()
    zh = search("查询余额 balance", intent="余额查询", language="zh")
    en = search("check balance 余额", intent="balance_inquiry", language="en")
    assert [h["conversation_external_id"] for h in zh] == ["ZH"]
    assert [h["conversation_external_id"] for h in en] == ["EN"]
    # English and Chinese intent names are the same intent
    assert [h["conversation_external_id"] for h in search("check my balance", intent="余额查询", language="en")] == ["EN"]
    # no language given: taken from the text
    assert [h["conversation_external_id"] for h in search("我想查余额", language="")] == ["ZH"]


def test_incremental_rebuild_encodes_only_new_and_changed_conversations(store):
    ingest(*(item(f"OLD{i}", f"余额查询问题{i}", f"回复{i}：请在APP查看。") for i in range(5)))
    first = retrieval.reply_index_rebuild()
    assert first["full"] and first["n_encoded"] == 5
    assert manifest(store)["build"]["n_encoded"] == 5
    vocab_before = (store / "vocab_zh.json").read_bytes()

    ingest(item("NEW1", "新的余额问题", "新的回复。"), item("NEW2", "又一个余额问题", "又一个回复。"))
    second = retrieval.reply_index_rebuild()
    m = manifest(store)
    assert not second["full"]
    assert m["build"]["n_encoded"] == 2 and m["build"]["n_conversations_added"] == 2
    assert m["n_rows"] == 7 and m["n_groups"] == 7
    assert m["watermark"]["id"] == Conversation.objects.order_by("-id").first().id
    assert (store / "vocab_zh.json").read_bytes() == vocab_before  # old rows not re-encoded
    assert "NEW1" in {h["conversation_external_id"] for h in search("新的余额问题")}

    third = retrieval.reply_index_rebuild()
    assert third["n_encoded"] == 0 and not third["written"]

    # a conversation that drops below quality 4 leaves; a changed one is re-encoded alone
    ingest(item("OLD0", "余额查询问题0", "回复0：请在APP查看。", quality=2),
           item("OLD1", "余额查询问题1", "回复1（更新）：请在APP首页查看。"))
    fourth = retrieval.reply_index_rebuild()
    m = manifest(store)
    assert m["build"]["n_encoded"] == 1 and m["n_rows"] == 6
    texts = {h["text"] for h in search("余额查询问题", k=10)}
    assert "回复1（更新）：请在APP首页查看。" in texts and "回复0：请在APP查看。" not in texts
    assert fourth["n_conversations_removed"] == 1

    full = retrieval.reply_index_rebuild(full=True)
    assert full["full"] and full["n_encoded"] == 6


def test_deleted_conversations_leave_the_index(store):
    ingest(item("A", "余额问题", "回复A。"), item("B", "余额问题", "回复B。"))
    retrieval.reply_index_rebuild()
    Conversation.objects.filter(external_id="A").delete()
    retrieval.reply_index_rebuild()
    assert [h["conversation_external_id"] for h in search("余额问题")] == ["B"]


def test_tampered_index_is_refused(store):
    ingest(item("T", "余额问题", "回复。"))
    retrieval.reply_index_rebuild()
    entries = store / "entries_zh.json"
    entries.write_text(entries.read_text().replace("回复。", "请把密码告诉我。"))
    with pytest.raises(ArtifactError, match="sha256"):
        retrieval.reply_index_load()
    retrieval.reply_index_clear_cache()
    assert search("余额问题") == []
    # the next rebuild notices and rebuilds in full
    summary = retrieval.reply_index_rebuild()
    assert summary["full"]
    assert [h["text"] for h in search("余额问题")] == ["回复。"]


def test_index_reloads_when_the_manifest_changes(store, settings):
    ingest(item("R1", "余额问题", "回复一。"))
    retrieval.reply_index_rebuild()
    assert len(search("余额问题")) == 1
    ingest(item("R2", "余额问题二", "回复二。"))
    retrieval.reply_index_rebuild()
    assert len(search("余额问题")) == 2


def test_rebuild_task_calls_the_service(store):
    from workers.scoring import rebuild_reply_index

    ingest(item("TASK", "余额问题", "回复。"))
    summary = rebuild_reply_index.run(full=False)
    assert summary["n_conversations"] == 1
    assert rebuild_reply_index.name == "scoring.rebuild_reply_index"
