"""Fixed-window per-client throttle (apps/core/throttling.py)."""
import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from apps.core import throttling
from apps.core.services import api_key_create
from apps.core.throttling import ClientRateThrottle
from tests.core.test_cache import dead_cache  # noqa: F401

pytestmark = pytest.mark.django_db

URL = "/api/v1/customers/"


@pytest.fixture
def rate(monkeypatch):
    monkeypatch.setattr(ClientRateThrottle, "THROTTLE_RATES", {"default": "3/min", "predict": "3/min", "bulk": "3/min"})


@pytest.fixture
def clock(monkeypatch):
    """A controllable wall clock for the throttle (start just after a window boundary)."""
    now = {"t": 1_800_000_000.0 + 1.0}
    monkeypatch.setattr(throttling.time, "time", lambda: now["t"])
    return now


def _client(name="crm"):
    _, key = api_key_create(name=name, scopes=["read"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def test_parse_rate():
    assert throttling.parse_rate("120000/min") == (120000, 60)
    assert throttling.parse_rate("5/s") == (5, 1)
    assert throttling.parse_rate("10/hour") == (10, 3600)


def test_limit_enforced_with_429_and_retry_after(rate, clock):
    client = _client()
    assert [client.get(URL).status_code for _ in range(4)] == [200, 200, 200, 429]
    clock["t"] += 20
    limited = client.get(URL)
    assert limited.status_code == 429
    # 21 s into a 60 s window: 39 s left.
    assert int(limited["Retry-After"]) == 39


def test_separate_keys_have_separate_budgets(rate, clock):
    first, second = _client("first"), _client("second")
    assert [first.get(URL).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert [second.get(URL).status_code for _ in range(3)] == [200, 200, 200]
    assert second.get(URL).status_code == 429


def test_the_window_resets(rate, clock):
    client = _client()
    assert [client.get(URL).status_code for _ in range(4)] == [200, 200, 200, 429]
    clock["t"] += 60  # next window
    assert [client.get(URL).status_code for _ in range(4)] == [200, 200, 200, 429]


def test_scopes_count_separately(monkeypatch, clock):
    monkeypatch.setattr(ClientRateThrottle, "THROTTLE_RATES", {"default": "2/min", "predict": "1000/min", "bulk": "1/min"})

    class View:
        throttle_scope = "bulk"

    class Request:
        def __init__(self, user):
            self.user = user

    from apps.core.auth import APIKeyUser

    api_key, _ = api_key_create(name="scoped", scopes=["read"])
    request = Request(APIKeyUser(api_key))
    bulk, default = ClientRateThrottle(), ClientRateThrottle()
    assert bulk.allow_request(request, View()) is True
    assert bulk.allow_request(request, View()) is False and bulk.wait() == 59
    assert default.allow_request(request, object()) is True  # "default" has its own counter
    assert default.allow_request(request, object()) is True
    assert default.allow_request(request, object()) is False


def test_hit_counts_atomically_in_the_configured_cache(monkeypatch):
    from django.core.cache import caches

    cache.delete("throttle:test:hit")
    backend = caches["default"]
    if type(backend).__module__ == "django.core.cache.backends.redis":
        # Redis: one pipelined round trip, never Django's incr (EXISTS + INCR).
        monkeypatch.setattr(type(backend), "incr", lambda *a, **k: pytest.fail("used cache.incr"))
    assert [throttling.hit("throttle:test:hit", 5) for _ in range(3)] == [1, 2, 3]
    assert cache.get("throttle:test:hit") == 3  # readable through the cache API too
    if type(backend).__module__ == "django.core.cache.backends.redis":
        client = backend._cache.get_client(None)
        assert 0 < client.ttl(backend.make_and_validate_key("throttle:test:hit")) <= 5
    cache.delete("throttle:test:hit")


def test_redis_client_is_built_once_per_backend(monkeypatch):
    """``get_client`` builds a new redis-py object per call: the throttle keeps the first one."""
    from django.core.cache import caches

    backend = caches["default"]
    if type(backend).__module__ != "django.core.cache.backends.redis":
        assert throttling._redis_client(backend) is None
        return
    cache.delete("throttle:test:once")
    built = []
    original = type(backend._cache).get_client
    monkeypatch.setattr(type(backend._cache), "get_client",
                        lambda self, *a, **k: built.append(1) or original(self, *a, **k))
    monkeypatch.delattr(backend, "_throttle_client", raising=False)
    assert [throttling.hit("throttle:test:once", 5) for _ in range(3)] == [1, 2, 3]
    assert len(built) == 1
    monkeypatch.undo()
    cache.delete("throttle:test:once")


@pytest.fixture
def leases(monkeypatch):
    """Fresh lease blocks, and a record of every shared reservation (its size)."""
    monkeypatch.setattr(throttling, "_leases", throttling._Leases())
    sizes = []
    reserve = throttling._reserve
    monkeypatch.setattr(throttling, "_reserve", lambda key, ttl, n: sizes.append(n) or reserve(key, ttl, n))
    return sizes


def test_leases_hand_out_consecutive_positions_with_few_round_trips(leases):
    key = "throttle:test:lease"
    cache.delete(key)
    positions = [throttling.hit(key, 5, 120000) for _ in range(1000)]
    assert positions == list(range(1, 1001))  # one process alone: exact, in order
    assert leases[0] == 1 and max(leases) == throttling.LEASE_MAX
    assert len(leases) < 40  # instead of 1,000 round trips
    assert cache.get(key) == sum(leases)  # the shared count holds every reservation
    cache.delete(key)


def test_leases_shrink_to_single_counts_near_the_limit(leases):
    key = "throttle:test:lease-limit"
    cache.delete(key)
    limit = 300
    positions = [throttling.hit(key, 5, limit) for _ in range(limit + 20)]
    assert positions == list(range(1, limit + 21))
    total = 0
    for size in leases:  # every block taken within LEASE_DIVISOR of the limit is a single count
        if limit - total < throttling.LEASE_DIVISOR:
            assert size == 1
        total += size
    assert [p <= limit for p in positions].count(True) == limit
    cache.delete(key)


def test_processes_sharing_a_count_never_admit_beyond_the_limit(monkeypatch, leases):
    """Two processes (two lease tables) taking turns on one key: no position is handed out twice."""
    key = "throttle:test:lease-shared"
    cache.delete(key)
    limit = 500
    processes = [throttling._Leases(), throttling._Leases()]
    positions = []
    for i in range(800):
        monkeypatch.setattr(throttling, "_leases", processes[(i // 7) % 2])
        positions.append(throttling.hit(key, 5, limit))
    assert len(set(positions)) == len(positions)
    admitted = [p for p in positions if p <= limit]
    assert len(admitted) <= limit
    assert len(admitted) >= limit - 2 * throttling.LEASE_DIVISOR  # refused early by a few at most
    cache.delete(key)


def test_a_big_limit_still_answers_429(monkeypatch, clock, leases):
    monkeypatch.setattr(ClientRateThrottle, "THROTTLE_RATES", {"default": "150/min", "predict": "150/min",
                                                               "bulk": "150/min"})
    client = _client()
    codes = [client.get(URL).status_code for _ in range(152)]
    assert codes == [200] * 150 + [429, 429]
    assert max(leases) > 1


def test_blocks_reserved_at_the_same_moment_are_all_handed_out(leases):
    """Two threads finding the key exhausted together each reserve a block: neither is lost."""
    table = throttling._Leases()
    table.keep("k", 11, 20, 1e12)   # thread A's block 10..20 (10 handed out by A itself)
    table.keep("k", 22, 30, 1e12)   # thread B's block 21..30 (21 handed out by B itself)
    taken = []
    while (position := table.take("k")[0]) is not None:
        taken.append(position)
    assert taken == list(range(11, 21)) + list(range(22, 31))
    assert table.take("k") == (None, 30)  # the latest total sizes the next block


def test_concurrent_threads_get_unique_positions(leases):
    import threading

    key = "throttle:test:lease-threads"
    cache.delete(key)
    positions, lock = [], threading.Lock()

    def work():
        mine = [throttling.hit(key, 5, 120000) for _ in range(300)]
        with lock:
            positions.extend(mine)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(positions)) == 2400
    assert max(positions) <= cache.get(key)  # every position was reserved in the shared count
    assert max(positions) - 2400 <= 8 * throttling.LEASE_MAX  # few reserved and left unused
    cache.delete(key)


def test_an_unreachable_shared_cache_lets_requests_through_with_a_warning(rate, dead_cache, caplog, monkeypatch):
    monkeypatch.setattr(throttling, "_last_outage_warning", [float("-inf")])
    client = _client()
    with caplog.at_level("WARNING", logger="apps.core.throttling"):
        statuses = [client.get(URL).status_code for _ in range(5)]  # the limit is 3/min
    assert statuses == [200] * 5
    assert [r.message for r in caplog.records].count(
        "shared cache unreachable: requests are not throttled until it is back") == 1
