"""Which requests a composition may make: its own files, and nothing else."""

from __future__ import annotations

import threading
from pathlib import Path
from urllib.parse import unquote, urlsplit

# Schemes that never leave the page (inline data, generated objects).
INLINE_SCHEMES = frozenset({"data", "blob", "about"})


def allowed(url: str, root: Path) -> bool:
    """True for inline URLs and for ``file://`` URLs naming a file inside ``root`` once resolved."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in INLINE_SCHEMES:
        return True
    if scheme != "file" or parts.netloc not in ("", "localhost"):
        return False
    # Resolving follows symlinks and collapses "..", so neither can lead outside. A path no file
    # can have (a NUL byte in it) is refused, not an error on the reader thread.
    try:
        target = Path(unquote(parts.path)).resolve()
    except (ValueError, OSError):
        return False
    return target.is_relative_to(root.resolve())


def missing(url: str, root: Path) -> str | None:
    """For an allowed ``file://`` URL naming nothing that exists: its path inside ``root``; else None."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "file":
        return None
    target = Path(unquote(parts.path)).resolve()
    if target.is_file():
        return None
    resolved_root = root.resolve()
    return target.relative_to(resolved_root).as_posix() if target.is_relative_to(resolved_root) else None


class BlockedLog:
    """The URLs (or paths) refused so far, each once, in the order they were first refused."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._urls: dict[str, None] = {}

    def add(self, url: str) -> None:
        with self._lock:
            self._urls.setdefault(url, None)

    def urls(self) -> list[str]:
        with self._lock:
            return list(self._urls)
