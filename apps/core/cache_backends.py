"""Django's Redis cache backend, with one ``redis.Redis`` client per connection pool.

Django's ``RedisCacheClient`` builds a new ``redis.Redis`` for every cache operation, and
building one copies the library's table of response callbacks (about 170 entries): on the
predict path, which reads the cache on every request, that costs about as much as the round
trip to Redis itself. A ``redis.Redis`` is safe to share between threads (each command takes a
connection from the pool and gives it back) and its pool reconnects after a fork, so one client
per pool serves every thread of the process. Everything else is Django's backend unchanged.

``settings.CACHES`` selects this backend wherever ``CACHE_URL`` selects Django's Redis backend.
"""
from django.core.cache.backends import redis as django_redis


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(pool)
        if client is None:  # two threads may both build one: either serves
            client = self._clients[pool] = self._client(connection_pool=pool)
        return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient
