"""Error classes: codes, retryability, and their way across a process pool."""

from __future__ import annotations

import pickle
from concurrent.futures import ProcessPoolExecutor

import pytest

from handler.errors import (
    ChromeCrashed,
    InvalidEvent,
    NetworkBlocked,
    PlanHashMismatch,
    RenderzipError,
    all_error_types,
)

SAMPLES: list[RenderzipError] = [
    InvalidEvent("ChunkIndex", "must be an integer"),
    PlanHashMismatch("before unpacking", "v1-" + "a" * 64, "v1-" + "b" * 64),
    ChromeCrashed("the pipe closed", exit_status=-9, stderr_tail="last words"),
    NetworkBlocked(["http://example.invalid/a.png"]),
]


def _raise(error: RenderzipError) -> None:
    raise error


@pytest.mark.parametrize("error", SAMPLES, ids=lambda error: error.code)
def test_an_error_survives_pickling_with_its_class_message_and_fields(error: RenderzipError) -> None:
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert (str(copy), copy.args, vars(copy)) == (str(error), error.args, vars(error))
    assert (copy.code, copy.retryable) == (error.code, error.retryable)


@pytest.mark.parametrize("error", SAMPLES, ids=lambda error: error.code)
def test_an_error_raised_in_a_pool_worker_reaches_the_caller_as_itself(error: RenderzipError) -> None:
    with ProcessPoolExecutor(max_workers=1) as pool, pytest.raises(type(error)) as raised:
        pool.submit(_raise, error).result()
    assert str(raised.value) == str(error)
    assert vars(raised.value) == vars(error)


def test_every_error_class_has_a_unique_name_that_is_its_code() -> None:
    names = [cls.__name__ for cls in all_error_types()]
    assert len(names) == len(set(names))
    assert all(issubclass(cls, RenderzipError) for cls in all_error_types())
    for error in SAMPLES:
        assert error.code == type(error).__name__


def test_the_retryable_and_permanent_codes_split_every_code_once() -> None:
    from handler.errors import permanent_codes, retryable_codes  # noqa: PLC0415

    retryable, permanent = retryable_codes(), permanent_codes()
    assert sorted(retryable + permanent) == sorted(cls.__name__ for cls in all_error_types())
    assert not set(retryable) & set(permanent)
    # What the state machine's Retry relies on: a crashed Chrome is retried, a wrong plan is not.
    assert "ChromeCrashed" in retryable and ChromeCrashed("x").retryable
    assert {"PlanHashMismatch", "InvalidEvent", "NetworkBlocked"} <= set(permanent)
