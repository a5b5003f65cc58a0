"""Per-process TTL caches (cachetools), safe across threads, optionally invalidated through the shared cache.

``TTLCache(ttl=...)`` keeps values for ``ttl`` seconds (a number, or a callable read on each
``set`` so a setting can change it), at most ``maxsize`` of them (least recently used go first).
With ``shared_key``, ``invalidate()`` in any process bumps a generation counter in Django's
default cache (Redis in production) and every process drops its entries on its next ``get``:
one shared-cache read per ``get``, so invalidation takes effect at once wherever the shared cache
is shared (with the local-memory default only within one process). ``sync_seconds`` reads the
shared counter at most that often instead (other processes then see an invalidation within
that many seconds; the invalidating process at once). ``push=True`` (Redis only) has Redis
deliver each invalidation to every process over pub/sub instead: while this process's
subscription is up, a ``get`` reads nothing from the shared cache, and another process's
invalidation drops the entries here as soon as the message arrives (milliseconds). Until the
subscription is up, and whenever it drops (an error, or no answer to the listener's heartbeat
``PING``), the cache reads the shared counter as without it.

When the shared cache cannot be reached, the cache keeps working per process: a warning is
logged once per outage, entries live out their local TTL, ``invalidate()`` reaches this
process only, and the shared cache is tried again every ``OUTAGE_RETRY_SECONDS``. Back in
touch, a generation that changed meanwhile drops this process's entries as usual.
"""
from __future__ import annotations

import logging
import os
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Hashable
from typing import Any

import cachetools
import redis
from django.core.cache import cache as shared_cache
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger(__name__)

_MISSING = object()


# Socket timeouts of the subscription's own connection: a connect or a reply that hangs (a peer
# gone without a reset) fails after this long, and the listener connects again.
PUBSUB_SOCKET_TIMEOUT_SECONDS = 10.0


def _redis_channel():
    """(the default cache's redis client, the invalidation channel) when that cache is Redis, else None."""
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return None
    return backend._cache.get_client(write=True), backend.make_key("ttlcache:invalidations")


def _with_timeouts(client):
    """A client to the same server as ``client``, on a pool of its own with socket timeouts."""
    pool = client.connection_pool
    kwargs = {**pool.connection_kwargs, "socket_timeout": PUBSUB_SOCKET_TIMEOUT_SECONDS,
              "socket_connect_timeout": PUBSUB_SOCKET_TIMEOUT_SECONDS}
    return redis.Redis(connection_pool=redis.ConnectionPool(connection_class=pool.connection_class, **kwargs))


class _Subscription:
    """This process's subscription to the invalidation channel: one daemon thread, started on
    first use in each process (a forked child starts its own), that drops the entries of the
    ``push`` caches named by each message. ``epoch()`` is None unless subscribed, and changes
    with every new subscription, so a cache reads the shared counter once after each one (and
    catches what was published while nobody listened).

    The listener sends a ``PING`` on the subscription every ``HEARTBEAT_SECONDS``; when the
    answer has not come by the next one, it counts the connection as lost (a peer gone without
    a reset, a network partition), so the caches fall back to reading the shared counter while
    it connects again."""

    RETRY_SECONDS = 5.0
    HEARTBEAT_SECONDS = 5.0

    def __init__(self, target: Callable[[], tuple | None] | None = None):
        self._target = target or _redis_channel
        self._lock = threading.Lock()
        self._pid = None
        self._epoch = None
        self._caches: dict[str, weakref.WeakSet] = {}

    def register(self, shared_key: str, cache: "TTLCache") -> None:
        with self._lock:
            self._caches.setdefault(shared_key, weakref.WeakSet()).add(cache)

    def epoch(self):
        if self._pid != os.getpid():
            with self._lock:
                if self._pid != os.getpid():
                    self._pid, self._epoch = os.getpid(), None
                    threading.Thread(target=self._listen, args=(self._pid,), daemon=True,
                                     name="ttlcache-invalidations").start()
        return self._epoch

    def _deliver(self, shared_key: str) -> None:
        with self._lock:
            targets = list(self._caches.get(shared_key, ()))
        for cache in targets:
            cache._drop()

    def _listen(self, pid: int) -> None:
        down = False
        while self._pid == pid:
            pubsub = None
            try:
                target = self._target()
                if target is None:
                    return  # not Redis: the caches read the shared counter
                client, channel = target
                pubsub = _with_timeouts(client).pubsub()
                pubsub.subscribe(channel)
                heard = pinged = time.monotonic()
                while self._pid == pid:
                    message = pubsub.get_message(timeout=min(1.0, self.HEARTBEAT_SECONDS))
                    now = time.monotonic()
                    if message is not None:
                        heard = now
                    if now - pinged >= self.HEARTBEAT_SECONDS:
                        if heard < pinged:
                            raise ConnectionError(f"no answer to PING within {self.HEARTBEAT_SECONDS} s")
                        pubsub.ping()
                        pinged = now
                    if message is None:
                        continue
                    if message["type"] == "subscribe":
                        self._epoch = object()
                        if down:
                            down = False
                            logger.info("cache invalidation channel subscribed again")
                    elif message["type"] == "message":
                        data = message["data"]
                        self._deliver(data.decode() if isinstance(data, bytes) else str(data))
            except Exception:
                self._epoch = None
                if not down:
                    down = True
                    logger.warning("cache invalidation channel lost; reading the shared generation instead",
                                   exc_info=True)
                time.sleep(self.RETRY_SECONDS)
            finally:
                if pubsub is not None:
                    try:
                        pubsub.close()
                    except Exception:
                        pass


_subscription = _Subscription()


class TTLCache:
    # Seconds between attempts to reach the shared cache while it is unreachable.
    OUTAGE_RETRY_SECONDS = 5.0

    def __init__(self, *, ttl: float | Callable[[], float], maxsize: int = 1024, shared_key: str | None = None,
                 sync_seconds: float = 0.0, push: bool = False, timer: Callable[[], float] = time.monotonic):
        self._ttl = ttl
        self._timer = timer
        self._sync_seconds = sync_seconds
        self._synced_at = float("-inf")
        self._lock = threading.Lock()
        self._shared_key = f"ttlcache:generation:{shared_key}" if shared_key else None
        self._generation: Any = None
        self._shared_down = False
        self._data = cachetools.TLRUCache(maxsize=maxsize, ttu=self._expiry, timer=timer)
        self._push = bool(push and shared_key)
        self._synced_epoch = None  # the subscription this cache last read the shared counter under
        if self._push:
            _subscription.register(self._shared_key, self)

    def _expiry(self, key, value, now: float) -> float:
        ttl = self._ttl() if callable(self._ttl) else self._ttl
        return now + float(ttl or 0)

    def _shared_generation(self) -> Any:
        generation = shared_cache.get(self._shared_key)
        if generation is None:  # first use, or evicted: start one (another process may win the add)
            shared_cache.add(self._shared_key, uuid.uuid4().hex, None)
            generation = shared_cache.get(self._shared_key)
        return generation

    def _shared_failed(self, action: str) -> None:
        """Note that the shared cache failed; warn once per outage."""
        with self._lock:
            was_down, self._shared_down = self._shared_down, True
            # The next attempt waits OUTAGE_RETRY_SECONDS, whatever ``sync_seconds`` is.
            self._synced_at = self._timer() + self.OUTAGE_RETRY_SECONDS - self._sync_seconds
        if not was_down:
            logger.warning("shared cache unreachable (%s %s); caching per process until it is back",
                           action, self._shared_key, exc_info=True)

    def _drop(self) -> None:
        with self._lock:
            self._data.clear()

    def _sync(self) -> None:
        """Drop every entry when another process invalidated since this one last looked."""
        if self._shared_key is None:
            return
        epoch = _subscription.epoch() if self._push else None
        if epoch is not None and epoch is self._synced_epoch:
            return  # subscribed: invalidations arrive as messages
        now = self._timer()
        if now - self._synced_at < self._sync_seconds:
            return
        try:
            generation = self._shared_generation()
        except Exception:  # the backend's own error type (redis, memcached, database) varies
            self._shared_failed("reading")
            return
        with self._lock:
            if self._shared_down:
                self._shared_down = False
                logger.info("shared cache reachable again (%s)", self._shared_key)
            if generation != self._generation:
                self._data.clear()
                self._generation = generation
            self._synced_at = now
            self._synced_epoch = epoch

    def get(self, key: Hashable, default: Any = None) -> Any:
        self._sync()
        with self._lock:
            return self._data.get(key, default)

    def set(self, key: Hashable, value: Any) -> None:
        ttl = self._ttl() if callable(self._ttl) else self._ttl
        if not ttl or ttl <= 0:
            return
        with self._lock:
            self._data[key] = value

    def get_or_set(self, key: Hashable, factory: Callable[[], Any]) -> Any:
        """The cached value, or ``factory()`` (cached unless it is None)."""
        value = self.get(key, _MISSING)
        if value is _MISSING:
            value = factory()
            if value is not None:
                self.set(key, value)
        return value

    def invalidate(self) -> None:
        """Drop every entry here, and (with ``shared_key``) in every process on its next ``get``."""
        with self._lock:
            self._data.clear()
            self._synced_at = float("-inf")  # the next get reads the new generation
        if self._shared_key is not None:
            try:
                shared_cache.set(self._shared_key, uuid.uuid4().hex, None)
                if self._push and (target := _redis_channel()) is not None:
                    client, channel = target
                    client.publish(channel, self._shared_key)
            except Exception:  # the other processes drop theirs when their local TTL ends
                self._shared_failed("renewing")

    def __len__(self) -> int:
        with self._lock:
            self._data.expire()
            return len(self._data)
