"""How a chunk's frames are shared among K capturing browsers."""

from __future__ import annotations

import os

import pytest

from handler.render.capture import (
    BUFFER_BUDGET_BYTES,
    MIN_BLOCK_FRAMES,
    choose_pages,
    frame_bytes_estimate,
    plan_blocks,
    usable_cores,
)


def test_blocks_cover_the_range_once_in_order() -> None:
    plan = plan_blocks(17, 107, 3, frame_bytes=1)
    assert plan.blocks == ((17, 47), (47, 77), (77, 107))
    assert plan.pages == 3


def test_one_page_is_one_block_whatever_the_size() -> None:
    assert plan_blocks(0, 5000, 1, frame_bytes=10**9).blocks == ((0, 5000),)


def test_uneven_ranges_give_the_first_blocks_one_frame_more() -> None:
    assert plan_blocks(0, 61, 2, frame_bytes=1).blocks == ((0, 31), (31, 61))


def test_a_small_buffer_cuts_more_blocks_than_pages() -> None:
    frame = frame_bytes_estimate(1920, 1080, "png")
    plan = plan_blocks(0, 300, 2, frame_bytes=frame)
    assert len(plan.blocks) > 2
    longest = max(end - start for start, end in plan.blocks)
    assert longest * frame * (plan.pages - 1) <= BUFFER_BUDGET_BYTES
    assert [b[0] for b in plan.blocks[1:]] == [b[1] for b in plan.blocks[:-1]]


def test_a_budget_of_one_frame_gives_one_frame_blocks() -> None:
    plan = plan_blocks(0, 4, 2, frame_bytes=100, budget=100)
    assert plan.blocks == ((0, 1), (1, 2), (2, 3), (3, 4))


@pytest.mark.parametrize(
    ("requested", "frames", "cores", "pages"),
    [
        (None, 60, 2, 2),
        (None, 30, 2, 1),  # shares shorter than a block: one page
        (None, 10 * MIN_BLOCK_FRAMES, 6, 6),
        (3, 60, 2, 3),  # a request may exceed the cores
        (8, 5, 2, 5),  # but not the frames
        (0, 60, 2, 2),  # 0 means choose
    ],
)
def test_pages_follow_the_request_or_the_cores(requested: int | None, frames: int, cores: int, pages: int) -> None:
    assert choose_pages(requested, frames, cores=cores) == pages


def test_lambda_memory_caps_the_cores() -> None:
    mine = len(os.sched_getaffinity(0))
    assert usable_cores({}) == mine
    assert usable_cores({"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024"}) == 1
    assert usable_cores({"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "2048"}) == min(mine, 2)
    assert usable_cores({"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "10240"}) == min(mine, 6)
