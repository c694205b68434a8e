"""A content-addressed cache of verified downloads and of derived files.

Downloads live under ``blobs/<algorithm>/<hex>/<filename>``: the path is the hash
the lockfile pins, and the bytes are checked against it every time they are
used, so a corrupted or tampered entry is caught, never shipped. Derived
files (the packaged form of Chromium and ffmpeg) live under
``derived/<key>/``, where the key hashes every input of the derivation; a
``.complete`` marker written last tells a finished entry from a broken one.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from bundler.errors import HashMismatch
from bundler.hashing import file_digest

_COMPLETE = ".complete"


def default_cache_root() -> Path:
    explicit = os.environ.get("RENDERZIP_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "renderzip"


class Cache:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _blob_dir(self, algorithm: str, digest: str) -> Path:
        return self.root / "blobs" / algorithm / digest

    def get(self, item: str, digest: str, filename: str, algorithm: str = "sha256") -> Path | None:
        """The cached file, verified; None when absent; HashMismatch when corrupt."""
        path = self._blob_dir(algorithm, digest) / filename
        if not path.is_file():
            return None
        actual = file_digest(path, algorithm)
        if actual != digest:
            raise HashMismatch(f"{item} (cached at {path})", algorithm, digest, actual)
        return path

    def put(self, source: Path, item: str, digest: str, filename: str, algorithm: str = "sha256") -> Path:
        """Verify ``source`` against the pinned hash, then move it into the cache."""
        actual = file_digest(source, algorithm)
        if actual != digest:
            raise HashMismatch(item, algorithm, digest, actual)
        final_dir = self._blob_dir(algorithm, digest)
        final_dir.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".incoming-", dir=final_dir.parent))
        try:
            shutil.move(str(source), staging / filename)
            try:
                staging.rename(final_dir)
            except OSError:
                # Another build got there first: keep theirs if it verifies, else replace it.
                if (final_dir / filename).is_file() and file_digest(final_dir / filename, algorithm) == digest:
                    return final_dir / filename
                shutil.rmtree(final_dir, ignore_errors=True)
                staging.rename(final_dir)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return final_dir / filename

    def derived(self, key: str) -> Path | None:
        """A finished derived entry, or None."""
        path = self.root / "derived" / key
        return path if (path / _COMPLETE).is_file() else None

    def new_derived(self, key: str) -> Path:
        """A fresh private directory to build a derived entry in; see ``commit_derived``."""
        parent = self.root / "derived"
        parent.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f".{key[:16]}-", dir=parent))

    def commit_derived(self, key: str, workdir: Path) -> Path:
        """Mark ``workdir`` complete and move it into place atomically."""
        (workdir / _COMPLETE).write_bytes(b"")
        final = self.root / "derived" / key
        if final.exists():
            # A broken earlier attempt, or a concurrent build that won.
            if (final / _COMPLETE).is_file():
                shutil.rmtree(workdir, ignore_errors=True)
                return final
            shutil.rmtree(final)
        workdir.rename(final)
        return final
