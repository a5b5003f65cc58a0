"""Per-client throttling in the shared cache (Redis when CACHE_URL points to it).

The client is the API key (its prefix) or the signed-in user; a view picks the
rate with ``throttle_scope`` (``predict``, ``bulk``; ``default`` otherwise).

Fixed-window counter: one integer per client, scope and window (``rate`` seconds),
incremented atomically. On Redis that is one ``INCR`` per request, plus an ``EXPIRE`` on
the first request of a window (cheaper than a pipelined ``SET NX EX`` + ``INCR``; a process
killed between the two leaves one stale counter of a past window, which never throttles anyone). On any other cache backend ``incr`` with an ``add`` on the
first request of a window.

Leases: far from its limit, a process reserves a block of counts at once (``INCRBY n``) and
hands them to its next requests without a round trip; the block shrinks as the count nears
the limit (``remaining // LEASE_DIVISOR``, at most ``LEASE_MAX``) down to one, so the last
``LEASE_DIVISOR`` requests of a window are counted one by one, exactly as without leases.
Every request still gets a unique position in the window's count, so nobody is ever admitted
beyond the limit; counts reserved but not used before the window ends make a client with
several busy processes refused at most a few requests early (a bounded, tiny fraction:
each block is at most 1/``LEASE_DIVISOR`` of what remained when it was taken).

Why not DRF's ``ScopedRateThrottle``: it reads a list of every request timestamp of the window
from the cache and writes it back on each request, so its cost grows with the traffic and at
the predict rate it costs more than the prediction. ``bench/throttle_bench.py`` measures both.

When the shared cache cannot be reached the throttle lets requests through (fails open) and
logs a warning at most once a minute: an outage of the cache must not take the API down with it.

Trade-off of a fixed window: a client may send up to twice its rate across a window
boundary (the end of one window and the start of the next). Requests refused with 429
count too, so a client that keeps hammering gets nothing more until the window ends.
``wait()`` (→ ``Retry-After``) is the time left in the current window.
"""
from __future__ import annotations

import logging
import math
import threading
import time

from django.core.cache import caches
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from .auth import APIKeyUser

logger = logging.getLogger(__name__)

_DURATIONS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
OUTAGE_WARNING_SECONDS = 60.0
_last_outage_warning = [float("-inf")]
_parsed: dict[str, tuple[int, int]] = {}


def parse_rate(rate: str) -> tuple[int, int]:
    """``"120000/min"`` → ``(120000, 60)`` (memoised: the rates are a handful of strings)."""
    parsed = _parsed.get(rate)
    if parsed is None:
        num, period = rate.split("/")
        parsed = (int(num), _DURATIONS[period.strip()[0]])
        _parsed[rate] = parsed
    return parsed


def _redis_client(backend):
    """The redis-py client behind Django's built-in RedisCache, or None for other backends.

    Kept on the backend: ``RedisCacheClient.get_client`` builds a new ``Redis`` object on
    every call (~5% of a predict request). Backends are per thread (``caches`` is
    thread-local), and the client shares the backend's connection pool.
    """
    client = getattr(backend, "_throttle_client", None)
    if client is None:
        redis = type(backend).__module__ == "django.core.cache.backends.redis"
        client = backend._cache.get_client(None, write=True) if redis else False
        backend._throttle_client = client
    return client or None


LEASE_MAX = 32
LEASE_DIVISOR = 64


def _reserve(key: str, ttl: int, n: int) -> int:
    """Add ``n`` to the shared count under ``key`` (expiring after ``ttl`` s); the new total."""
    backend = caches["default"]  # the backend itself (``cache`` is a proxy of it)
    client = _redis_client(backend)
    if client is not None:
        full_key = backend.make_and_validate_key(key)
        total = int(client.incrby(full_key, n))
        if total == n:  # the first reservation of the window starts the key's clock
            client.expire(full_key, ttl)
        return total
    try:
        return backend.incr(key, n)
    except ValueError:  # first request of the window
        if backend.add(key, n, ttl):
            return n
        return backend.incr(key, n)  # another request added it in between


class _Leases:
    """Counts this process reserved per key and has not handed out yet.

    ``key -> [ranges of unused positions, latest total seen, expires]``. Threads of one process
    that find the key exhausted at the same moment each reserve a block; every block is kept
    (none is dropped), and the latest total sizes the next block.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._blocks: dict[str, list] = {}

    def take(self, key: str) -> tuple[int | None, int | None]:
        """(a reserved position, or None; the latest total seen under ``key``, or None)."""
        with self._lock:
            block = self._blocks.get(key)
            if block is None:
                return None, None
            ranges = block[0]
            while ranges:
                span = ranges[0]
                if span[0] <= span[1]:
                    span[0] += 1
                    return span[0] - 1, block[1]
                ranges.pop(0)
            return None, block[1]

    def keep(self, key: str, first: int, last: int, expires: float) -> None:
        """Keep positions ``first .. last`` (none when ``first > last``); ``last`` is the new total."""
        with self._lock:
            block = self._blocks.get(key)
            if block is None:
                if len(self._blocks) > 1000:  # drop the blocks of past windows
                    now = time.monotonic()
                    self._blocks = {k: b for k, b in self._blocks.items() if b[2] > now}
                block = self._blocks[key] = [[], last, expires]
            block[1] = max(block[1], last)
            if first <= last:
                block[0].append([first, last])


_leases = _Leases()


def hit(key: str, ttl: int, limit: int | None = None) -> int:
    """Count one request under ``key`` (expiring after ``ttl`` s); its position in the count.

    With ``limit``, the process may reserve several positions at once (see "Leases" above);
    without, every call is one ``INCR``.
    """
    position, seen = _leases.take(key)
    if position is not None:
        return position
    size = 1
    if limit is not None and seen is not None:
        size = max(1, min(LEASE_MAX, (limit - seen) // LEASE_DIVISOR))
    total = _reserve(key, ttl, size)
    if limit is not None:
        _leases.keep(key, total - size + 2, total, time.monotonic() + ttl)
    return total - size + 1


def _warn_outage() -> None:
    """Log that requests pass unthrottled, at most once per ``OUTAGE_WARNING_SECONDS``."""
    now = time.monotonic()
    if now - _last_outage_warning[0] >= OUTAGE_WARNING_SECONDS:
        _last_outage_warning[0] = now
        logger.warning("shared cache unreachable: requests are not throttled until it is back", exc_info=True)


class ClientRateThrottle(BaseThrottle):
    cache_format = "throttle:%(scope)s:%(ident)s:%(window)d"
    scope = "default"
    # Read per request, so a test (or a settings reload) can replace the rates.
    THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES

    def __init__(self):
        self._wait = None

    def client_ident(self, request) -> str:
        user = request.user
        if isinstance(user, APIKeyUser):
            return f"key:{user.api_key.prefix}"
        if user and user.is_authenticated:
            return f"user:{user.pk}"
        return f"ip:{self.get_ident(request)}"

    def allow_request(self, request, view):
        self.scope = getattr(view, "throttle_scope", None) or "default"
        rate = self.THROTTLE_RATES.get(self.scope)
        if rate is None:
            return True
        num_requests, duration = parse_rate(rate)
        now = time.time()
        window = int(now // duration)
        key = self.cache_format % {"scope": self.scope, "ident": self.client_ident(request), "window": window}
        # The key outlives its window a little so a late INCR never recreates it without a TTL.
        try:
            count = hit(key, duration + 1, num_requests)
        except Exception:  # the backend's own error type varies (redis, memcached, database)
            _warn_outage()
            return True
        if count <= num_requests:
            return True
        self._wait = max(1, math.ceil((window + 1) * duration - now))
        return False

    def wait(self):
        return self._wait
