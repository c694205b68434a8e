"""One retry policy for both the state machine and the local runner.

The error names come from `handler.errors`: a retryable code is retried with
exponential backoff, every other code is never retried. `RetryPolicy.asl_retry`
writes the policy as Amazon States Language ``Retry`` blocks and
`run_with_retry` applies the very same numbers in Python, so a render behaves
alike on Step Functions and on one machine.

Step Functions counts ``MaxAttempts`` as *retries*: a task runs at most
``1 + max_attempts`` times. Retry ``k`` (0-based) waits
``min(interval * backoff_rate**k, max_delay)`` seconds; with ``FULL`` jitter the
wait is drawn uniformly from ``[0, that]``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from handler.errors import RenderzipError, permanent_codes, retryable_codes

T = TypeVar("T")
Jitter = Literal["FULL", "NONE"]

LAMBDA_SERVICE_ERRORS = (
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
)
"""Transient errors of the Lambda service itself (throttling, service faults), not of our function.

They never reach the local runner, so they are not codes of `handler.errors`;
the state machine retries them with the same policy."""


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

    def asl_retry(self) -> list[dict[str, Any]]:
        """The ``Retry`` field of a Task: permanent codes first (never retried), then the retryable ones."""
        backoff = {
            "IntervalSeconds": self.interval_seconds,
            "BackoffRate": self.backoff_rate,
            "MaxAttempts": self.max_attempts,
            "MaxDelaySeconds": self.max_delay_seconds,
            "JitterStrategy": self.jitter,
        }
        blocks: list[dict[str, Any]] = []
        if self.permanent:
            blocks.append({"ErrorEquals": list(self.permanent), "MaxAttempts": 0})
        if self.retryable:
            blocks.append({"ErrorEquals": list(self.retryable), **backoff})
        blocks.append({"ErrorEquals": list(LAMBDA_SERVICE_ERRORS), **backoff})
        return blocks


def run_with_retry(
    fn: Callable[[], T],
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], None] = time.sleep,
    rng: Callable[[], float] = random.random,
    on_retry: Callable[[int, RenderzipError, float], None] | None = None,
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
                on_retry(retry + 1, error, wait)
            sleep(wait)
            retry += 1
