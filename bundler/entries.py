"""What goes into the zip: one ``Entry`` per file, with where it came from."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bundler.errors import ZipLayoutError

COMPONENTS = ("chromium", "ffmpeg", "python-deps", "handler", "other")


@dataclass(frozen=True)
class Entry:
    """A file of the zip: its bytes (in memory or on disk) and its provenance."""

    arcname: str
    item: str
    component: str
    executable: bool = False
    data: bytes | None = None
    path: Path | None = None

    def read(self) -> bytes:
        if self.data is not None:
            return self.data
        assert self.path is not None
        return self.path.read_bytes()


def check_arcname(name: str) -> str:
    """Refuse names that would unpack outside the task root or collide on case."""
    parts = name.split("/")
    if not name or name.startswith("/") or any(part in ("", ".", "..") for part in parts) or "\\" in name:
        raise ZipLayoutError(f"unsafe path in the zip: {name!r}")
    return name
