"""Where Chrome's shared memory goes: /dev/shm only when it is a roomy, writable tmpfs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from handler.render.chrome import shm

DOCKER_MOUNTS = """overlay / overlay rw,relatime 0 0
proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0
shm /dev/shm tmpfs rw,nosuid,nodev,noexec,relatime,size=65536k 0 0
"""


def test_tmpfs_is_read_from_the_mount_table() -> None:
    assert shm.is_tmpfs(DOCKER_MOUNTS, "/dev/shm")
    assert not shm.is_tmpfs(DOCKER_MOUNTS, "/")
    assert not shm.is_tmpfs(DOCKER_MOUNTS, "/tmp")  # not mounted on its own: part of /


def test_the_last_mount_on_a_point_is_the_one_seen() -> None:
    hidden = DOCKER_MOUNTS + "/dev/vda /dev/shm ext4 rw,relatime 0 0\n"
    assert not shm.is_tmpfs(hidden, "/dev/shm")
    assert shm.is_tmpfs(hidden + "tmpfs /dev/shm tmpfs rw 0 0\n", "/dev/shm")


def test_no_tmpfs_means_the_scratch_directory(tmp_path: Path) -> None:
    mounts = tmp_path / "mounts"
    mounts.write_text("overlay / overlay rw 0 0\n", encoding="utf-8")
    assert shm.shared_memory_dir(tmp_path, mounts=mounts) == tmp_path


def test_an_unreadable_mount_table_means_the_scratch_directory(tmp_path: Path) -> None:
    assert shm.shared_memory_dir(tmp_path, mounts=tmp_path / "absent") == tmp_path


def test_a_tmpfs_is_used_only_with_room_to_spare(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mounts = tmp_path / "mounts"
    mounts.write_text(DOCKER_MOUNTS, encoding="utf-8")
    assert os.access(shm.SHM_MOUNT, os.W_OK | os.X_OK), "every Linux machine this runs on has a writable /dev/shm"
    monkeypatch.setattr(shm, "MIN_FREE_BYTES", 0)
    assert shm.shared_memory_dir(tmp_path, mounts=mounts) == Path(shm.SHM_MOUNT)
    monkeypatch.setattr(shm, "MIN_FREE_BYTES", shm.free_bytes(shm.SHM_MOUNT) + 1)
    assert shm.shared_memory_dir(tmp_path, mounts=mounts) == tmp_path
