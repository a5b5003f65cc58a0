"""apps/core/cache.py: per-process TTL cache, invalidated across processes through the shared cache."""
import logging
import socket
import threading

import pytest

from apps.core.cache import TTLCache


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_values_expire_after_the_ttl():
    clock = Clock()
    cache = TTLCache(ttl=30, timer=clock)
    cache.set("a", 1)
    clock.now += 29
    assert cache.get("a") == 1
    clock.now += 2
    assert cache.get("a") is None and len(cache) == 0


def test_the_ttl_may_come_from_a_callable_read_at_set_time():
    clock, ttl = Clock(), {"s": 10}
    cache = TTLCache(ttl=lambda: ttl["s"], timer=clock)
    cache.set("a", 1)
    ttl["s"] = 0
    cache.set("b", 2)  # a zero TTL caches nothing
    clock.now += 5
    assert cache.get("a") == 1 and cache.get("b") is None


def test_least_recently_used_values_go_first_when_full():
    cache = TTLCache(ttl=30, maxsize=2)
    cache.set("a", 1)
    cache.set("b", 2)
    cache.get("a")
    cache.set("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)


def test_get_or_set_calls_the_factory_once_and_never_caches_none():
    calls = []
    cache = TTLCache(ttl=30)
    assert cache.get_or_set("k", lambda: calls.append(1) or "v") == "v"
    assert cache.get_or_set("k", lambda: calls.append(1) or "w") == "v"
    assert cache.get_or_set("none", lambda: calls.append(1)) is None
    assert cache.get_or_set("none", lambda: calls.append(1)) is None
    assert len(calls) == 3


def test_invalidate_reaches_every_cache_sharing_the_key():
    here, there, unrelated = (TTLCache(ttl=30, shared_key="t1"), TTLCache(ttl=30, shared_key="t1"),
                              TTLCache(ttl=30, shared_key="t2"))
    for cache in (here, there, unrelated):
        cache.get("warm-up")
        cache.set("k", "v")
    here.invalidate()
    assert here.get("k") is None and there.get("k") is None
    assert unrelated.get("k") == "v"


def test_threads_share_one_cache_safely():
    cache = TTLCache(ttl=30, maxsize=64)
    errors = []

    def work(n):
        try:
            for i in range(500):
                cache.set((n, i % 80), i)
                cache.get((n, (i * 7) % 80))
        except Exception as exc:  # pragma: no cover - what the test looks for
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(cache) <= 64


@pytest.fixture(autouse=True)
def _clean_shared_cache():
    from django.core.cache import cache

    yield
    cache.delete_many(["ttlcache:generation:t1", "ttlcache:generation:t2", "ttlcache:generation:t3"])


def test_sync_seconds_reads_the_shared_generation_at_most_that_often():
    clock = Clock()
    here = TTLCache(ttl=300, shared_key="t1", timer=clock)
    there = TTLCache(ttl=300, shared_key="t1", sync_seconds=5, timer=clock)
    there.get("warm-up")
    there.set("k", "v")
    assert there.get("k") == "v"
    here.invalidate()
    clock.now += 4
    assert there.get("k") == "v"  # not looked at the shared generation yet
    clock.now += 2
    assert there.get("k") is None


def test_sync_seconds_never_delays_the_invalidating_process():
    cache = TTLCache(ttl=300, shared_key="t1", sync_seconds=60)
    cache.get("warm-up")
    cache.set("k", "v")
    cache.invalidate()
    assert cache.get("k") is None


def _dead_caches() -> dict:
    """Django's default cache on a Redis port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                        "LOCATION": f"redis://127.0.0.1:{port}/0"}}


@pytest.fixture
def dead_cache(settings):
    settings.CACHES = _dead_caches()


def test_an_unreachable_shared_cache_leaves_a_per_process_cache(dead_cache, caplog):
    clock = Clock()
    cache = TTLCache(ttl=30, shared_key="t1", timer=clock)
    with caplog.at_level(logging.WARNING, logger="apps.core.cache"):
        assert cache.get("k") is None
        cache.set("k", "v")
        assert cache.get("k") == "v"
        assert cache.get_or_set("other", lambda: "w") == "w"
        cache.invalidate()  # reaches this process only
        assert cache.get("k") is None
        cache.set("k", "v2")
        clock.now += 31
        assert cache.get("k") is None  # the local TTL still applies
    warnings = [r for r in caplog.records if r.name == "apps.core.cache"]
    assert warnings and all(r.levelno == logging.WARNING for r in warnings)
    assert len(warnings) < 5  # one per outage and retry, not one per call


def test_the_shared_generation_is_read_again_after_an_outage(settings):
    clock = Clock()
    here = TTLCache(ttl=300, shared_key="t1", timer=clock)
    there = TTLCache(ttl=300, shared_key="t1", timer=clock)
    there.get("warm-up")
    there.set("k", "v")
    working = settings.CACHES
    settings.CACHES = _dead_caches()
    assert there.get("k") == "v"
    settings.CACHES = working
    here.invalidate()
    assert there.get("k") == "v"  # still waiting to retry the shared cache
    clock.now += TTLCache.OUTAGE_RETRY_SECONDS
    assert there.get("k") is None


# --- push=True: invalidations delivered over Redis pub/sub ---------------------------------

def _subscribed() -> None:
    """Wait for this process's subscription to the invalidation channel (Redis only)."""
    import time

    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    from apps.core.cache import _subscription

    if not isinstance(caches["default"], RedisCache):
        pytest.skip("pushed invalidations need Redis as the shared cache (CACHE_URL)")
    deadline = time.monotonic() + 10
    while _subscription.epoch() is None:
        assert time.monotonic() < deadline, "never subscribed to the invalidation channel"
        time.sleep(0.01)


def test_a_subscribed_pushed_cache_reads_nothing_from_the_shared_cache():
    from django.core.cache import cache as shared

    pushed = TTLCache(ttl=300, shared_key="t3", push=True)
    _subscribed()
    pushed.get("warm-up")  # reads the shared generation once under this subscription
    pushed.set("k", "v")
    shared.delete("ttlcache:generation:t3")
    for _ in range(5):
        assert pushed.get("k") == "v"
    assert shared.get("ttlcache:generation:t3") is None  # a read would have started a new one
    TTLCache(ttl=300, shared_key="t3").get("k")  # a polling cache reads it on every get
    assert shared.get("ttlcache:generation:t3") is not None


def test_an_invalidation_in_another_process_reaches_a_pushed_cache():
    import os
    import subprocess
    import sys
    import time

    pushed = TTLCache(ttl=300, shared_key="t3", push=True)
    _subscribed()
    pushed.get("warm-up")
    pushed.set("k", "v")
    script = ("import django; django.setup(); from apps.core.cache import TTLCache; "
              "TTLCache(ttl=1, shared_key='t3', push=True).invalidate()")
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="csplatform.settings")
    subprocess.run([sys.executable, "-c", script], check=True, env=env, timeout=60)
    deadline = time.monotonic() + 10
    while pushed.get("k") == "v" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert pushed.get("k") is None


class _FreezableProxy:
    """A TCP proxy on 127.0.0.1 to the Redis server; ``freeze()`` stops forwarding in both
    directions and keeps the sockets open (a peer gone without a reset)."""

    def __init__(self, host: str, port: int):
        import socket
        import threading

        self.frozen = threading.Event()
        self._upstream = (host, port)
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._sockets = [self._server]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        import socket
        import threading

        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self._upstream)
            self._sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source, sink):
        while True:
            try:
                data = source.recv(65536)
            except OSError:
                return
            if not data:
                return
            if not self.frozen.is_set():
                sink.sendall(data)

    def freeze(self):
        self.frozen.set()

    def close(self):
        for sock in self._sockets:
            sock.close()


def test_a_subscription_that_stops_answering_is_dropped():
    import time

    import redis
    from django.core.cache import caches

    from apps.core.cache import _Subscription

    _subscribed()  # skips unless the shared cache is Redis
    server = caches["default"]._cache.get_client(write=True).connection_pool.connection_kwargs
    proxy = _FreezableProxy(server.get("host", "127.0.0.1"), server.get("port", 6379))
    subscription = _Subscription(target=lambda: (redis.Redis(host="127.0.0.1", port=proxy.port, socket_timeout=1),
                                                 "test-ttlcache-heartbeat"))
    subscription.HEARTBEAT_SECONDS = 0.2
    subscription.RETRY_SECONDS = 0.2
    try:
        deadline = time.monotonic() + 10
        while subscription.epoch() is None:
            assert time.monotonic() < deadline, "never subscribed through the proxy"
            time.sleep(0.01)
        time.sleep(1.0)
        assert subscription.epoch() is not None  # answered heartbeats keep it up
        proxy.freeze()
        deadline = time.monotonic() + 10
        while subscription.epoch() is not None:
            assert time.monotonic() < deadline, "a subscription that stopped answering was still trusted"
            time.sleep(0.01)
    finally:
        subscription._pid = None  # stops the listener thread
        proxy.close()
