"""The SDK against live HTTP servers: retries, Retry-After, dropped connections, timeouts,
the circuit breaker, typed errors, bulk chunking and job polling."""
import email.utils
import json

import pytest

from csplatform_client import (
    CLOSED,
    HALF_OPEN,
    OPEN,
    AuthenticationError,
    CircuitOpenError,
    CSPlatformClient,
    JobFailed,
    JobTimeout,
    RateLimited,
    RequestTimeout,
    ServerError,
    TransportError,
    UpsertResult,
    ValidationError,
    parse_retry_after,
)

OK_PREDICTION = (200, {}, {"intent": "balance_inquiry", "sentiment": "neutral", "quality_score": 4.1})


def make_client(server, fake_time, **kwargs):
    kwargs.setdefault("rng", lambda: 0.5)
    return CSPlatformClient(server.url, "pfx.secret", sleep=fake_time.sleep, clock=fake_time.clock, **kwargs)


def test_throttled_server_is_retried_after_retry_after(serve, fake_time):
    server = serve((429, {"Retry-After": "3"}, {"detail": "slow down"}),
                   (429, {"Retry-After": "1"}, {"detail": "slow down"}),
                   OK_PREDICTION)
    client = make_client(server, fake_time)

    answer = client.predict("我想查询余额")

    assert answer["intent"] == "balance_inquiry"
    assert server.count == 3
    assert fake_time.sleeps == [3.0, 1.0]  # exactly what the server asked for
    method, path, headers, body = server.requests[-1]
    assert (method, path) == ("POST", "/api/v1/predict")
    assert headers["Authorization"] == "Api-Key pfx.secret"
    assert json.loads(body) == {"text": "我想查询余额"}


def test_throttling_that_outlasts_the_retries_raises_rate_limited(serve, fake_time):
    server = serve((429, {"Retry-After": "2"}, {"detail": "Request was throttled."}))
    client = make_client(server, fake_time, max_retries=2)
    with pytest.raises(RateLimited) as excinfo:
        client.predict("x")
    assert excinfo.value.retry_after == 2.0
    assert excinfo.value.status == 429
    assert server.count == 3
    assert client.breaker.state == CLOSED  # throttling is not a failure of the server


def test_retry_after_longer_than_we_block_is_raised_at_once(serve, fake_time):
    server = serve((429, {"Retry-After": "3600"}, {"detail": "come back in an hour"}), OK_PREDICTION)
    client = make_client(server, fake_time, max_retry_after=60)
    with pytest.raises(RateLimited):
        client.predict("x")
    assert server.count == 1 and fake_time.sleeps == []


def test_retry_after_http_date():
    now = 1_800_000_000.0
    date = email.utils.formatdate(now + 7, usegmt=True)
    assert parse_retry_after(date, now=lambda: now) == pytest.approx(7, abs=1)
    assert parse_retry_after("2.5") == 2.5
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_dropped_connections_are_retried_with_exponential_backoff(serve, fake_time):
    server = serve("drop", "drop", "drop", OK_PREDICTION)
    client = make_client(server, fake_time, backoff=0.5, breaker_threshold=10)

    assert client.predict("hello")["sentiment"] == "neutral"

    assert server.count == 4
    # full jitter with rng=0.5: 0.5 * backoff * 2**attempt
    assert fake_time.sleeps == [0.25, 0.5, 1.0]


def test_jitter_is_bounded_by_the_exponential_cap(serve, fake_time):
    server = serve("drop", "drop", "drop", "drop", OK_PREDICTION)
    client = make_client(server, fake_time, backoff=1.0, max_backoff=3.0, rng=lambda: 0.999, breaker_threshold=10)
    client.predict("x")
    caps = [1.0, 2.0, 3.0, 3.0]
    assert all(0 <= s <= cap for s, cap in zip(fake_time.sleeps, caps))
    assert fake_time.sleeps[-1] == pytest.approx(2.997)


def test_connection_that_never_answers_raises_transport_error(serve, fake_time):
    server = serve("drop")
    client = make_client(server, fake_time, max_retries=3, breaker_threshold=10)
    with pytest.raises(TransportError) as excinfo:
        client.predict("x")
    assert not isinstance(excinfo.value, RequestTimeout)
    assert server.count == 4  # the first try and three retries


def test_nothing_listening_is_a_transport_error(fake_time):
    client = CSPlatformClient("http://127.0.0.1:9", "k", max_retries=1, sleep=fake_time.sleep, clock=fake_time.clock)
    with pytest.raises(TransportError):
        client.health()


def test_slow_server_times_out_and_is_retried(serve, fake_time):
    server = serve(("sleep", 1.0, OK_PREDICTION), OK_PREDICTION)
    client = make_client(server, fake_time, timeout=0.2)
    assert client.predict("x")["intent"] == "balance_inquiry"
    assert server.count == 2 and len(fake_time.sleeps) == 1

    always_slow = serve(("sleep", 1.0, OK_PREDICTION))
    client = make_client(always_slow, fake_time, timeout=0.2, max_retries=1)
    with pytest.raises(RequestTimeout):
        client.predict("x")


def test_gateway_errors_are_retried_but_500_is_not(serve, fake_time):
    server = serve((503, {}, {"message": "starting"}), (502, {}, None), (504, {}, None), OK_PREDICTION)
    client = make_client(server, fake_time)
    assert client.predict("x")["intent"] == "balance_inquiry"
    assert server.count == 4

    broken = serve((500, {}, {"message": "bug"}), OK_PREDICTION)
    client = make_client(broken, fake_time)
    with pytest.raises(ServerError) as excinfo:
        client.predict("x")
    assert excinfo.value.status == 500 and broken.count == 1


def test_client_errors_are_typed_and_not_retried(serve, fake_time):
    server = serve((400, {"X-Request-ID": "rid-1"}, {"message": "Validation error", "extra": {"fields": {"text": ["required"]}}}))
    client = make_client(server, fake_time)
    with pytest.raises(ValidationError) as excinfo:
        client.predict("")
    assert excinfo.value.body["extra"]["fields"]["text"] == ["required"]
    assert excinfo.value.request_id == "rid-1"
    assert server.count == 1

    unauthorized = serve((401, {}, {"detail": "Invalid or revoked API key."}))
    with pytest.raises(AuthenticationError) as excinfo:
        make_client(unauthorized, fake_time).get_job(1)
    assert "revoked" in excinfo.value.message


def test_circuit_breaker_opens_fails_fast_half_opens_and_closes(serve, fake_time):
    script = [(503, {}, {"message": "down"})] * 3 + [OK_PREDICTION]
    server = serve(*script)
    client = make_client(server, fake_time, max_retries=0, breaker_threshold=3, breaker_reset=30)

    for _ in range(3):
        with pytest.raises(ServerError):
            client.predict("x")
    assert client.breaker.state == OPEN

    # Open: fails fast, nothing reaches the server.
    with pytest.raises(CircuitOpenError) as excinfo:
        client.predict("x")
    assert server.count == 3
    assert excinfo.value.retry_in == pytest.approx(30)

    fake_time.now += 29
    with pytest.raises(CircuitOpenError):
        client.predict("x")
    fake_time.now += 1
    assert client.breaker.state == HALF_OPEN

    # Half-open: one trial call; the server has recovered, so the breaker closes.
    assert client.predict("x")["intent"] == "balance_inquiry"
    assert client.breaker.state == CLOSED and server.count == 4
    assert client.predict("x")["intent"] == "balance_inquiry"


def test_failed_trial_call_opens_the_breaker_again(serve, fake_time):
    server = serve("drop")
    client = make_client(server, fake_time, max_retries=0, breaker_threshold=2, breaker_reset=10)
    for _ in range(2):
        with pytest.raises(TransportError):
            client.predict("x")
    assert client.breaker.state == OPEN
    fake_time.now += 10
    with pytest.raises(TransportError):  # the trial call goes out and fails
        client.predict("x")
    assert client.breaker.state == OPEN
    assert server.count == 3
    with pytest.raises(CircuitOpenError):
        client.predict("x")


def test_breaker_opening_during_retries_stops_them(serve, fake_time):
    server = serve((503, {}, None))
    client = make_client(server, fake_time, max_retries=10, breaker_threshold=3)
    with pytest.raises(CircuitOpenError):
        client.predict("x")
    assert server.count == 3


def test_bulk_upsert_chunks_and_sums(serve, fake_time):
    def answer(method, path, raw):
        n = len(json.loads(raw)["items"])
        return (200, {}, {"created": n - 1, "updated": 1, "unchanged": 0, "n": n})

    server = serve(answer)
    client = make_client(server, fake_time)
    items = [{"external_id": f"c{i}", "name": f"Customer {i}"} for i in range(2500)]

    result = client.upsert_customers(items, chunk_size=1000)

    assert result == UpsertResult(created=2497, updated=3, unchanged=0)
    assert [len(json.loads(r[3])["items"]) for r in server.requests] == [1000, 1000, 500]
    assert {r[1] for r in server.requests} == {"/api/v1/customers/bulk"}
    with pytest.raises(ValueError):
        client.bulk_upsert("users", items)


def test_job_submit_is_idempotent_across_retries(serve, fake_time):
    server = serve("drop", (201, {}, {"id": 7, "status": "queued"}))
    client = make_client(server, fake_time)
    job = client.submit_score_job(all=True)
    assert job["id"] == 7
    keys = {r[2]["Idempotency-Key"] for r in server.requests}
    assert len(keys) == 1  # the retry carried the same key, so the server makes one job


def test_wait_for_job_polls_until_finished(serve, fake_time):
    server = serve(
        (200, {}, {"id": 3, "status": "queued", "progress": 0}),
        (200, {}, {"id": 3, "status": "running", "progress": 40.0}),
        (200, {}, {"id": 3, "status": "succeeded", "progress": 100.0}),
    )
    client = make_client(server, fake_time)
    seen = []
    job = client.wait_for_job(3, poll_interval=2, on_progress=lambda j: seen.append(j["status"]))
    assert job["status"] == "succeeded"
    assert seen == ["queued", "running", "succeeded"]
    assert fake_time.sleeps == [2, 3.0]
    assert {r[1] for r in server.requests} == {"/api/v1/jobs/3/"}


def test_wait_for_job_raises_on_failure_and_timeout(serve, fake_time):
    failed = serve((200, {}, {"id": 4, "status": "failed", "error": "no models"}))
    with pytest.raises(JobFailed) as excinfo:
        make_client(failed, fake_time).wait_for_job(4)
    assert excinfo.value.job["error"] == "no models"

    stuck = serve((200, {}, {"id": 5, "status": "running"}))
    with pytest.raises(JobTimeout):
        make_client(stuck, fake_time).wait_for_job(5, timeout=60, poll_interval=5)


def test_cancel_job_and_health(serve, fake_time):
    server = serve((200, {}, {"id": 9, "status": "cancelled"}), (503, {}, {"status": "unavailable"}))
    client = make_client(server, fake_time)
    assert client.cancel_job(9)["status"] == "cancelled"
    assert server.requests[0][:2] == ("POST", "/api/v1/jobs/9/cancel")
    assert client.health()["status"] == "unavailable"  # a health answer, not an exception
    assert server.count == 2


def test_predict_batch_limits_and_predict_many_batches(serve, fake_time):
    def answer(method, path, raw):
        texts = json.loads(raw)["texts"]
        return (200, {}, {"results": [{"intent": t} for t in texts], "count": len(texts)})

    server = serve(answer)
    client = make_client(server, fake_time)
    with pytest.raises(ValueError):
        client.predict_batch([])
    with pytest.raises(ValueError):
        client.predict_batch(["x"] * 101)
    results = client.predict_many(f"t{i}" for i in range(250))
    assert [r["intent"] for r in results] == [f"t{i}" for i in range(250)]
    assert server.count == 3


def test_real_sleep_and_clock_by_default(serve):
    server = serve((503, {}, None), OK_PREDICTION)
    client = CSPlatformClient(server.url, "k", backoff=0.01)
    assert client.predict("x")["intent"] == "balance_inquiry"
    assert server.count == 2
