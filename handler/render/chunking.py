"""The chunk table: which frames each worker renders.

Chunks are half-open ranges ``[start, end)`` that tile ``[0, total)`` in order,
with no empty chunk. Either the number of chunks or the frames per chunk is
chosen; with a count, sizes differ by at most one frame.
"""

from __future__ import annotations

from itertools import pairwise

from handler.errors import InvalidEvent

DEFAULT_FRAMES_PER_CHUNK = 120

ChunkTable = tuple[tuple[int, int], ...]


def chunk_table(total: int, *, chunks: int | None = None, frames_per_chunk: int | None = None) -> ChunkTable:
    if total < 1:
        raise ValueError(f"a render needs at least one frame, got {total}")
    if chunks is not None and frames_per_chunk is not None:
        raise InvalidEvent("Config", "give Chunks or FramesPerChunk, not both")
    if chunks is not None:
        if chunks < 1:
            raise InvalidEvent("Config.Chunks", f"must be >= 1, got {chunks}")
        count = min(chunks, total)  # never an empty chunk
        bounds = [index * total // count for index in range(count + 1)]
        return tuple(pairwise(bounds))
    size = DEFAULT_FRAMES_PER_CHUNK if frames_per_chunk is None else frames_per_chunk
    if size < 1:
        raise InvalidEvent("Config.FramesPerChunk", f"must be >= 1, got {size}")
    return tuple((start, min(start + size, total)) for start in range(0, total, size))
