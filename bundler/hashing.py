"""Streaming digests of files and bytes."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path


def file_digest(path: Path, algorithm: str = "sha256") -> str:
    """Hex digest of a file, streamed, so large binaries stay out of memory."""
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, algorithm).hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def npm_integrity(path: Path) -> str:
    """The `sha512-<base64>` form npm records in `integrity`."""
    raw = bytes.fromhex(file_digest(path, "sha512"))
    return "sha512-" + base64.b64encode(raw).decode("ascii")


def code_sha256(hex_sha256: str) -> str:
    """Lambda's `CodeSha256`: the base64 form of the zip's sha256."""
    return base64.b64encode(bytes.fromhex(hex_sha256)).decode("ascii")


def integrity_hex(integrity: str) -> str:
    """The hex digest inside an npm `sha512-<base64>` integrity string."""
    return base64.b64decode(integrity.partition("-")[2]).hex()
