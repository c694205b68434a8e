"""Budgets: refused with the knob to turn, and the history formula."""

from __future__ import annotations

import pytest

from deploy import budgets
from deploy.errors import BudgetExceeded
from deploy.retry import RetryPolicy

SMALL_INPUT: dict[str, object] = {
    "ProjectUri": "s3://b/k",
    "OutputPrefix": "s3://b/p",
    "OutputUri": "s3://b/o",
    "Config": {},
}


def test_history_formula_counts_each_state_and_the_worst_case_retries() -> None:
    assert budgets.history_events(0, 0) == 2 + 2 * 5 + 4
    assert budgets.history_events(1, 0) - budgets.history_events(0, 0) == 7
    assert budgets.history_events(100, 3) == 34 + 16 * 100


@pytest.mark.parametrize(("attempts", "cap"), [(0, 3569), (3, 1560), (6, 997), (10, 673)])
def test_most_chunks_for_history(attempts: int, cap: int) -> None:
    assert budgets.max_chunks_for_history(attempts) == cap
    assert (
        budgets.history_events(cap, attempts) < budgets.MAX_HISTORY_EVENTS <= budgets.history_events(cap + 1, attempts)
    )


def test_chunk_cap_is_four_waves_of_the_concurrency_up_to_1000() -> None:
    assert [budgets.chunk_cap(n) for n in (1, 10, 250, 1000)] == [4, 40, 1000, 1000]


def test_a_render_inside_every_limit_gets_its_budget() -> None:
    budget = budgets.check(SMALL_INPUT, chunks=40, max_concurrency=10, retry=RetryPolicy())
    assert (budget.chunks, budget.chunk_cap, budget.history_events) == (40, 40, 34 + 16 * 40)


def test_too_many_chunks_names_frames_per_chunk_and_max_concurrency() -> None:
    with pytest.raises(BudgetExceeded) as refused:
        budgets.check(SMALL_INPUT, chunks=41, max_concurrency=10, retry=RetryPolicy())
    assert (refused.value.actual, refused.value.limit, refused.value.knob) == (41, 40, "FramesPerChunk")
    assert "MaxConcurrency" in refused.value.hint


def test_history_over_the_cap_is_refused_with_the_chunk_count_that_fits() -> None:
    with pytest.raises(BudgetExceeded, match="history events") as refused:
        budgets.check(SMALL_INPUT, chunks=998, max_concurrency=1000, retry=RetryPolicy(max_attempts=6))
    assert "at most 997 chunks" in refused.value.hint


def test_an_input_over_256_kib_is_refused() -> None:
    big = {**SMALL_INPUT, "Config": {"Note": "é" * 131_072}}
    with pytest.raises(BudgetExceeded, match="execution input") as refused:
        budgets.check(big, chunks=1, max_concurrency=1, retry=RetryPolicy())
    assert refused.value.actual > budgets.MAX_INPUT_BYTES
