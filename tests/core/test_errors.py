"""Every API error in one shape, ``{"message", "extra"}``; hostile bodies and dates are 400, not 500."""
import re

import pytest
from rest_framework.test import APIClient

from apps.core.services import api_key_create
from apps.core.throttling import ClientRateThrottle
from tests.conversations.test_api import make_items

pytestmark = pytest.mark.django_db

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def _client(*scopes):
    _, key = api_key_create(name="-".join(scopes) or "none", scopes=list(scopes))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def _assert_shape(response, status):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"message", "extra"}, body
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["extra"], dict)
    return body


def test_401_without_a_key(anon_api_client):
    body = _assert_shape(anon_api_client.get("/api/v1/customers/"), 401)
    assert body["extra"]["code"] == "not_authenticated"


def test_401_with_a_wrong_key():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Api-Key nope.nope")
    _assert_shape(client.get("/api/v1/customers/"), 401)


def test_403_for_a_missing_scope():
    body = _assert_shape(_client("read").post("/api/v1/customers/bulk", {"items": []}, format="json"), 403)
    assert body["extra"]["code"] == "permission_denied"


def test_404_for_an_unknown_object_and_an_unknown_route(api_client):
    _assert_shape(api_client.get("/api/v1/customers/NOPE"), 404)
    body = _assert_shape(api_client.get("/api/v1/no-such-endpoint"), 404)
    assert body["extra"]["code"] == "not_found"


def test_405_and_415(api_client):
    _assert_shape(api_client.delete("/api/v1/customers/bulk"), 405)
    body = _assert_shape(api_client.post("/api/v1/customers/bulk", "items", content_type="text/plain"), 415)
    assert body["extra"]["code"] == "unsupported_media_type"


def test_parse_error(api_client):
    body = _assert_shape(api_client.post("/api/v1/customers/bulk", "{not json", content_type="application/json"), 400)
    assert body["extra"]["code"] == "parse_error"


def test_validation_error_names_the_field(api_client):
    body = _assert_shape(api_client.post("/api/v1/customers/", {"display_name": "x"}, format="json"), 400)
    assert "external_id" in body["extra"]["fields"]


def test_429_carries_retry_after(monkeypatch):
    monkeypatch.setattr(ClientRateThrottle, "THROTTLE_RATES", {"default": "1/min", "predict": "1/min", "bulk": "1/min"})
    client = _client("read")
    assert client.get("/api/v1/customers/").status_code == 200
    response = client.get("/api/v1/customers/")
    body = _assert_shape(response, 429)
    assert body["extra"]["code"] == "throttled"
    assert body["extra"]["retry_after"] == int(response["Retry-After"])


@pytest.mark.parametrize("url", ["/api/v1/predict", "/api/v1/predict/batch", "/api/v1/conversations/bulk",
                                 "/api/v1/customers/bulk", "/api/v1/agents/bulk"])
def test_deeply_nested_json_is_400(api_client, url):
    body = "[" * 1000 + "]" * 1000  # 2 KB
    _assert_shape(api_client.post(url, body, content_type="application/json"), 400)
    nested = '{"text": ' + "[" * 100 + "]" * 100 + "}"
    response = api_client.post(url, nested, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")
    assert "deeper" in _assert_shape(response, 400)["message"]
    response = api_client.post(url, nested, content_type="application/json", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "嵌套" in _assert_shape(response, 400)["message"]


def test_nan_and_huge_numbers_are_parse_errors(api_client):
    for raw in ('{"items": [{"external_id": "C1", "age": NaN}]}', '{"items": [{"external_id": "C1", "age": 1e999}]}'):
        _assert_shape(api_client.post("/api/v1/customers/bulk", raw, content_type="application/json"), 400)


@pytest.mark.parametrize("at", ["2026-13-01T00:00:00", "0001-01-01T00:00:00", "9999-12-31T23:59:59-12:00",
                                "not-a-date"])
def test_out_of_range_at_is_400_with_the_field(at):
    body = _assert_shape(_client("read").get("/api/v1/models/production", {"at": at}), 400)
    assert "at" in body["extra"]["fields"]


def test_production_at_answers_rfc3339():
    response = _client("read").get("/api/v1/models/production", {"at": "2026-01-01T00:00:00"})
    assert response.status_code == 200
    assert RFC3339.match(response.json()["at"])


@pytest.mark.parametrize("url,params,field", [
    ("/api/v1/customers/", {"updated_after": "0001-01-01T00:00:00"}, "updated_after"),
    ("/api/v1/conversations/", {"date_to": "9999-12-31"}, "date_to"),
    ("/api/v1/conversations/", {"date_from": "0001-01-01"}, "date_from"),
    ("/api/v1/conversations/", {"started_after": "9999-12-31T23:59:59-12:00"}, "started_after"),
])
def test_far_dates_in_filters_are_400(url, params, field):
    body = _assert_shape(_client("read").get(url, params), 400)
    assert field in body["extra"]["fields"]


@pytest.mark.parametrize("started_at", ["0001-01-01T00:00:00Z", "1900-01-01T00:00:00+08:00", "2999-01-01T00:00:00Z"])
def test_started_at_outside_the_window_is_refused_with_the_field(api_client, started_at):
    item = make_items(1)[0]
    item["started_at"] = started_at
    item.pop("ended_at")
    body = _assert_shape(api_client.post("/api/v1/conversations/bulk", {"items": [item]}, format="json"), 400)
    assert "started_at" in body["extra"]["errors"][0]["fields"]


def test_the_window_is_configurable(api_client, settings):
    import datetime as dt

    settings.CONVERSATION_DATE_MIN = dt.date(1990, 1, 1)
    item = make_items(1)[0]
    for key in ("started_at", "ended_at"):
        item[key] = "1995-06-01T10:00:00+08:00"
    for message in item["messages"]:
        message["sent_at"] = "1995-06-01T10:00:00+08:00"
    assert api_client.post("/api/v1/conversations/bulk", {"items": [item]}, format="json").status_code == 200


def test_stored_dates_come_back_rfc3339(api_client):
    item = make_items(1)[0]
    assert api_client.post("/api/v1/conversations/bulk", {"items": [item]}, format="json").status_code == 200
    body = api_client.get(f"/api/v1/conversations/{item['external_id']}").json()
    for value in (body["started_at"], body["ended_at"], body["created_at"], body["messages"][0]["sent_at"]):
        assert RFC3339.match(value), value


def test_oversized_body_is_413_in_the_shape(api_client, settings):
    settings.API_MAX_BODY_BYTES = 10
    _assert_shape(api_client.post("/api/v1/customers/bulk", {"items": [{"external_id": "C1"}]}, format="json"), 413)


@pytest.mark.parametrize("page_size", ["abc", "0", "-5", "501"])
def test_a_bad_page_size_is_400(page_size):
    body = _assert_shape(_client("read").get("/api/v1/customers/", {"page_size": page_size}), 400)
    assert "page_size" in body["extra"]["fields"]
    assert _client("read").get("/api/v1/conversations/", {"page_size": page_size}).status_code == 400


def test_a_good_page_size_pages(api_client):
    api_client.post("/api/v1/customers/bulk", {"items": [{"external_id": f"C{i}"} for i in range(3)]}, format="json")
    assert len(api_client.get("/api/v1/customers/", {"page_size": 2}).json()["results"]) == 2
