"""Per-invocation scratch directories: private, fresh, and gone afterwards, errors included."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from handler.edge.workspace import PREFIX, sweep, workspace


def test_gives_a_private_empty_directory_and_removes_it(tmp_path: Path) -> None:
    with workspace(root=tmp_path) as path:
        assert path.parent == tmp_path
        assert path.name.startswith(PREFIX)
        assert list(path.iterdir()) == []
        assert path.stat().st_mode & 0o777 == 0o700
        (path / "frames").mkdir()
        (path / "frames" / "0001.jpg").write_bytes(b"x")
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []


def test_removes_it_when_the_work_fails(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), workspace(root=tmp_path) as path:
        (path / "partial.mp4").write_bytes(b"x")
        raise RuntimeError("render failed")
    assert not path.exists()


def test_removes_read_only_directories(tmp_path: Path) -> None:
    with workspace(root=tmp_path) as path:
        (path / "locked").mkdir()
        (path / "locked" / "file").write_text("x")
        (path / "locked").chmod(0o500)
    assert not path.exists()


def test_every_invocation_gets_its_own(tmp_path: Path) -> None:
    with workspace(root=tmp_path) as one, workspace(root=tmp_path) as two:
        assert one != two


def test_honours_tmpdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)
    with workspace() as path:
        assert path.parent == tmp_path


def test_sweep_removes_stale_workspaces_only(tmp_path: Path) -> None:
    stale = tmp_path / f"{PREFIX}left-by-a-timeout"
    (stale / "frames").mkdir(parents=True)
    binaries = tmp_path / "renderzip-bin-0123"
    binaries.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep").write_text("x")
    os.symlink(outside, tmp_path / f"{PREFIX}symlink")
    with workspace(root=tmp_path, sweep_stale=True) as path:
        assert not stale.exists()
        assert binaries.exists()
        assert (outside / "keep").exists()
    assert not path.exists()
    assert sweep(tmp_path) == []
