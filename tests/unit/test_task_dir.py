"""A kept regression work directory is reused only while it holds the zip being tested."""

from __future__ import annotations

import zipfile
from pathlib import Path

from handler.digest import file_sha256
from regression.imagerun import prepare_task_dir


def _zip(path: Path, text: str) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("handler/shim.js", text)
    return path


def test_the_same_zip_is_unzipped_once(tmp_path: Path) -> None:
    artifact = _zip(tmp_path / "handler.zip", "one")
    task = prepare_task_dir(artifact, tmp_path / "work", zip_sha256=file_sha256(artifact))
    (task / "handler" / "kept").write_text("still here", encoding="utf-8")
    assert prepare_task_dir(artifact, tmp_path / "work", zip_sha256=file_sha256(artifact)) == task
    assert (task / "handler" / "kept").is_file()


def test_a_rebuilt_zip_replaces_what_an_earlier_one_left(tmp_path: Path) -> None:
    work = tmp_path / "work"
    old = _zip(tmp_path / "old.zip", "old handler")
    task = prepare_task_dir(old, work, zip_sha256=file_sha256(old))
    (task / "handler" / "stale.js").write_text("from the old zip", encoding="utf-8")
    new = _zip(tmp_path / "new.zip", "new handler")
    task = prepare_task_dir(new, work, zip_sha256=file_sha256(new))
    assert (task / "handler" / "shim.js").read_text(encoding="utf-8") == "new handler"
    assert not (task / "handler" / "stale.js").exists()


def test_a_task_dir_without_its_zips_digest_is_not_trusted(tmp_path: Path) -> None:
    work = tmp_path / "work"
    (work / "task" / "handler").mkdir(parents=True)
    (work / "task" / "handler" / "shim.js").write_text("unknown origin", encoding="utf-8")
    current = _zip(tmp_path / "handler.zip", "current")
    task = prepare_task_dir(current, work, zip_sha256=file_sha256(current))
    assert (task / "handler" / "shim.js").read_text(encoding="utf-8") == "current"
