"""What an execution's history says about how it ended: the state, the chunk and the error that failed it.

A failed task is followed back through its events (``previousEventId``) to the
``TaskScheduled`` event, whose parameters hold the function's payload (its
``Action`` and ``ChunkIndex``), and to the ``TaskStateEntered`` event that names
the state. The cause Step Functions records for a function error is Lambda's
error document; its ``errorMessage`` is the part a user reads.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

FAILED_TASK_EVENTS = ("TaskFailed", "LambdaFunctionFailed", "TaskTimedOut")
MAX_HOPS = 16


@dataclass(frozen=True)
class TaskFailure:
    state: str | None
    action: str | None
    chunk_index: int | None
    error: str
    message: str

    def line(self) -> str:
        where = f"state {self.state or '?'}"
        if self.chunk_index is not None:
            where += f", chunk {self.chunk_index}"
        return f"{where}: {self.error}: {self.message}" if self.message else f"{where}: {self.error}"


def error_message(cause: str) -> str:
    """The ``errorMessage`` of Lambda's error document, or the cause as it is."""
    try:
        document = json.loads(cause)
    except json.JSONDecodeError:
        return cause.strip()
    if isinstance(document, dict) and isinstance(document.get("errorMessage"), str):
        return str(document["errorMessage"])
    return cause.strip()


def _details(event: Mapping[str, Any]) -> Mapping[str, Any]:
    for key, value in event.items():
        if key.endswith("EventDetails") and isinstance(value, Mapping):
            return value
    return {}


def _payload(scheduled: Mapping[str, Any]) -> Mapping[str, Any]:
    try:
        parameters = json.loads(_details(scheduled).get("parameters", "{}"))
    except json.JSONDecodeError:
        return {}
    payload = parameters.get("Payload") if isinstance(parameters, dict) else None
    return payload if isinstance(payload, dict) else {}


def retried_tasks(events: Iterable[Mapping[str, Any]]) -> list[tuple[str | None, int | None]]:
    """(action, chunk index) of every task scheduled, in order: a pair seen twice was retried."""
    return [
        (_payload(event).get("Action"), _payload(event).get("ChunkIndex"))
        for event in events
        if event.get("type") == "TaskScheduled"
    ]


def first_failure(events: Iterable[Mapping[str, Any]]) -> TaskFailure | None:
    """The first task that failed, with its state, action and chunk; None when no task failed."""
    listed = list(events)
    by_id = {event.get("id"): event for event in listed}
    failed = next((event for event in listed if event.get("type") in FAILED_TASK_EVENTS), None)
    if failed is None:
        return None
    details = _details(failed)
    scheduled: Mapping[str, Any] | None = None
    state: str | None = None
    current: Mapping[str, Any] | None = failed
    for _ in range(MAX_HOPS):
        current = by_id.get(current.get("previousEventId")) if current is not None else None
        if current is None:
            break
        if scheduled is None and current.get("type") == "TaskScheduled":
            scheduled = current
        if current.get("type") == "TaskStateEntered":
            state = str(_details(current).get("name")) or None
            break
    payload = _payload(scheduled) if scheduled is not None else {}
    index = payload.get("ChunkIndex")
    return TaskFailure(
        state=state,
        action=payload.get("Action") if isinstance(payload.get("Action"), str) else None,
        chunk_index=index if isinstance(index, int) and not isinstance(index, bool) else None,
        error=str(details.get("error", "")) or "States.TaskFailed",
        message=error_message(str(details.get("cause", ""))),
    )
