import pytest

from apps.conversations.models import Conversation, Message

pytestmark = pytest.mark.django_db


def make_items(n, start=0, phone=False):
    return [
        {
            "external_id": f"EXT{i:06d}",
            "customer": f"CUST{i % 50:04d}",
            "agent": f"AG{i % 7:03d}",
            "channel": "wechat" if i % 2 else "微信",
            "started_at": "2026-11-01T10:00:00+08:00",
            "ended_at": "2026-11-01T10:05:00+08:00",
            "resolved": bool(i % 3),
            "csat": 1 + i % 5,
            "label_intent": "余额查询",
            "label_sentiment": "正面",
            "messages": [
                {"seq": 0, "speaker": "customer", "text": f"你好，我想查余额{i}" + ("，电话13812345678" if phone else ""),
                 "sent_at": "2026-11-01T10:00:00+08:00"},
                {"seq": 1, "speaker": "agent", "text": "您好，请稍等", "sent_at": "2026-11-01T10:00:30+08:00"},
                {"seq": 2, "speaker": "customer", "text": "好的谢谢", "sent_at": "2026-11-01T10:01:00+08:00"},
                {"seq": 3, "speaker": "agent", "text": "您的余额是5000元", "sent_at": "2026-11-01T10:02:00+08:00"},
            ],
        }
        for i in range(start, start + n)
    ]


def test_bulk_upsert_is_idempotent(api_client):
    items = make_items(1000)
    first = api_client.post("/api/v1/conversations/bulk", {"items": items}, format="json")
    assert first.status_code == 200, first.content
    assert first.json()["created"] == 1000
    counts = (Conversation.objects.count(), Message.objects.count())
    second = api_client.post("/api/v1/conversations/bulk", {"items": items}, format="json")
    assert second.status_code == 200
    assert second.json() == {"created": 0, "updated": 0, "unchanged": 1000, "n": 1000}
    assert (Conversation.objects.count(), Message.objects.count()) == counts == (1000, 4000)


def test_bulk_update_counts_changed_items(api_client):
    api_client.post("/api/v1/conversations/bulk", {"items": make_items(5)}, format="json")
    items = make_items(5)
    items[2]["messages"][0]["text"] = "我要投诉"
    resp = api_client.post("/api/v1/conversations/bulk", {"items": items}, format="json")
    assert resp.json()["updated"] == 1 and resp.json()["unchanged"] == 4
    assert Conversation.objects.get(external_id="EXT000002").customer_text.startswith("我要投诉")
    assert Message.objects.filter(conversation__external_id="EXT000002").count() == 4


def test_bulk_over_limit_is_rejected(api_client):
    resp = api_client.post("/api/v1/conversations/bulk", {"items": make_items(1001)}, format="json")
    assert resp.status_code == 400
    assert "1000" in str(resp.json()) and "1001" in str(resp.json())
    assert Conversation.objects.count() == 0


def test_bulk_errors_name_index_and_field_and_write_nothing(api_client):
    items = make_items(10)
    items[3]["csat"] = "very good"
    items[7]["started_at"] = "yesterday"
    resp = api_client.post("/api/v1/conversations/bulk", {"items": items}, format="json")
    assert resp.status_code == 400
    errors = resp.json()["extra"]["errors"]
    assert [(e["index"], list(e["fields"])) for e in errors] == [(3, ["csat"]), (7, ["started_at"])]
    assert Conversation.objects.count() == 0


def test_message_sequence_numbers_are_all_given_or_none(api_client):
    items = make_items(3)
    del items[1]["messages"][0]["seq"]  # mixed: a missing seq is its position, which may collide
    items[2]["messages"][1]["seq"] = 0  # a duplicate
    for m in items[0]["messages"]:
        del m["seq"]  # none given: positions are the seqs
    resp = api_client.post("/api/v1/conversations/bulk", {"items": items}, format="json")
    assert resp.status_code == 422  # a rule across the messages, not the schema
    errors = resp.json()["extra"]["errors"]
    assert [(e["index"], list(e["fields"])) for e in errors] == [(1, ["messages"]), (2, ["messages"])]
    assert "every message or for none" in str(errors[0]) and "unique" in str(errors[1])
    assert Conversation.objects.count() == 0
    resp = api_client.post("/api/v1/conversations/bulk", {"items": items[:1]}, format="json")
    assert resp.status_code == 200, resp.json()
    assert list(Message.objects.order_by("seq").values_list("seq", flat=True)) == list(range(len(items[0]["messages"])))


def test_pii_is_masked_before_storage(api_client):
    api_client.post("/api/v1/conversations/bulk", {"items": make_items(1, phone=True)}, format="json")
    text = Message.objects.get(seq=0).text
    assert "13812345678" not in text and "[PHONE]" in text
    assert "13812345678" not in Conversation.objects.get().customer_text


def test_channel_aliases_and_sentiment_aliases(api_client):
    api_client.post("/api/v1/conversations/bulk", {"items": make_items(2)}, format="json")
    assert set(Conversation.objects.values_list("channel", flat=True)) == {"wechat"}
    assert set(Conversation.objects.values_list("label_sentiment", flat=True)) == {"positive"}


def test_body_over_limit_is_413(api_client, settings):
    settings.API_MAX_BODY_BYTES = 1000
    resp = api_client.post("/api/v1/conversations/bulk", {"items": make_items(20)}, format="json")
    assert resp.status_code == 413


def test_no_key_no_access(anon_api_client):
    for url in ["/api/v1/conversations/", "/api/v1/customers/", "/api/v1/agents/"]:
        assert anon_api_client.get(url).status_code in (401, 403)
    resp = anon_api_client.post("/api/v1/conversations/bulk", {"items": make_items(1)}, format="json")
    assert resp.status_code in (401, 403)


def test_wrong_key_is_401(anon_api_client):
    anon_api_client.credentials(HTTP_AUTHORIZATION="Api-Key nope.nope")
    assert anon_api_client.get("/api/v1/conversations/").status_code == 401


def test_read_only_key_cannot_write(anon_api_client, db):
    from apps.core.services import api_key_create

    _, key = api_key_create(name="ro", scopes=["read"])
    anon_api_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert anon_api_client.get("/api/v1/conversations/").status_code == 200
    resp = anon_api_client.post("/api/v1/conversations/bulk", {"items": make_items(1)}, format="json")
    assert resp.status_code == 403


def test_list_filters_and_retrieve(api_client):
    api_client.post("/api/v1/conversations/bulk", {"items": make_items(6)}, format="json")
    resp = api_client.get("/api/v1/conversations/", {"agent": "AG001"})
    assert resp.status_code == 200
    assert [c["external_id"] for c in resp.json()["results"]] == ["EXT000001"]
    resp = api_client.get("/api/v1/conversations/", {"resolved": "false"})
    assert {c["external_id"] for c in resp.json()["results"]} == {"EXT000000", "EXT000003"}
    resp = api_client.get("/api/v1/conversations/", {"date_from": "2026-11-02"})
    assert resp.json()["results"] == []
    one = api_client.get("/api/v1/conversations/EXT000004")
    assert one.status_code == 200 and len(one.json()["messages"]) == 4


def test_create_then_conflict_then_update(api_client):
    item = make_items(1)[0]
    assert api_client.post("/api/v1/conversations/", item, format="json").status_code == 201
    assert api_client.post("/api/v1/conversations/", item, format="json").status_code == 409
    item["csat"] = 5
    resp = api_client.put("/api/v1/conversations/EXT000000", item, format="json")
    assert resp.status_code == 200 and resp.json()["csat"] == 5


def test_customers_and_agents_bulk(api_client):
    customers = [{"external_id": f"C{i}", "display_name": "张三丰", "age": 30, "vip_level": "gold"} for i in range(3)]
    resp = api_client.post("/api/v1/customers/bulk", {"items": customers}, format="json")
    assert resp.json()["created"] == 3
    assert api_client.post("/api/v1/customers/bulk", {"items": customers}, format="json").json()["unchanged"] == 3
    assert api_client.get("/api/v1/customers/C1").json()["display_name"] == "张**"
    agents = [{"external_id": "A1", "name": "Li Lei", "team": "cards"}]
    assert api_client.post("/api/v1/agents/bulk", {"items": agents}, format="json").json()["created"] == 1
    bad = api_client.post("/api/v1/agents/bulk", {"items": [{"external_id": "A2"}]}, format="json")
    assert bad.status_code == 400 and bad.json()["extra"]["errors"][0]["fields"].keys() == {"name"}


def test_health_is_anonymous(client):
    resp = client.get("/health")
    assert resp.status_code == 200
    assert resp.json()["database"]["ok"] is True and resp.json()["broker"]["ok"] is True


def test_schema_and_docs(admin_user_client):
    schema = admin_user_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    docs = admin_user_client.get("/api/docs/")
    assert docs.status_code == 200 and b"cdn" not in docs.content.lower()


def test_changed_conversation_bumps_updated_at(api_client):
    api_client.post("/api/v1/conversations/bulk", {"items": make_items(1)}, format="json")
    before = Conversation.objects.get().updated_at
    items = make_items(1)
    items[0]["csat"] = 5 if items[0]["csat"] != 5 else 4
    api_client.post("/api/v1/conversations/bulk", {"items": items}, format="json")
    assert Conversation.objects.get().updated_at > before


@pytest.mark.parametrize("value", ["0290-04-14T17:51:44.3-19:08", "2026-11-01T00:00:00+23:59", "0001-01-01T00:00:00+01:00"])
def test_odd_datetime_filters_never_500(api_client, value):
    resp = api_client.get("/api/v1/conversations/", {"started_before": value})
    assert resp.status_code in (200, 400)


def test_datetime_filter_honours_offsets(api_client):
    api_client.post("/api/v1/conversations/bulk", {"items": make_items(1)}, format="json")  # 02:00 UTC
    assert len(api_client.get("/api/v1/conversations/", {"started_after": "2026-11-01T09:59:00+08:00"}).json()["results"]) == 1
    assert api_client.get("/api/v1/conversations/", {"started_after": "2026-11-01T10:01:00+08:00"}).json()["results"] == []


@pytest.mark.parametrize("url, item, change", [
    ("/api/v1/customers/", {"external_id": "C9", "display_name": "李雷", "vip_level": "gold"}, {"city": "杭州"}),
    ("/api/v1/agents/", {"external_id": "A9", "name": "Han Meimei", "team": "cards"}, {"team": "loans"}),
])
def test_customer_and_agent_create_conflict_update(api_client, url, item, change):
    created = api_client.post(url, item, format="json")
    assert created.status_code == 201
    assert api_client.post(url, item, format="json").status_code == 409
    updated = api_client.put(f"{url}{item['external_id']}", {**item, **change}, format="json")
    assert updated.status_code == 200
    assert all(updated.json()[k] == v for k, v in change.items())


def test_lone_surrogates_and_extreme_offsets_are_400_not_500(api_client):
    import json

    item = make_items(1)[0]
    item["messages"][0]["sent_at"] = "0484-02-06T14:10:56+19:32"
    resp = api_client.post("/api/v1/conversations/bulk", {"items": [item]}, format="json")
    assert resp.status_code in (200, 400)
    body = json.dumps({"items": make_items(1)}, ensure_ascii=False).replace("你好", "\\udbc1")
    resp = api_client.post("/api/v1/conversations/bulk", body, content_type="application/json")
    assert resp.status_code == 400 and "surrogate" in resp.json()["message"]
