"""apps/core/cache_backends.py: Django's Redis cache with one client per connection pool."""
import os
import threading

import pytest
import redis
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache

from apps.core.cache_backends import RedisCache

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def backend():
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip(f"no Redis at {REDIS_URL}")
    cache = RedisCache(REDIS_URL, {"KEY_PREFIX": "test-cache-backends"})
    yield cache
    cache.clear()


def test_every_operation_and_thread_shares_one_client(backend):
    clients = set()

    def work(i):
        backend.set(f"k{i}", {"n": i})
        assert backend.get(f"k{i}") == {"n": i}
        clients.add(id(backend._cache.get_client()))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(clients) == 1
    assert backend._cache.get_client(write=True) is backend._cache.get_client()
    # Django's own client builds a new one per call: what this backend exists to avoid.
    django_cache = DjangoRedisCache(REDIS_URL, {})
    assert django_cache._cache.get_client() is not django_cache._cache.get_client()


def test_values_written_by_django_s_backend_read_back_unchanged(backend):
    DjangoRedisCache(REDIS_URL, {"KEY_PREFIX": "test-cache-backends"}).set("shared", [1, "二", 3.0])
    assert backend.get("shared") == [1, "二", 3.0]
    backend.set("counter", 0)
    assert backend.incr("counter") == 1 and backend.get("counter") == 1


def test_a_redis_cache_url_selects_it(settings):
    if not os.environ.get("CACHE_URL", "").startswith("redis"):
        pytest.skip("CACHE_URL is not a Redis URL in this run")
    assert settings.CACHES["default"]["BACKEND"] == "apps.core.cache_backends.RedisCache"
    from django.core.cache import cache

    assert cache._cache.get_client() is cache._cache.get_client()
