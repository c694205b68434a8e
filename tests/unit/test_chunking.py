from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handler.errors import InvalidEvent
from handler.render.chunking import DEFAULT_FRAMES_PER_CHUNK, chunk_table


def test_count_splits_unevenly_with_sizes_differing_by_at_most_one() -> None:
    assert chunk_table(10, chunks=4) == ((0, 2), (2, 5), (5, 7), (7, 10))


def test_frames_per_chunk_leaves_a_short_last_chunk_and_no_empty_one() -> None:
    assert chunk_table(10, frames_per_chunk=4) == ((0, 4), (4, 8), (8, 10))
    assert chunk_table(8, frames_per_chunk=4) == ((0, 4), (4, 8))


def test_more_chunks_than_frames_gives_one_frame_each() -> None:
    assert chunk_table(3, chunks=8) == ((0, 1), (1, 2), (2, 3))


def test_default_is_fixed_frames_per_chunk() -> None:
    table = chunk_table(DEFAULT_FRAMES_PER_CHUNK * 2 + 1)
    assert [end - start for start, end in table] == [DEFAULT_FRAMES_PER_CHUNK, DEFAULT_FRAMES_PER_CHUNK, 1]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"chunks": 0}, "Config.Chunks"),
        ({"frames_per_chunk": 0}, "Config.FramesPerChunk"),
        ({"chunks": 2, "frames_per_chunk": 2}, "Config"),
    ],
)
def test_bad_settings_name_the_field(kwargs: dict[str, int], field: str) -> None:
    with pytest.raises(InvalidEvent) as raised:
        chunk_table(10, **kwargs)
    assert raised.value.field == field


@given(st.integers(1, 5000), st.integers(1, 300), st.booleans())
def test_chunks_tile_the_frames_in_order(total: int, n: int, by_count: bool) -> None:
    table = chunk_table(total, chunks=n) if by_count else chunk_table(total, frames_per_chunk=n)
    assert table[0][0] == 0 and table[-1][1] == total
    for (_, end), (start, _) in pairwise(table):
        assert end == start
    assert all(end > start for start, end in table)
