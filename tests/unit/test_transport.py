"""The file:// transport (S3 is covered in tests/integration/test_transport_s3.py)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from handler.edge import transport
from handler.errors import IntegrityError, ObjectNotFound


def test_file_round_trip_is_atomic_and_verified(tmp_path: Path) -> None:
    source = tmp_path / "chunk.mp4"
    source.write_bytes(b"frames" * 1000)
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    target = tmp_path / "store" / "renders" / "chunk.mp4"
    assert transport.upload(source, f"file://{target}", allowlist=None) == digest
    assert sorted(p.name for p in target.parent.iterdir()) == ["chunk.mp4"]
    assert transport.exists(f"file://{target}", allowlist=None)

    dest = tmp_path / "work" / "chunk.mp4"
    assert transport.download(f"file://{target}", dest, sha256=digest, allowlist=None) == digest
    assert dest.read_bytes() == source.read_bytes()


def test_file_download_of_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ObjectNotFound):
        transport.download(f"file://{tmp_path}/missing.tar.gz", tmp_path / "out" / "x", allowlist=None)
    assert list((tmp_path / "out").iterdir()) == []
    assert not transport.exists(f"file://{tmp_path}/missing.tar.gz", allowlist=None)


def test_file_download_with_the_wrong_sha256_leaves_nothing(tmp_path: Path) -> None:
    (tmp_path / "plan.tar.gz").write_bytes(b"tampered")
    (tmp_path / "out").mkdir()
    with pytest.raises(IntegrityError, match="expected " + "0" * 64):
        transport.download(
            f"file://{tmp_path}/plan.tar.gz", tmp_path / "out" / "plan.tar.gz", sha256="0" * 64, allowlist=None
        )
    assert list((tmp_path / "out").iterdir()) == []


def test_failed_upload_keeps_the_previous_object(tmp_path: Path) -> None:
    target = tmp_path / "out.mp4"
    target.write_bytes(b"previous")
    with pytest.raises(
        ObjectNotFound, match=r"cannot upload .*missing\.mp4 to file://.*out\.mp4: there is no such file"
    ):
        transport.upload(tmp_path / "missing.mp4", f"file://{target}", allowlist=None)
    assert target.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["out.mp4"]
