"""The Lambda file layout the stand-in image adds to a Debian root filesystem.

The layout is data (directories, symlinks, the function's user), so its
description is part of the stand-in's tag: changing it changes the tag and
triggers a rebuild. ``apply_layout`` writes it into an unpacked root.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from probes import lambda_env

# Bump when apply_layout changes in a way the data below does not show.
LAYOUT_VERSION = 1

# Left by debootstrap, useless in an image that never runs apt: package downloads and indexes.
_CACHES = ("var/cache/apt/archives", "var/lib/apt/lists")


@dataclass(frozen=True)
class Layout:
    directories: tuple[tuple[str, int], ...]  # absolute path inside the image, mode
    links: tuple[tuple[str, str], ...]  # absolute path of the link, its target
    user: tuple[str, int, int]  # name, uid, gid

    def describe(self) -> dict[str, Any]:
        """A JSON-ready description, stable across runs."""
        return {
            "version": LAYOUT_VERSION,
            "directories": [[path, oct(mode)] for path, mode in self.directories],
            "links": [list(link) for link in self.links],
            "user": list(self.user),
        }


def lambda_layout(python_minor: str) -> Layout:
    """`/var/task`, `/var/runtime`, `/var/lang/bin/python3` (-> the system python3) and uid 993."""
    python = f"/usr/bin/python{python_minor}"
    return Layout(
        directories=(
            (lambda_env.TASK_ROOT, 0o755),
            (lambda_env.RUNTIME_DIR, 0o755),
            (lambda_env.LANG_BIN, 0o755),
            ("/var/lang/lib", 0o755),
            ("/opt", 0o755),
            (lambda_env.TMP, 0o1777),
        ),
        links=(
            (lambda_env.PYTHON, python),
            (f"{lambda_env.LANG_BIN}/python", python),
            (f"{lambda_env.LANG_BIN}/python{python_minor}", python),
        ),
        user=(lambda_env.USER_NAME, lambda_env.USER_ID, lambda_env.GROUP_ID),
    )


def _inside(root: Path, path: str) -> Path:
    return root / path.lstrip("/")


def _append_line(path: Path, line: str, key: str) -> None:
    """Add ``line`` to an /etc database unless an entry named ``key`` is already there."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if any(existing.split(":", 1)[0] == key for existing in text.splitlines()):
        return
    if text and not text.endswith("\n"):
        text += "\n"
    path.write_text(text + line + "\n", encoding="utf-8")


def apply_layout(root: Path, layout: Layout) -> None:
    """Write the layout into the root filesystem at ``root`` and drop apt's caches."""
    for path, mode in layout.directories:
        target = _inside(root, path)
        target.mkdir(parents=True, exist_ok=True)
        target.chmod(mode)
    for path, link_target in layout.links:
        link = _inside(root, path)
        if not _inside(root, link_target).exists():
            raise FileNotFoundError(f"the layout links {path} to {link_target}, which the root filesystem lacks")
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(link_target)
    name, uid, gid = layout.user
    etc = root / "etc"
    _append_line(etc / "group", f"{name}:x:{gid}:", name)
    _append_line(etc / "passwd", f"{name}:x:{uid}:{gid}::/home/{name}:/usr/sbin/nologin", name)
    for cache in _CACHES:
        directory = root / cache
        if directory.is_dir():
            for entry in directory.iterdir():
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
