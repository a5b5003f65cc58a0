"""Least privilege: a signed-in user's API scopes come from Django permissions, not the staff flag;
the admin sign-in locks out after repeated failures."""
import pytest
from django.contrib.auth.models import Group, Permission
from rest_framework.test import APIClient

from apps.core.roles import Role, roles_setup

pytestmark = pytest.mark.django_db

READ, WRITE = "/api/v1/customers/", "/api/v1/customers/bulk"
ADMIN = "/api/v1/webhooks/subscriptions"


def _session(django_user_model, *, groups=(), perms=(), superuser=False):
    user = django_user_model.objects.create_user(username=f"u{django_user_model.objects.count()}",
                                                 password="pw-123456!", is_staff=True, is_superuser=superuser)
    for name in groups:
        user.groups.add(Group.objects.get(name=name))
    for codename in perms:
        user.user_permissions.add(Permission.objects.get(content_type__app_label="core", codename=codename))
    client = APIClient()
    client.force_login(user)
    return client


def _statuses(client):
    return (client.get(READ).status_code,
            client.post(WRITE, {"items": [{"external_id": "C1"}]}, format="json").status_code,
            client.get(ADMIN).status_code)


def test_staff_without_permissions_gets_no_api_scope(django_user_model):
    assert _statuses(_session(django_user_model)) == (403, 403, 403)


def test_a_permission_grants_exactly_its_scope(django_user_model):
    assert _statuses(_session(django_user_model, perms=["api_read"])) == (200, 403, 403)
    assert _statuses(_session(django_user_model, perms=["api_read", "api_write"])) == (200, 200, 403)


def test_api_admin_and_superuser_have_every_scope(django_user_model):
    assert _statuses(_session(django_user_model, perms=["api_admin"])) == (200, 200, 200)
    assert _statuses(_session(django_user_model, superuser=True)) == (200, 200, 200)


@pytest.mark.parametrize("role, expected", [
    (Role.MANAGER, (200, 200, 403)),
    (Role.TEAM_LEAD, (200, 403, 403)),
    (Role.REVIEWER, (200, 403, 403)),
    (Role.AGENT, (403, 403, 403)),
])
def test_role_groups_carry_their_api_scopes(django_user_model, role, expected):
    roles_setup()
    assert _statuses(_session(django_user_model, groups=[role])) == expected


def test_admin_login_locks_out_after_repeated_failures(client, django_user_model, settings):
    settings.AXES_FAILURE_LIMIT = 3
    django_user_model.objects.create_superuser(username="boss", password="right-pw-123!", email="b@example.com")
    for _ in range(3):
        response = client.post("/admin/login/", {"username": "boss", "password": "wrong"})
        assert response.status_code in (200, 429)
    locked = client.post("/admin/login/", {"username": "boss", "password": "right-pw-123!"})
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session


def test_other_users_and_good_passwords_are_not_locked_out(client, django_user_model, settings):
    settings.AXES_FAILURE_LIMIT = 3
    django_user_model.objects.create_superuser(username="boss", password="right-pw-123!", email="b@example.com")
    django_user_model.objects.create_superuser(username="other", password="right-pw-456!", email="o@example.com")
    client.post("/admin/login/", {"username": "boss", "password": "wrong"})
    assert client.post("/admin/login/", {"username": "boss", "password": "right-pw-123!"}).status_code == 302
    for _ in range(3):
        client.post("/admin/login/", {"username": "boss", "password": "wrong"})
    assert client.post("/admin/login/", {"username": "other", "password": "right-pw-456!"}).status_code == 302
