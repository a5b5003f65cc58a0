"""The SDK against the real platform (pytest-django ``live_server``), when run from the repository:

    .venv/bin/python -m pytest clients/python/tests      # from the repository root

Outside the repository (no Django project) these tests are skipped.
"""
import os

import pytest

pytest.importorskip("django")
pytest.importorskip("pytest_django")
if not os.environ.get("DJANGO_SETTINGS_MODULE"):
    try:
        from django.conf import settings as _settings

        _settings.INSTALLED_APPS  # noqa: B018  (configured by pytest-django from the repo's pytest.ini)
    except Exception:
        pytest.skip("not run from the platform repository", allow_module_level=True)

from csplatform_client import AuthenticationError, CSPlatformClient, PermissionDenied, UpsertResult  # noqa: E402


@pytest.fixture
def platform(live_server, transactional_db):
    from apps.core.services import api_key_create

    _, key = api_key_create(name="sdk-live-test", scopes=["read", "write", "predict"])
    return CSPlatformClient(live_server.url, key, max_retries=1, timeout=30)


def test_health_against_the_live_app(platform):
    health = platform.health()
    assert health["status"] in ("ok", "unavailable")
    assert health["database"]["ok"] is True


def test_bulk_upsert_customers_is_idempotent_over_http(platform):
    items = [{"external_id": f"sdk-{i}", "name": f"SDK customer {i}"} for i in range(5)]
    first = platform.upsert_customers(items, chunk_size=2)
    assert first == UpsertResult(created=5, updated=0, unchanged=0)
    again = platform.upsert_customers(items)
    assert again == UpsertResult(created=0, updated=0, unchanged=5)


def test_wrong_key_and_missing_scope_raise_typed_errors(live_server, transactional_db):
    from apps.core.services import api_key_create

    with pytest.raises(AuthenticationError):
        CSPlatformClient(live_server.url, "nope.nope", max_retries=0).get_job(1)
    _, read_only = api_key_create(name="sdk-read-only", scopes=["read"])
    with pytest.raises(PermissionDenied):
        CSPlatformClient(live_server.url, read_only, max_retries=0).predict("hello")
