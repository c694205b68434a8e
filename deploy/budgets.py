"""Step Functions limits, checked before a render starts.

Three limits, each refused with `BudgetExceeded` naming the knob to turn:

* **Execution input** at most 262,144 bytes (256 KiB, UTF-8 JSON), Step
  Functions' payload cap. Knob: ``Config`` (the input holds little else).
* **Chunk count** at most ``min(1000, MaxConcurrency * MAX_WAVES)``. 1000 is
  the most ``States.ArrayRange`` produces and the most chunk results that fit
  one 256 KiB payload (each under 200 bytes). ``MAX_WAVES`` (4) bounds how many
  chunks each concurrency slot runs in turn: past that, chunks are so short
  that fixed costs (cold start, fetching and verifying the plan) dominate and
  more chunks only add overhead. Knobs: ``FramesPerChunk`` up or ``Chunks``
  down, or deploy with a larger ``MaxConcurrency``.
* **History events** under 25,000 (a Standard workflow's hard cap). The
  estimate counts the events each state writes, assuming the worst case where
  every task uses all its retries (see `history_events`). Knobs as above, or
  fewer retry attempts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from deploy.errors import BudgetExceeded
from deploy.retry import RetryPolicy

MAX_INPUT_BYTES = 262_144
MAX_HISTORY_EVENTS = 25_000
MAX_CHUNKS = 1000
MAX_WAVES = 4

EXECUTION_EVENTS = 2
"""ExecutionStarted, ExecutionSucceeded."""
TASK_EVENTS = 5
"""TaskStateEntered, TaskScheduled, TaskStarted, TaskSucceeded, TaskStateExited."""
RETRY_EVENTS = 3
"""Each retry adds TaskFailed, then TaskScheduled and TaskStarted again."""
MAP_EVENTS = 4
"""MapStateEntered, MapStateStarted, MapStateSucceeded, MapStateExited."""
ITERATION_EVENTS = 2
"""MapIterationStarted, MapIterationSucceeded, around each chunk's task."""


def history_events(chunks: int, max_attempts: int) -> int:
    """Worst-case history events of one execution with ``chunks`` chunks.

    ``2 + 2 * (5 + 3R) + 4 + N * (2 + 5 + 3R)`` with R = ``max_attempts``
    retries: the execution's two events, the plan and assemble tasks, the Map
    itself, and per chunk one inline iteration around one task. With R = 3
    that is ``34 + 16N``.
    """
    task = TASK_EVENTS + RETRY_EVENTS * max_attempts
    return EXECUTION_EVENTS + 2 * task + MAP_EVENTS + chunks * (ITERATION_EVENTS + task)


def max_chunks_for_history(max_attempts: int) -> int:
    """The most chunks whose worst-case history stays under `MAX_HISTORY_EVENTS`."""
    fixed = history_events(0, max_attempts)
    per_chunk = history_events(1, max_attempts) - fixed
    return (MAX_HISTORY_EVENTS - 1 - fixed) // per_chunk


def chunk_cap(max_concurrency: int) -> int:
    return min(MAX_CHUNKS, max_concurrency * MAX_WAVES)


def input_bytes(execution_input: dict[str, object]) -> int:
    return len(json.dumps(execution_input, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


@dataclass(frozen=True)
class Budget:
    input_bytes: int
    chunks: int
    chunk_cap: int
    history_events: int


def check(execution_input: dict[str, object], *, chunks: int, max_concurrency: int, retry: RetryPolicy) -> Budget:
    """The budget of one render, or `BudgetExceeded` for the first limit it breaks."""
    size = input_bytes(execution_input)
    if size > MAX_INPUT_BYTES:
        raise BudgetExceeded(
            "execution input (bytes)",
            size,
            MAX_INPUT_BYTES,
            "Config",
            "the input holds the URIs and Config only: shorten the prefix or drop Config fields",
        )
    cap = chunk_cap(max_concurrency)
    if chunks > cap:
        raise BudgetExceeded(
            "chunk count",
            chunks,
            cap,
            "FramesPerChunk",
            f"raise Config.FramesPerChunk or lower Config.Chunks; the cap is min({MAX_CHUNKS}, "
            f"MaxConcurrency {max_concurrency} x {MAX_WAVES}), so a larger MaxConcurrency "
            "(python -m deploy up --max-concurrency N) raises it too",
        )
    events = history_events(chunks, retry.max_attempts)
    if events >= MAX_HISTORY_EVENTS:
        raise BudgetExceeded(
            "execution history events (worst case)",
            events,
            MAX_HISTORY_EVENTS - 1,
            "FramesPerChunk",
            f"at most {max_chunks_for_history(retry.max_attempts)} chunks fit with {retry.max_attempts} retries: "
            "raise Config.FramesPerChunk, lower Config.Chunks, or retry fewer times",
        )
    return Budget(size, chunks, cap, events)
