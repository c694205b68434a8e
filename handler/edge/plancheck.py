"""A downloaded plan archive checked against its hash while it streams, before anything is unpacked.

The archive comes from storage, so it is untrusted until it hashes to the ``PlanHash`` of the
event: it is read once, under the extraction limits of `handler.edge.archive`, and only a
``plan.json`` small enough to be a plan is read into memory.
"""

from __future__ import annotations

import hashlib
import json
import tarfile
from collections.abc import Mapping
from pathlib import Path
from typing import IO

from handler.edge.archive import stream_archive, stream_sha256
from handler.errors import InvalidPlan, PlanHashMismatch, UnsafeArchive
from handler.render.planfile import MAX_PLAN_DOC_BYTES, PLAN_FILE, PlanDoc, plan_hash_of


def verify_plan_archive(
    archive: Path, expected: str, runtime: Mapping[str, str], *, max_document: int = MAX_PLAN_DOC_BYTES
) -> PlanDoc:
    """Check a packed plan against ``expected`` by streaming it, before anything is unpacked; its document.

    The stream is checked with the extraction limits while it is read (`UnsafeArchive`), and
    ``plan.json`` is read only when its header says it is at most ``max_document`` bytes, so
    memory stays bounded whatever the archive holds.
    """
    digests: list[tuple[str, str]] = []
    document: bytes | None = None

    def on_file(name: str, member: tarfile.TarInfo, stream: IO[bytes]) -> None:
        nonlocal document
        if name == PLAN_FILE:
            if member.size > max_document:
                raise InvalidPlan(
                    f"{PLAN_FILE} in {archive.name} is {member.size} bytes; a plan document is at most "
                    f"{max_document} bytes"
                )
            document = stream.read(max_document + 1)
            digests.append((name, hashlib.sha256(document).hexdigest()))
        else:
            digests.append((name, stream_sha256(stream)))

    try:
        stream_archive(archive, on_file)
    except OSError as error:
        raise InvalidPlan(f"{archive.name} is not a readable plan archive: {error}") from error
    except UnsafeArchive as error:
        if error.unreadable:  # a broken download, not a hostile plan
            raise InvalidPlan(f"{archive.name} is not a readable plan archive: {error}") from error
        raise
    if document is None:
        raise InvalidPlan(f"{archive.name} holds no {PLAN_FILE}")
    try:
        doc = PlanDoc.from_json(json.loads(document))
    except json.JSONDecodeError as error:
        raise InvalidPlan(f"{PLAN_FILE} in {archive.name} is not JSON: {error}") from error
    actual = plan_hash_of(digests, doc.encoder, runtime)
    if actual != expected:
        raise PlanHashMismatch(f"for {archive.name} (before unpacking)", expected, actual)
    return doc
