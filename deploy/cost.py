"""What a render costs: estimated before it runs from a sample chunk, and accrued while it runs.

An estimate scales one chunk's measured seconds to every chunk (by frames),
and counts the requests, state transitions and S3 requests the state machine
makes. Its band is the spread of repeated timings on one machine (a fifth
either way); retries are not in it, since a render without faults has none,
but the accrued cost counts them. The accrued cost is read from the
execution's history: each task's time from ``TaskStarted`` to its end, at the
function's memory, plus the states entered so far (S3 is not in the history
and is left out of it).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from deploy.pricing import Prices

LOW_FACTOR = 0.8
HIGH_FACTOR = 1.25
FREE_EPHEMERAL_MB = 512
TASK_END_EVENTS = ("TaskSucceeded", "TaskFailed", "TaskTimedOut")


@dataclass(frozen=True)
class FunctionShape:
    """What Lambda bills a function by."""

    memory_mb: int
    architecture: str
    ephemeral_mb: int

    @classmethod
    def from_configuration(cls, configuration: Mapping[str, Any]) -> FunctionShape:
        return cls(
            memory_mb=int(configuration["MemorySize"]),
            architecture=str((configuration.get("Architectures") or ["x86_64"])[0]),
            ephemeral_mb=int((configuration.get("EphemeralStorage") or {}).get("Size", FREE_EPHEMERAL_MB)),
        )


@dataclass(frozen=True)
class Sample:
    """One chunk rendered in the Lambda image at the function's memory size."""

    frames: int
    seconds: float
    """The chunk's invocation, its own runtime preparation included, as a fresh container pays it."""
    plan_seconds: float
    cores: float

    @property
    def seconds_per_frame(self) -> float:
        return self.seconds / self.frames


@dataclass(frozen=True)
class Usage:
    invocations: int
    lambda_seconds: float
    state_transitions: int
    s3_puts: int = 0
    s3_gets: int = 0

    def usd(self, shape: FunctionShape, prices: Prices) -> float:
        gb = shape.memory_mb / 1024
        extra_storage_gb = max(0, shape.ephemeral_mb - FREE_EPHEMERAL_MB) / 1024
        return (
            self.lambda_seconds * gb * prices.lambda_gb_second(shape.architecture)
            + self.lambda_seconds * extra_storage_gb * prices.lambda_ephemeral_gb_second
            + self.invocations * prices.lambda_request
            + self.state_transitions * prices.sfn_state_transition
            + self.s3_puts * prices.s3_put
            + self.s3_gets * prices.s3_get
        )


@dataclass(frozen=True)
class Estimate:
    frames: int
    chunks: int
    seconds_per_frame: float
    low: Usage
    high: Usage
    low_usd: float
    high_usd: float
    wall_seconds: float
    prices: Prices

    def lines(self) -> list[str]:
        low, high = self.low, self.high
        return [
            f"estimate: {self.frames} frames in {self.chunks} chunks, {self.seconds_per_frame:.3f} s per frame"
            f" in the sample chunk",
            f"  Lambda: {low.invocations} invocations, {low.lambda_seconds:,.0f}-{high.lambda_seconds:,.0f} s",
            f"  Step Functions: {low.state_transitions} state transitions",
            f"  S3: {low.s3_puts} PUT/LIST and {low.s3_gets} GET requests",
            f"  about {self.wall_seconds:,.0f} s from start to finish",
            f"  cost: ${self.low_usd:.4f}-${self.high_usd:.4f}"
            f" (prices of {self.prices.region}, read {self.prices.read_on}; no free tier)",
        ]


def state_transitions(chunks: int) -> int:
    """Plan, the Map, one RenderChunk per chunk, Assemble."""
    return 3 + chunks


def estimate(
    sample: Sample,
    chunk_frames: Sequence[int],
    shape: FunctionShape,
    prices: Prices,
    *,
    max_concurrency: int,
    poll_seconds: float,
) -> Estimate:
    chunks = len(chunk_frames)
    chunk_seconds = [sample.seconds_per_frame * frames for frames in chunk_frames]
    # Assembling reads every chunk once; it is counted as long as the plan plus the longest chunk.
    assemble_seconds = sample.plan_seconds + max(chunk_seconds, default=0.0)
    seconds = sample.plan_seconds + sum(chunk_seconds) + assemble_seconds
    waves = math.ceil(chunks / max(1, max_concurrency))
    wall = sample.plan_seconds + waves * max(chunk_seconds, default=0.0) + assemble_seconds
    polls = math.ceil(wall * HIGH_FACTOR / poll_seconds) if poll_seconds > 0 else 0

    def usage(factor: float) -> Usage:
        return Usage(
            invocations=2 + chunks,
            lambda_seconds=seconds * factor,
            state_transitions=state_transitions(chunks),
            # project, plan, chunks, output and its frame manifest; one LIST per progress poll
            s3_puts=1 + 1 + chunks + 2 + polls,
            # the project, the plan for every chunk and for assemble, every chunk, the download
            s3_gets=1 + chunks + 1 + chunks + 1,
        )

    low, high = usage(LOW_FACTOR), usage(HIGH_FACTOR)
    return Estimate(
        frames=sum(chunk_frames),
        chunks=chunks,
        seconds_per_frame=sample.seconds_per_frame,
        low=low,
        high=high,
        low_usd=low.usd(shape, prices),
        high_usd=high.usd(shape, prices),
        wall_seconds=wall,
        prices=prices,
    )


def _seconds(start: Any, end: Any) -> float:
    if isinstance(start, datetime) and isinstance(end, datetime):
        return max(0.0, (end - start).total_seconds())
    return 0.0


def accrued(events: Iterable[Mapping[str, Any]]) -> Usage:
    """Invocations, their measured seconds and the states entered so far, from the execution's history.

    A task still running counts as an invocation with no seconds yet."""
    listed = list(events)
    by_id = {event.get("id"): event for event in listed}
    started = [event for event in listed if event.get("type") == "TaskStarted"]
    seconds = 0.0
    for event in listed:
        if event.get("type") in TASK_END_EVENTS:
            begun = by_id.get(event.get("previousEventId"))
            if begun is not None and begun.get("type") == "TaskStarted":
                seconds += _seconds(begun.get("timestamp"), event.get("timestamp"))
    entered = sum(1 for event in listed if str(event.get("type", "")).endswith("StateEntered"))
    return Usage(invocations=len(started), lambda_seconds=seconds, state_transitions=entered)
