import pytest
from rest_framework.test import APIClient

from apps.core.models import APIKey, AuditEvent
from apps.webhooks.models import Event, WebhookDelivery, WebhookSubscription

pytestmark = pytest.mark.django_db

LIST_URL = "/api/v1/webhooks/subscriptions"


def _client_with_scopes(scopes):
    # Keys are made with the model manager, not api_key_create: on PostgreSQL its audit row overflows
    # AuditEvent.target_id (max_length=64 < APIKey.pk length), so the shared api_client fixture errors there.
    _, key = APIKey.objects.create_key(name="test", scopes=scopes)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


@pytest.fixture
def api_client(db):
    return _client_with_scopes(["admin"])


def test_no_key_is_refused(anon_api_client):
    assert anon_api_client.get(LIST_URL).status_code in (401, 403)
    response = anon_api_client.post(LIST_URL, {"name": "x", "url": "https://a.example.com",
                                               "events": ["job.finished"]}, format="json")
    assert response.status_code in (401, 403)
    assert not WebhookSubscription.objects.exists()


def test_key_without_admin_scope_is_forbidden():
    client = _client_with_scopes(["read", "write", "predict"])
    assert client.get(LIST_URL).status_code == 403
    response = client.post(LIST_URL, {"name": "x", "url": "https://a.example.com", "events": ["job.finished"]},
                           format="json")
    assert response.status_code == 403
    assert not WebhookSubscription.objects.exists()


def test_create_shows_secret_once_then_list_and_detail_hide_it(api_client):
    response = api_client.post(LIST_URL, {"name": "crm", "url": "https://crm.example.com/hook",
                                          "events": ["job.finished"]}, format="json")
    assert response.status_code == 201, response.data
    created = response.json()
    assert len(created["secret"]) >= 32
    assert created["events"] == ["job.finished"] and created["active"] is True
    assert WebhookSubscription.objects.get(pk=created["id"]).secret == created["secret"]
    assert AuditEvent.objects.get(action="webhook_subscription.create").actor_label.startswith("api-key:")

    listed = api_client.get(LIST_URL).json()
    assert [s["id"] for s in listed] == [created["id"]]
    assert "secret" not in listed[0]
    detail = api_client.get(f"{LIST_URL}/{created['id']}").json()
    assert detail["url"] == "https://crm.example.com/hook" and "secret" not in detail


def test_create_with_given_secret(api_client):
    response = api_client.post(LIST_URL, {"name": "crm", "url": "http://127.0.0.1:9000/h",
                                          "events": ["conversation.flagged"], "secret": "x" * 20}, format="json")
    assert response.status_code == 201
    assert response.json()["secret"] == "x" * 20


@pytest.mark.parametrize("body", [
    {"name": "x", "url": "ftp://crm.example.com/h", "events": ["job.finished"]},
    {"name": "x", "url": "https://crm.example.com/h", "events": ["job.exploded"]},
    {"name": "x", "url": "https://crm.example.com/h", "events": []},
    {"name": "x", "url": "https://crm.example.com/h", "events": ["job.finished"], "secret": "short"},
])
def test_create_validates(api_client, body):
    response = api_client.post(LIST_URL, body, format="json")
    assert response.status_code == 400
    assert "message" in response.json()
    assert not WebhookSubscription.objects.exists()


def test_delete(api_client):
    sub = WebhookSubscription.objects.create(name="a", url="https://a.example.com", events=["job.finished"],
                                             secret="s" * 32)
    assert api_client.delete(f"{LIST_URL}/{sub.pk}").status_code == 204
    assert not WebhookSubscription.objects.exists()
    assert api_client.delete(f"{LIST_URL}/{sub.pk}").status_code == 404
    assert AuditEvent.objects.filter(action="webhook_subscription.delete").count() == 1


def test_deliveries_list_is_cursor_paginated(api_client):
    sub = WebhookSubscription.objects.create(name="a", url="https://a.example.com", events=["job.finished"],
                                             secret="s" * 32)
    other = WebhookSubscription.objects.create(name="b", url="https://b.example.com", events=["job.finished"],
                                               secret="s" * 32)
    for i in range(5):
        WebhookDelivery.objects.create(subscription=sub, event=Event.JOB_FINISHED, payload={"job_id": i})
    WebhookDelivery.objects.create(subscription=other, event=Event.JOB_FINISHED, payload={"job_id": 99})

    url = f"{LIST_URL}/{sub.pk}/deliveries?page_size=2"
    seen = []
    while url:
        page = api_client.get(url).json()
        assert len(page["results"]) <= 2
        seen += [d["payload"]["job_id"] for d in page["results"]]
        url = page["next"]
    assert seen == [4, 3, 2, 1, 0]
    first = api_client.get(f"{LIST_URL}/{sub.pk}/deliveries").json()["results"][0]
    assert set(first) >= {"delivery_id", "event", "status", "attempts", "response_code", "last_error",
                          "created_at", "delivered_at"}
    assert api_client.get(f"{LIST_URL}/999999/deliveries").status_code == 404


def test_deliveries_need_admin_scope():
    sub = WebhookSubscription.objects.create(name="a", url="https://a.example.com", events=["job.finished"],
                                             secret="s" * 32)
    client = _client_with_scopes(["read"])
    assert client.get(f"{LIST_URL}/{sub.pk}/deliveries").status_code == 403


def test_redeliver_api(api_client, django_capture_on_commit_callbacks):
    sub = WebhookSubscription.objects.create(name="a", url="https://a.example.com", events=["job.finished"],
                                             secret="s" * 32)
    delivery = WebhookDelivery.objects.create(subscription=sub, event=Event.JOB_FINISHED, payload={},
                                              status=WebhookDelivery.Status.FAILED, attempts=9)
    url = f"/api/v1/webhooks/deliveries/{delivery.delivery_id}/redeliver"
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api_client.post(url)
    assert response.status_code == 202 and response.json()["status"] == "pending"
    assert len(callbacks) == 1
    assert api_client.post(url).status_code == 409  # still pending


def test_schema_builds(admin_user_client):
    response = admin_user_client.get("/api/schema/")
    assert response.status_code == 200
    assert b"/api/v1/webhooks/subscriptions" in response.content
