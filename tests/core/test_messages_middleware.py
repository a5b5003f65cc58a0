"""Flash messages: kept for the console and the admin, skipped for the REST API."""
from django.core import checks


def test_console_still_shows_flash_messages(client, staff_user):
    from django.contrib.auth.models import Permission

    staff_user.user_permissions.add(Permission.objects.get(content_type__app_label="conversations",
                                                           codename="view_conversation"))
    client.force_login(staff_user)
    response = client.get("/dashboard/review/start/", follow=True, HTTP_ACCEPT_LANGUAGE="en")  # the queue is empty
    assert response.redirect_chain[-1][0] == "/dashboard/review/"
    assert "The review queue is empty." in response.content.decode()
    assert hasattr(response.wsgi_request, "_messages")


def test_api_requests_skip_the_message_storage(api_client):
    response = api_client.get("/api/v1/agents/")
    assert response.status_code == 200
    assert not hasattr(response.wsgi_request, "_messages")
    assert "messages" not in response.cookies


def test_admin_accepts_the_subclass(db):
    errors = [e for e in checks.run_checks() if e.id == "admin.E409"]
    assert errors == []
