"""``CSPlatformClient``: a typed client for the platform's REST API.

Every call goes through one request path with:

* **timeouts** (``timeout`` seconds for connect and read);
* **retries** on 429, 502, 503, 504, dropped connections and timeouts, up to ``max_retries``
  times, sleeping ``Retry-After`` when the server sends it and otherwise an exponential
  backoff with full jitter: ``uniform(0, min(max_backoff, backoff * 2**attempt))``. All the
  operations retried are idempotent: upserts are keyed by ``external_id``, predictions have
  no side effects, and job submissions carry an ``Idempotency-Key``;
* a **circuit breaker**: after ``breaker_threshold`` consecutive failed attempts (connection
  errors, timeouts, 5xx) calls fail fast with ``CircuitOpenError`` for ``breaker_reset``
  seconds, then one trial call decides between closing and opening again.
"""
from __future__ import annotations

import email.utils
import random
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence

import requests

from . import errors
from .breaker import CircuitBreaker

try:  # Python 3.8+: TypedDict is in typing
    from typing import TypedDict
except ImportError:  # pragma: no cover
    TypedDict = dict  # type: ignore[misc,assignment]

RETRY_STATUSES = frozenset({429, 502, 503, 504})
BREAKER_FAILURE_STATUSES = frozenset({500, 502, 503, 504})
ENTITIES = ("customers", "agents", "conversations")
MAX_PREDICT_BATCH = 100
FINISHED = ("succeeded", "failed", "cancelled")


class Prediction(TypedDict, total=False):
    intent: Optional[str]
    intent_confidence: Optional[float]
    intent_top: List[Dict[str, Any]]
    sentiment: Optional[str]
    sentiment_confidence: Optional[float]
    sentiment_scores: Dict[str, float]
    quality_score: Optional[float]
    uncertain: bool
    suggestions: List[str]
    response_time: float
    session_id: str
    model_versions: Dict[str, Any]


class Job(TypedDict, total=False):
    id: int
    kind: str
    status: str
    total: int
    done: int
    failed: int
    progress: float
    error: str
    result: Dict[str, Any]


@dataclass(frozen=True)
class UpsertResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def __add__(self, other: "UpsertResult") -> "UpsertResult":
        return UpsertResult(self.created + other.created, self.updated + other.updated,
                            self.unchanged + other.unchanged)

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


def parse_retry_after(value: Optional[str], now: Callable[[], float] = time.time) -> Optional[float]:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - now())


class CSPlatformClient:
    """Client for ``/api/v1/``. Thread-safe for concurrent calls when given one ``requests.Session`` per thread.

    ``sleep``, ``clock`` and ``rng`` are injectable so tests (and callers with their own
    schedulers) control time.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        timeout: float = 10,
        max_retries: int = 5,
        backoff: float = 0.5,
        breaker_threshold: int = 5,
        breaker_reset: float = 30,
        *,
        max_backoff: float = 30.0,
        max_retry_after: float = 120.0,
        session: Optional[requests.Session] = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: Callable[[], float] = random.random,
        user_agent: str = "csplatform-client/1.0",
    ):
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        self.session = session or requests.Session()
        self.sleep = sleep
        self.clock = clock
        self.rng = rng
        self.breaker = CircuitBreaker(breaker_threshold, breaker_reset, clock=clock)
        self.headers = {"Authorization": f"Api-Key {api_key}", "Accept": "application/json",
                        "User-Agent": user_agent}

    # --- the one request path ----------------------------------------------------------

    def _backoff_delay(self, attempt: int) -> float:
        return self.rng() * min(self.max_backoff, self.backoff * (2 ** attempt))

    def request(self, method: str, path: str, *, json: Any = None, params: Optional[dict] = None,
                headers: Optional[dict] = None, max_retries: Optional[int] = None,
                ok_statuses: Sequence[int] = ()) -> Any:
        """Send one API call with retries; return the decoded JSON body (``None`` when empty)."""
        url = f"{self.base_url}/{path.lstrip('/')}"
        retries = self.max_retries if max_retries is None else max_retries
        all_headers = {**self.headers, **(headers or {})}
        attempt = 0
        while True:
            self.breaker.before_call()
            try:
                response = self.session.request(method, url, json=json, params=params, headers=all_headers,
                                                timeout=self.timeout)
            except requests.Timeout as exc:
                self.breaker.record_failure()
                failure: Exception = errors.RequestTimeout(f"{method} {url}: no answer within {self.timeout} s")
                cause: Exception = exc
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
                self.breaker.record_failure()
                failure, cause = errors.TransportError(f"{method} {url}: {type(exc).__name__}: {exc}"), exc
            else:
                status = response.status_code
                if status in BREAKER_FAILURE_STATUSES:
                    self.breaker.record_failure()
                else:
                    self.breaker.record_success()
                if status < 400 or status in ok_statuses:
                    return self._decode(response)
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                failure, cause = self._error(response, retry_after), None
                if status not in RETRY_STATUSES:
                    raise failure
                if retry_after is not None and retry_after > self.max_retry_after:
                    raise failure  # the server asks for longer than we are willing to block
                if attempt < retries:
                    self.sleep(retry_after if retry_after is not None else self._backoff_delay(attempt))
                    attempt += 1
                    continue
                raise failure
            if attempt < retries:
                self.sleep(self._backoff_delay(attempt))
                attempt += 1
                continue
            raise failure from cause

    @staticmethod
    def _decode(response: requests.Response) -> Any:
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            return response.text

    def _error(self, response: requests.Response, retry_after: Optional[float]) -> errors.APIError:
        body = self._decode(response)
        message = ""
        if isinstance(body, dict):
            message = str(body.get("message") or body.get("detail") or "")
        if not message:
            message = response.reason or "error"
        return errors.error_for_status(response.status_code, message, body, response.headers.get("X-Request-ID"),
                                       retry_after)

    # --- health and predictions --------------------------------------------------------

    def health(self) -> dict:
        """``GET /health``: ``{"status": "ok"|"unavailable", "database": ..., "broker": ...}``."""
        return self.request("GET", "/health", max_retries=0, ok_statuses=(503,))

    def predict(self, text: str, *, session_id: Optional[str] = None, language: Optional[str] = None,
                conversation_external_id: Optional[str] = None) -> Prediction:
        body: Dict[str, Any] = {"text": text}
        if session_id:
            body["session_id"] = session_id
        if language:
            body["language"] = language
        if conversation_external_id:
            body["conversation_external_id"] = conversation_external_id
        return self.request("POST", "/api/v1/predict", json=body)

    def predict_batch(self, texts: Sequence[str], *, language: Optional[str] = None,
                      session_id: Optional[str] = None) -> dict:
        """Up to 100 texts in one call: ``{"results": [Prediction, ...], "count", "model_versions", ...}``."""
        texts = list(texts)
        if not texts or len(texts) > MAX_PREDICT_BATCH:
            raise ValueError(f"predict_batch takes 1 to {MAX_PREDICT_BATCH} texts (got {len(texts)}); "
                             "use predict_many() or a scoring job for more")
        body: Dict[str, Any] = {"texts": texts}
        if language:
            body["language"] = language
        if session_id:
            body["session_id"] = session_id
        return self.request("POST", "/api/v1/predict/batch", json=body)

    def predict_many(self, texts: Iterable[str], *, language: Optional[str] = None) -> List[Prediction]:
        """Any number of texts, in batches of 100; results in input order."""
        out: List[Prediction] = []
        batch: List[str] = []
        for text in texts:
            batch.append(text)
            if len(batch) == MAX_PREDICT_BATCH:
                out += self.predict_batch(batch, language=language)["results"]
                batch = []
        if batch:
            out += self.predict_batch(batch, language=language)["results"]
        return out

    # --- bulk upserts ------------------------------------------------------------------

    def bulk_upsert(self, entity: str, items: Iterable[dict], *, chunk_size: int = 1000) -> UpsertResult:
        """``POST /api/v1/<entity>/bulk`` in chunks; sums ``created/updated/unchanged``.

        Safe to retry and to re-run: items are keyed by ``external_id``. Each chunk is all or
        nothing on the server; a failing chunk raises and the chunks before it stay written.
        """
        if entity not in ENTITIES:
            raise ValueError(f"entity must be one of {ENTITIES}")
        total = UpsertResult()
        chunk: List[dict] = []
        for item in items:
            chunk.append(item)
            if len(chunk) >= chunk_size:
                total += self._upsert_chunk(entity, chunk)
                chunk = []
        if chunk:
            total += self._upsert_chunk(entity, chunk)
        return total

    def _upsert_chunk(self, entity: str, chunk: List[dict]) -> UpsertResult:
        answer = self.request("POST", f"/api/v1/{entity}/bulk", json={"items": chunk}) or {}
        return UpsertResult(int(answer.get("created", 0)), int(answer.get("updated", 0)),
                            int(answer.get("unchanged", 0)))

    def upsert_customers(self, items: Iterable[dict], **kwargs: Any) -> UpsertResult:
        return self.bulk_upsert("customers", items, **kwargs)

    def upsert_agents(self, items: Iterable[dict], **kwargs: Any) -> UpsertResult:
        return self.bulk_upsert("agents", items, **kwargs)

    def upsert_conversations(self, items: Iterable[dict], **kwargs: Any) -> UpsertResult:
        return self.bulk_upsert("conversations", items, **kwargs)

    # --- jobs --------------------------------------------------------------------------

    def submit_score_job(self, *, idempotency_key: Optional[str] = None, **params: Any) -> Job:
        """``POST /api/v1/jobs/score``. A generated ``Idempotency-Key`` makes retries submit one job."""
        key = idempotency_key or uuid.uuid4().hex
        return self.request("POST", "/api/v1/jobs/score", json=params, headers={"Idempotency-Key": key})

    def get_job(self, job_id: int) -> Job:
        return self.request("GET", f"/api/v1/jobs/{int(job_id)}/")

    def cancel_job(self, job_id: int) -> Job:
        return self.request("POST", f"/api/v1/jobs/{int(job_id)}/cancel")

    def wait_for_job(self, job_id: int, *, timeout: float = 3600.0, poll_interval: float = 2.0,
                     max_poll_interval: float = 30.0, raise_on_failure: bool = True,
                     on_progress: Optional[Callable[[Job], None]] = None) -> Job:
        """Poll until the job is finished (interval grows 1.5x up to ``max_poll_interval``)."""
        started = self.clock()
        interval = poll_interval
        while True:
            job = self.get_job(job_id)
            if on_progress:
                on_progress(job)
            if job.get("status") in FINISHED:
                if raise_on_failure and job["status"] != "succeeded":
                    raise errors.JobFailed(job)
                return job
            waited = self.clock() - started
            if waited >= timeout:
                raise errors.JobTimeout(job, waited)
            self.sleep(min(interval, max(0.0, timeout - waited)))
            interval = min(max_poll_interval, interval * 1.5)
