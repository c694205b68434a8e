"""The composition archive is the same bytes for the same directory, and chunk counts are known before planning."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from deploy.errors import DeployError
from deploy.packing import _pack_tree
from deploy.remote import count_chunks


def _tree(root: Path, mode: int) -> Path:
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text('<div data-width="8" data-height="8" data-duration="2"></div>', "utf-8")
    (root / "assets" / "a.css").write_text("x", "utf-8")
    (root / "assets" / "a.css").chmod(mode)
    os.utime(root / "index.html", (mode, mode))
    return root


def test_same_directory_packs_to_the_same_bytes_wherever_and_whenever(tmp_path: Path) -> None:
    first = _pack_tree(_tree(tmp_path / "one", 0o644), tmp_path / "one.tar.gz")
    second = _pack_tree(_tree(tmp_path / "two" / "deeper", 0o664), tmp_path / "two.tar.gz")
    assert first == second
    assert (tmp_path / "one.tar.gz").read_bytes() == (tmp_path / "two.tar.gz").read_bytes()


def test_a_symbolic_link_is_refused(tmp_path: Path) -> None:
    root = _tree(tmp_path / "c", 0o644)
    (root / "link").symlink_to(root / "index.html")
    with pytest.raises(DeployError, match="symbolic link"):
        _pack_tree(root, tmp_path / "c.tar.gz")


def test_chunk_count_from_duration_fps_and_config(tmp_path: Path) -> None:
    root = _tree(tmp_path / "c", 0o644)
    assert count_chunks(root, {}) == 1
    assert count_chunks(root, {"FramesPerChunk": 7}) == 9
    assert count_chunks(root, {"Chunks": 5}) == 5
    assert count_chunks(root, {"Chunks": 500}) == 60


def test_without_a_duration_the_chunk_count_needs_chunks(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text('<div data-width="8" data-height="8"></div>', "utf-8")
    with pytest.raises(DeployError, match="data-duration") as refused:
        count_chunks(tmp_path, {})
    assert "Config.Chunks" in refused.value.hint
