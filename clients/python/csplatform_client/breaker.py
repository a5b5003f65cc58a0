"""A small circuit breaker: closed -> open after N consecutive failures -> half-open after a
reset time (one trial call) -> closed on success, open again on failure."""
from __future__ import annotations

import threading
import time
from typing import Callable

from .errors import CircuitOpenError

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


class CircuitBreaker:
    def __init__(self, threshold: int = 5, reset_timeout: float = 30.0, clock: Callable[[], float] = time.monotonic):
        if threshold < 1:
            raise ValueError("threshold must be >= 1")
        self.threshold = threshold
        self.reset_timeout = reset_timeout
        self.clock = clock
        self.failures = 0
        self.opened_at: float | None = None
        self._state = CLOSED
        self._trial_in_flight = False
        self._lock = threading.Lock()

    @property
    def state(self) -> str:
        with self._lock:
            if self._state == OPEN and self.clock() - (self.opened_at or 0.0) >= self.reset_timeout:
                return HALF_OPEN
            return self._state

    def before_call(self) -> None:
        """Raise ``CircuitOpenError`` unless a call may go out now."""
        with self._lock:
            if self._state == OPEN:
                waited = self.clock() - (self.opened_at or 0.0)
                if waited < self.reset_timeout:
                    raise CircuitOpenError(
                        f"circuit open after {self.failures} consecutive failures; "
                        f"retry in {self.reset_timeout - waited:.1f} s", retry_in=self.reset_timeout - waited)
                self._state = HALF_OPEN
                self._trial_in_flight = False
            if self._state == HALF_OPEN:
                if self._trial_in_flight:
                    raise CircuitOpenError("circuit half-open: a trial call is in flight", retry_in=0.0)
                self._trial_in_flight = True

    def record_success(self) -> None:
        with self._lock:
            self._state = CLOSED
            self.failures = 0
            self.opened_at = None
            self._trial_in_flight = False

    def record_failure(self) -> None:
        with self._lock:
            self.failures += 1
            self._trial_in_flight = False
            if self._state == HALF_OPEN or self.failures >= self.threshold:
                self._state = OPEN
                self.opened_at = self.clock()
