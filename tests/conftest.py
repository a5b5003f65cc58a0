"""Fixtures shared by the Django tests. Factories are imported lazily so that
``tests/ml`` can run without Django (``-p no:django``)."""
import pytest


@pytest.fixture
def staff_user(db, django_user_model):
    return django_user_model.objects.create_user(username="manager", password="pw-123456!", is_staff=True)


@pytest.fixture
def admin_user_client(client, django_user_model, db):
    user = django_user_model.objects.create_superuser(username="root", password="pw-123456!", email="r@example.com")
    client.force_login(user)
    return client


@pytest.fixture
def api_key(db):
    from apps.core.services import api_key_create

    _, key = api_key_create(name="test-crm", scopes=["read", "write", "predict", "admin"])
    return key


@pytest.fixture
def api_client(api_key):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key}")
    return client


@pytest.fixture
def anon_api_client():
    from rest_framework.test import APIClient

    return APIClient()
