"""Capture a frame range with several begin-frame-controlled browsers at once, in frame order.

``beginFrame`` allows one frame in flight per page, so one page keeps about 1.3
cores busy. Each of K browsers (one page each; several begin-frame pages in one
browser return empty screenshots) captures whole blocks of the range, and every
block starts with the same warm-up a chunk starts with, so its frames are the
frames any chunking gives. Blocks are handed out in order and at most K are in
flight or buffered: memory stays bounded by the block size whatever the range.
"""

from __future__ import annotations

import math
import os
import queue
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass

from handler.errors import CaptureFailed
from handler.render.chrome.page import Page

# A block's warm-up costs about two frames; below this a block spends too much of itself on it.
MIN_BLOCK_FRAMES = 24
# What the blocks waiting for the encoder may hold, whatever the frame size and format.
BUFFER_BUDGET_BYTES = 256 * 1024 * 1024
# Lambda gives one vCPU per 1,769 MB of memory, up to 6.
LAMBDA_MB_PER_VCPU = 1769
LAMBDA_MAX_VCPUS = 6
# Wait for a frame at most this long: a worker's own timeouts fire well before it.
FRAME_WAIT_S = 120.0

OpenPage = Callable[[], AbstractContextManager[Page]]
CaptureFrame = Callable[[Page, int], bytes]
WarmUp = Callable[[Page, int], None]


def usable_cores(environ: Mapping[str, str] = os.environ) -> int:
    """Cores this process may use: its CPU affinity, capped on Lambda by the memory size's vCPUs."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    memory = environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "")
    if memory.isdigit() and int(memory) > 0:
        cores = min(cores, max(1, min(LAMBDA_MAX_VCPUS, math.ceil(int(memory) / LAMBDA_MB_PER_VCPU))))
    return max(1, cores)


def choose_pages(requested: int | None, frames: int, *, cores: int) -> int:
    """K: the request (at most one page a frame), else one per usable core while shares stay long enough."""
    if requested:
        return max(1, min(requested, frames))
    return max(1, min(cores, frames // MIN_BLOCK_FRAMES))


def frame_bytes_estimate(width: int, height: int, fmt: str) -> int:
    # Upper estimates of one encoded screenshot: fast-zlib PNG stays under 4 bytes a pixel, JPEG under 1.
    return width * height * (4 if fmt == "png" else 1)


@dataclass(frozen=True)
class BlockPlan:
    blocks: tuple[tuple[int, int], ...]
    pages: int


def plan_blocks(start: int, end: int, pages: int, *, frame_bytes: int, budget: int = BUFFER_BUDGET_BYTES) -> BlockPlan:
    """Contiguous blocks covering [start, end): one per page when the buffer allows, else smaller ones."""
    frames = end - start
    if pages <= 1 or frames <= 0:
        return BlockPlan(((start, end),) if frames > 0 else (), 1)
    per_page = math.ceil(frames / pages)
    # K blocks are in flight at once; all but the one being encoded may sit in memory in full.
    fits = max(1, budget // max(1, frame_bytes * (pages - 1)))
    size = min(per_page, fits)
    count = math.ceil(frames / size)
    # Equal blocks, the first ones one frame longer where the range does not divide.
    base, extra = divmod(frames, count)
    blocks, at = [], start
    for number in range(count):
        length = base + (1 if number < extra else 0)
        blocks.append((at, at + length))
        at += length
    return BlockPlan(tuple(blocks), min(pages, count))


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


class _Scheduler:
    """Hands blocks out in order, never more than ``window`` ahead of the one being read."""

    def __init__(self, count: int, window: int) -> None:
        self._count = count
        self._window = window
        self._next = 0
        self._reading = 0
        self._stopped = False
        self._cond = threading.Condition()

    def take(self) -> int | None:
        with self._cond:
            while not self._stopped and self._next < self._count and self._next >= self._reading + self._window:
                self._cond.wait()
            if self._stopped or self._next >= self._count:
                return None
            self._next += 1
            return self._next - 1

    def reading(self, block: int) -> None:
        with self._cond:
            self._reading = block
            self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    @property
    def stopped(self) -> bool:
        return self._stopped


def capture_in_order(
    plan: BlockPlan, open_page: OpenPage, warm_up: WarmUp, capture: CaptureFrame, *, on_page: Callable[[Page], None]
) -> Iterator[bytes]:
    """Every frame of ``plan``'s blocks, in order, captured by ``plan.pages`` pages at once.

    ``open_page`` gives a context manager that launches a browser and opens the composition;
    ``on_page`` sees each page before it is closed (to collect what it blocked). The first
    error of any worker is raised here, after every worker has stopped and closed its browser.
    """
    blocks = plan.blocks
    if not blocks:
        return
    outputs: list[queue.SimpleQueue[bytes | _Failed]] = [queue.SimpleQueue() for _ in blocks]
    scheduler = _Scheduler(len(blocks), plan.pages)

    def work() -> None:
        block: int | None = None
        try:
            with open_page() as page:
                try:
                    while (block := scheduler.take()) is not None:
                        first, last = blocks[block]
                        warm_up(page, first)
                        for frame in range(first, last):
                            if scheduler.stopped:
                                return
                            outputs[block].put(capture(page, frame))
                    block = None
                finally:
                    on_page(page)
        except BaseException as error:  # handed to the reading thread, which raises it
            failed = _Failed(error)
            for output in outputs[block if block is not None else 0 :]:
                output.put(failed)

    workers = [threading.Thread(target=work, name=f"capture-{n}", daemon=True) for n in range(plan.pages)]
    for worker in workers:
        worker.start()
    try:
        for number, (first, last) in enumerate(blocks):
            scheduler.reading(number)
            for frame in range(first, last):
                try:
                    item = outputs[number].get(timeout=FRAME_WAIT_S)
                except queue.Empty:
                    raise CaptureFailed(f"frame {frame}: no capture within {FRAME_WAIT_S:.0f} s") from None
                if isinstance(item, _Failed):
                    raise item.error
                yield item
    finally:
        scheduler.stop()
        for worker in workers:
            worker.join()
