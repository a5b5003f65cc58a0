"""API-key verification cache (apps/core/auth.py): hot keys cost no query; revocation is immediate everywhere."""
import hashlib

import pytest
from rest_framework.test import APIClient

from apps.core import auth
from apps.core.models import APIKey
from apps.core.services import api_key_create

pytestmark = pytest.mark.django_db

URL = "/api/v1/customers/"


@pytest.fixture(autouse=True)
def _empty_cache(settings):
    settings.API_KEY_CACHE_SECONDS = 30
    auth.clear_api_key_cache()
    yield
    auth.clear_api_key_cache()


def _client(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def test_a_cached_key_costs_no_query(django_assert_max_num_queries):
    _, key = api_key_create(name="hot", scopes=["read"])
    request = auth.APIKeyAuthentication()
    assert auth.verified_key(key) is not None  # first use: one lookup, then cached
    with django_assert_max_num_queries(0):
        for _ in range(3):
            assert auth.verified_key(key).name == "hot"
    assert request.authenticate_header(None) == "Api-Key"


def test_the_cache_holds_a_digest_never_the_plain_key():
    _, key = api_key_create(name="digest", scopes=["read"])
    assert auth.verified_key(key) is not None
    assert auth._verified.get(key) is None
    assert auth._verified.get(hashlib.sha256(key.encode()).hexdigest()).name == "digest"


def test_a_wrong_key_is_refused_and_never_cached():
    api_key, key = api_key_create(name="right", scopes=["read"])
    prefix = key.partition(".")[0]
    wrong = f"{prefix}.{'x' * 32}"
    assert auth.verified_key(wrong) is None
    assert auth.verified_key(wrong) is None
    assert len(auth._verified) == 0
    assert _client(wrong).get(URL).status_code in (401, 403)
    assert _client(key).get(URL).status_code == 200  # the right key still works
    assert _client(wrong).get(URL).status_code in (401, 403)  # and caching it does not help the wrong one


def test_a_bulk_update_bypasses_the_signals_until_the_ttl_is_over(settings):
    api_key, key = api_key_create(name="to-revoke", scopes=["read"])
    assert _client(key).get(URL).status_code == 200
    # A queryset update sends no signal: the entry stays until the TTL (revoke through the model).
    APIKey.objects.filter(pk=api_key.pk).update(revoked=True)
    assert _client(key).get(URL).status_code == 200
    auth.clear_api_key_cache()  # what the TTL running out does
    assert _client(key).get(URL).status_code in (401, 403)


def test_revoking_in_one_process_drops_the_key_in_every_process():
    from apps.core.cache import TTLCache

    api_key, key = api_key_create(name="shared", scopes=["read"])
    digest = hashlib.sha256(key.encode()).hexdigest()
    other_process = TTLCache(ttl=30, shared_key="api_keys")  # another web process's cache
    assert other_process.get_or_set(digest, lambda: auth.verified_key(key)).name == "shared"
    assert other_process.get(digest) is not None
    api_key.revoked = True
    api_key.save()  # the admin's revoke, in this process
    assert other_process.get(digest) is None  # gone over there at once, not after 30 s


def test_with_ttl_zero_revocation_is_immediate(settings):
    settings.API_KEY_CACHE_SECONDS = 0
    api_key, key = api_key_create(name="no-cache", scopes=["read"])
    assert _client(key).get(URL).status_code == 200
    APIKey.objects.filter(pk=api_key.pk).update(revoked=True)
    assert _client(key).get(URL).status_code in (401, 403)
    assert len(auth._verified) == 0


def test_revoking_through_the_model_drops_the_entry_in_this_process():
    api_key, key = api_key_create(name="saved", scopes=["read"])
    assert _client(key).get(URL).status_code == 200
    api_key.revoked = True
    api_key.save()
    assert _client(key).get(URL).status_code in (401, 403)


def test_an_expired_key_is_refused_even_when_cached(monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    from rest_framework_api_key import models as key_models

    api_key, key = api_key_create(name="expiring", scopes=["read"])
    expiry = timezone.now() + timedelta(minutes=5)
    APIKey.objects.filter(pk=api_key.pk).update(expiry_date=expiry)
    assert auth.verified_key(key) is not None  # cached, with its expiry date
    later = expiry + timedelta(seconds=1)
    monkeypatch.setattr(key_models.timezone, "now", lambda: later)
    assert auth.verified_key(key) is None  # within the cache TTL, but past the key's expiry
