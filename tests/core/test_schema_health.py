import io

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_openapi_schema_validates_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out), stderr=io.StringIO())
    text = out.read_text()
    assert "/api/v1/conversations/bulk" in text and "ApiKeyAuth" in text


def test_health_reports_503_when_broker_is_down(client, monkeypatch):
    from csplatform.celery import app

    previous = app.conf.broker_url  # read before the variable below shadows it
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:1/0")  # Celery reads the variable first
    app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    try:
        resp = client.get("/health")
    finally:
        app.conf.broker_url = previous
    assert resp.status_code == 503
    assert resp.json()["broker"]["ok"] is False and resp.json()["database"]["ok"] is True


def test_health_is_never_cached(client):
    assert "no-cache" in client.get("/health")["Cache-Control"]


def test_every_operation_documents_the_error_answers(admin_user_client):
    schema = admin_user_client.get("/api/schema/?format=json").json()
    assert schema["components"]["schemas"]["Error"]["required"] == ["message", "extra"]
    operations = [(path, method, op) for path, item in schema["paths"].items()
                  for method, op in item.items() if method in {"get", "post", "put", "patch", "delete"}]
    assert len(operations) >= 20
    for path, method, op in operations:
        for status in ("400", "401", "403", "404", "406", "415", "429"):
            content = op["responses"][status]["content"]["application/json"]["schema"]
            assert content == {"$ref": "#/components/schemas/Error"}, (path, method, status)


def test_a_regex_field_documents_its_own_pattern(admin_user_client):
    from apps.qa.serializers import CriterionInSerializer

    schema = admin_user_client.get("/api/schema/?format=json").json()
    criterion = schema["components"]["schemas"]["CriterionInRequest"]["properties"]["key"]
    assert criterion["pattern"] == CriterionInSerializer().fields["key"].validators[-1].regex.pattern
