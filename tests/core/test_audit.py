"""Audit trail of sign-ins, key creation (command and admin) and the read-only admin."""
import io
import re

import pytest
from django.core.management import CommandError, call_command

from apps.core.models import APIKey, AuditEvent


@pytest.mark.django_db
def test_failed_and_successful_logins_are_audited_without_password(client, staff_user):
    client.post("/admin/login/", {"username": "manager", "password": "wrong-password!"})
    failed = AuditEvent.objects.get(action="auth.login_failed")
    assert failed.data["username"] == "manager"
    assert "wrong-password!" not in str(failed.data) and "password" not in failed.data
    assert failed.actor is None

    response = client.post("/admin/login/?next=/admin/", {"username": "manager", "password": "pw-123456!"})
    assert response.status_code == 302
    login = AuditEvent.objects.get(action="auth.login")
    assert login.actor == staff_user
    assert login.data["ip"] == "127.0.0.1"


@pytest.mark.django_db
def test_create_api_key_command_prints_a_working_key_once_and_audits():
    out, err = io.StringIO(), io.StringIO()
    call_command("create_api_key", "crm-prod", "--scopes", "read,predict", stdout=out, stderr=err)

    key = out.getvalue().strip()
    api_key = APIKey.objects.get_from_key(key)
    assert api_key.name == "crm-prod"
    assert api_key.scopes == ["read", "predict"]
    assert key not in str(APIKey.objects.filter(pk=api_key.pk).values().get())  # only the hash is stored
    assert api_key.prefix in err.getvalue()
    assert AuditEvent.objects.filter(action="api_key.create", target_id=str(api_key.pk)).exists()


@pytest.mark.django_db
def test_create_api_key_command_rejects_unknown_scope():
    with pytest.raises(CommandError) as excinfo:
        call_command("create_api_key", "crm", "--scopes", "read,root", stdout=io.StringIO())
    assert excinfo.value.returncode == 2
    assert not APIKey.objects.exists()


@pytest.mark.django_db
def test_api_key_with_created_scopes_is_enforced(client):
    from rest_framework.test import APIClient

    out = io.StringIO()
    call_command("create_api_key", "reader", "--scopes", "read", stdout=out, stderr=io.StringIO())
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {out.getvalue().strip()}")
    assert api.get("/api/v1/customers/").status_code == 200
    assert api.post("/api/v1/customers/bulk", {"items": []}, format="json").status_code == 403


@pytest.mark.django_db
def test_admin_creates_key_through_the_service(admin_user_client):
    assert admin_user_client.get("/admin/core/apikey/add/").status_code == 200
    response = admin_user_client.post(
        "/admin/core/apikey/add/", {"name": "from-admin", "scopes": ["read", "predict"]}, follow=True
    )
    assert response.status_code == 200
    api_key = APIKey.objects.get(name="from-admin")
    assert api_key.scopes == ["read", "predict"]
    shown = [str(m) for m in response.context["messages"]]
    assert any(api_key.prefix in m for m in shown)
    # The message is translated (zh-hans by default); find the key by its shape "<prefix>.<secret>".
    key = re.search(re.escape(api_key.prefix) + r"\.[A-Za-z0-9]+", " ".join(shown)).group(0)
    assert APIKey.objects.get_from_key(key).pk == api_key.pk
    event = AuditEvent.objects.get(action="api_key.create", target_id=str(api_key.pk))
    assert event.actor.username == "root"
    assert admin_user_client.get("/admin/core/apikey/").status_code == 200


@pytest.mark.django_db
def test_audit_admin_is_read_only(admin_user_client):
    event = AuditEvent.objects.create(action="model.promote", actor_label="system")
    assert admin_user_client.get("/admin/core/auditevent/").status_code == 200
    assert admin_user_client.get("/admin/core/auditevent/add/").status_code == 403
    assert admin_user_client.post(f"/admin/core/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()
