"""The one retry policy: the local runner applies it, the state machine is generated from it.

The error names come from `handler.errors`: a retryable code is retried with
exponential backoff, every other code is never retried. `run_with_retry`
applies the policy in Python; ``deploy.retry`` writes the very same object as
Amazon States Language ``Retry`` blocks, so a render behaves alike on Step
Functions and on one machine.

Step Functions counts ``MaxAttempts`` as *retries*: a task runs at most
``1 + max_attempts`` times. Retry ``k`` (0-based) waits
``min(interval * backoff_rate**k, max_delay)`` seconds; with ``FULL`` jitter the
wait is drawn uniformly from ``[0, that]``.

Stdlib only: this module ships in the zip.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, TypeVar

from handler.errors import RenderzipError, permanent_codes, retryable_codes

T = TypeVar("T")
Jitter = Literal["FULL", "NONE"]


@dataclass(frozen=True)
class RetryPolicy:
    interval_seconds: int = 2
    backoff_rate: float = 2.0
    max_attempts: int = 3
    max_delay_seconds: int = 60
    jitter: Jitter = "FULL"
    retryable: tuple[str, ...] = field(default_factory=lambda: tuple(retryable_codes()))
    permanent: tuple[str, ...] = field(default_factory=lambda: tuple(permanent_codes()))

    def __post_init__(self) -> None:
        if self.interval_seconds < 1:
            raise ValueError(f"interval_seconds must be >= 1, got {self.interval_seconds}")
        if self.backoff_rate < 1.0:
            raise ValueError(f"backoff_rate must be >= 1.0, got {self.backoff_rate}")
        if not 0 <= self.max_attempts <= 99:
            raise ValueError(f"max_attempts must be from 0 to 99, got {self.max_attempts}")
        if self.max_delay_seconds < self.interval_seconds:
            raise ValueError(f"max_delay_seconds ({self.max_delay_seconds}) is below interval_seconds")
        both = sorted(set(self.retryable) & set(self.permanent))
        if both:
            raise ValueError(f"codes both retryable and permanent: {', '.join(both)}")

    def delay(self, retry: int) -> float:
        """The wait before retry ``retry`` (0-based), before jitter."""
        return float(min(self.interval_seconds * self.backoff_rate**retry, self.max_delay_seconds))

    def is_retryable(self, error: BaseException) -> bool:
        return isinstance(error, RenderzipError) and error.code in self.retryable


DEFAULT_POLICY = RetryPolicy()
"""What the local runner applies and the deployed state machine is generated from, unless told otherwise."""


@dataclass(frozen=True)
class Retried:
    """One retry as it happened: which retry (1-based), the error that caused it, the wait before it."""

    retry: int
    code: str
    message: str
    wait_seconds: float


def run_with_retry(
    fn: Callable[[], T],
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], None] = time.sleep,
    rng: Callable[[], float] = random.random,
    on_retry: Callable[[Retried], None] | None = None,
) -> T:
    """``fn()``, retried as the state machine would: retryable codes back off, anything else is raised at once."""
    retry = 0
    while True:
        try:
            return fn()
        except RenderzipError as error:
            if not policy.is_retryable(error) or retry >= policy.max_attempts:
                raise
            wait = policy.delay(retry)
            if policy.jitter == "FULL":
                wait *= rng()
            if on_retry is not None:
                on_retry(Retried(retry + 1, error.code, str(error), wait))
            sleep(wait)
            retry += 1
