"""How far a remote render is, read from what it wrote to S3.

The plan is written to ``<OutputPrefix>/<PlanHash>/plan.tar.gz`` and each chunk
to ``<OutputPrefix>/<PlanHash>/chunks/NNNN.mp4``; an object appears only once
its upload is complete. Every render has its own ``OutputPrefix``, so the one
directory under it names the ``PlanHash``. The chunk count is read once from
``plan.json`` inside the plan archive, streaming only up to that member.
"""

from __future__ import annotations

import json
import re
import sys
import tarfile
from dataclasses import dataclass
from typing import Any

from handler.render.planfile import PLAN_FILE, PlanDoc

PLAN_ARCHIVE = "plan.tar.gz"
CHUNK_NAME = re.compile(r"[0-9]{4,}\.[a-z0-9]+")  # .mp4, .webm, .mov, or .mkv for the assembled formats


@dataclass(frozen=True)
class Progress:
    status: str
    """The execution's status: RUNNING, SUCCEEDED, FAILED, TIMED_OUT or ABORTED."""
    done: int
    total: int | None
    """None until the plan is written."""
    plan_hash: str | None = None
    elapsed_s: float = 0.0
    """Since the execution was started."""
    cost_usd: float | None = None
    """Accrued so far, from the invocations' measured durations and the states entered."""

    def line(self) -> str:
        took = f" ({self.elapsed_s:.0f} s" + ("" if self.cost_usd is None else f", ${self.cost_usd:.4f} so far") + ")"
        if self.total is None:
            return f"{self.status.lower()}: planning{took}"
        return f"{self.status.lower()}: chunks {self.done}/{self.total}{took}"


def _plan_doc_from_stream(body: Any) -> PlanDoc | None:
    with tarfile.open(fileobj=body, mode="r|gz") as tar:
        for member in tar:
            if member.isfile() and member.name.removeprefix("./") == PLAN_FILE:
                stream = tar.extractfile(member)
                return None if stream is None else PlanDoc.from_json(json.loads(stream.read()))
    return None


class ProgressReader:
    """Reads the progress of the render under ``s3://bucket/prefix_key/``; remembers the plan once found."""

    def __init__(self, s3: Any, bucket: str, prefix_key: str) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._prefix = prefix_key.rstrip("/") + "/"
        self._plan_hash: str | None = None
        self._total: int | None = None

    def _find_plan(self) -> None:
        listing = self._s3.list_objects_v2(Bucket=self._bucket, Prefix=self._prefix, Delimiter="/")
        for common in listing.get("CommonPrefixes", []):
            directory = common["Prefix"]
            try:
                body = self._s3.get_object(Bucket=self._bucket, Key=directory + PLAN_ARCHIVE)["Body"]
            except self._s3.exceptions.NoSuchKey:
                continue
            doc = _plan_doc_from_stream(body)
            if doc is not None:
                self._plan_hash = directory[len(self._prefix) :].rstrip("/")
                self._total = len(doc.chunks)
                return

    def _count_chunks(self) -> int:
        prefix = f"{self._prefix}{self._plan_hash}/chunks/"
        done = 0
        for page in self._s3.get_paginator("list_objects_v2").paginate(Bucket=self._bucket, Prefix=prefix):
            done += sum(1 for item in page.get("Contents", []) if CHUNK_NAME.fullmatch(item["Key"][len(prefix) :]))
        return done

    def read(self, status: str) -> Progress:
        if self._total is None:
            self._find_plan()
        if self._total is None:
            return Progress(status, 0, None)
        return Progress(status, self._count_chunks(), self._total, self._plan_hash)


def show_progress(progress: Progress) -> None:
    """One line per poll on stderr; at a terminal the line is rewritten in place."""
    if sys.stderr.isatty():
        print(f"\r{progress.line():<60}", end="" if progress.status == "RUNNING" else "\n", file=sys.stderr, flush=True)
    else:
        print(progress.line(), file=sys.stderr, flush=True)
