"""Packing a composition directory as a deterministic tar.gz for upload.

`handler.edge.archive.pack_tree(src_dir, out_tar_gz) -> sha256` is used when the
handler provides it; until then `_pack_tree` below does the same job: regular
files only (a symbolic link is refused), sorted by path, owner 0, mode 0644 or
0755, time 0, and a gzip header without name or time, so the same directory
always packs to the same bytes.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib
import os
import tarfile
from collections.abc import Callable
from pathlib import Path

from deploy.errors import DeployError

Packer = Callable[[Path, Path], str]
"""``packer(src_dir, out_tar_gz) -> sha256 hex of the archive``."""


def default_packer() -> Packer:
    try:
        module = importlib.import_module("handler.edge.archive")
    except ImportError:
        return _pack_tree
    packer: Packer = module.pack_tree
    return packer


def _files(root: Path) -> list[tuple[str, Path]]:
    found: list[tuple[str, Path]] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            if path.is_symlink():
                raise DeployError(
                    f"{path}: the composition holds a symbolic link",
                    "copy the file it points to into the composition directory",
                )
        found.extend((Path(dirpath, name).relative_to(root).as_posix(), Path(dirpath, name)) for name in filenames)
    return sorted(found)


def _pack_tree(src_dir: Path, out_tar_gz: Path) -> str:
    with (
        out_tar_gz.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as zipped,
        tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for relative, path in _files(src_dir):
            info = tarfile.TarInfo(relative)
            info.size = path.stat().st_size
            info.mode = 0o755 if os.access(path, os.X_OK) else 0o644
            info.mtime = 0
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            with path.open("rb") as handle:
                tar.addfile(info, handle)
    with out_tar_gz.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
