"""Customer API: identifiers and filters refuse what would break headers or queries."""
import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("external_id", ["C1\r\nX-Injected: 1", "C\t1", "C\x001", "C\u20281"])
def test_control_characters_in_identifiers_are_refused(api_client, external_id):
    response = api_client.post("/api/v1/customers/bulk", {"items": [{"external_id": external_id}]}, format="json")
    assert response.status_code == 400
    assert "external_id" in response.json()["extra"]["errors"][0]["fields"]


@pytest.mark.parametrize("url, item, field", [
    ("/api/v1/agents/bulk", {"external_id": "A\n1", "name": "x"}, "external_id"),
    ("/api/v1/conversations/bulk", None, "customer"),
])
def test_other_identifiers_are_checked_too(api_client, url, item, field):
    from tests.conversations.test_api import make_items

    if item is None:
        item = make_items(1)[0]
        item["customer"] = "C\r\n1"
    response = api_client.post(url, {"items": [item]}, format="json")
    assert response.status_code == 400
    assert field in response.json()["extra"]["errors"][0]["fields"]


def test_chinese_identifiers_are_fine(api_client):
    response = api_client.post("/api/v1/customers/bulk", {"items": [{"external_id": "客户-001"}]}, format="json")
    assert response.status_code == 200 and response.json()["created"] == 1
    assert api_client.get("/api/v1/customers/客户-001").status_code == 200
