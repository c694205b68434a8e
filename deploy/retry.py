"""The retry policy of `tooling.retry`, written as Amazon States Language ``Retry`` blocks.

The numbers and the error lists live once, in `tooling.retry.RetryPolicy`
(which the local runner applies through `tooling.retry.run_with_retry`);
this module only translates that object, so nothing is written twice.
"""

from __future__ import annotations

from typing import Any

from tooling.retry import DEFAULT_POLICY, Jitter, Retried, RetryPolicy, run_with_retry

__all__ = [
    "DEFAULT_POLICY",
    "LAMBDA_RUNTIME_ERRORS",
    "LAMBDA_SERVICE_ERRORS",
    "Jitter",
    "Retried",
    "RetryPolicy",
    "asl_retry",
    "run_with_retry",
]

LAMBDA_SERVICE_ERRORS = (
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
)
"""Transient errors of the Lambda service itself (throttling, service faults), not of our function.

They never reach the local runner, so they are not codes of `handler.errors`;
the state machine retries them with the same policy."""

LAMBDA_RUNTIME_ERRORS = ("Runtime.ExitError",)
"""The function's process died without an answer (killed, a crash of the interpreter): Lambda reports it
as ``Runtime.ExitError``, the way the local runner sees `ChromeCrashed`, so it is retried the same way.
Out-of-memory and timeouts are not: they would happen again."""


def asl_retry(policy: RetryPolicy) -> list[dict[str, Any]]:
    """The ``Retry`` field of a Task: permanent codes first (never retried), then the retryable ones."""
    backoff = {
        "IntervalSeconds": policy.interval_seconds,
        "BackoffRate": policy.backoff_rate,
        "MaxAttempts": policy.max_attempts,
        "MaxDelaySeconds": policy.max_delay_seconds,
        "JitterStrategy": policy.jitter,
    }
    blocks: list[dict[str, Any]] = []
    if policy.permanent:
        blocks.append({"ErrorEquals": list(policy.permanent), "MaxAttempts": 0})
    if policy.retryable:
        blocks.append({"ErrorEquals": list(policy.retryable), **backoff})
    blocks.append({"ErrorEquals": [*LAMBDA_SERVICE_ERRORS, *LAMBDA_RUNTIME_ERRORS], **backoff})
    return blocks
