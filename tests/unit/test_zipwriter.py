"""Tests for bundler.zipwriter: the zip's bytes depend only on its entries."""

from __future__ import annotations

import hashlib
import itertools
import os
import struct
import zipfile
from pathlib import Path

import pytest

from bundler.entries import Entry
from bundler.errors import ZipLayoutError
from bundler.zipwriter import write_zip

LOCAL_HEADER = struct.Struct("<4s5H3L2H")


def _entries() -> list[Entry]:
    return [
        Entry("handler/app.py", "renderzip:handler", "handler", data=b"def handler(event, context):\n    return 1\n"),
        Entry("bin/ffmpeg.zst", "ffmpeg:x==1", "ffmpeg", executable=True, data=b"\x28\xb5\x2f\xfd" + b"frame" * 50),
        Entry("A_upper.txt", "other:x", "other", data=b"upper case sorts first\n"),
        Entry("bin/chromium", "chromium:x@1", "chromium", executable=True, data=b"\x7fELF" + bytes(range(256)) * 4),
        Entry("handler/__init__.py", "renderzip:handler", "handler", data=b""),
    ]


def _write(entries: list[Entry], out: Path) -> bytes:
    write_zip(entries, out)
    return out.read_bytes()


@pytest.fixture(autouse=True)
def _no_source_date_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)


def test_same_entries_in_any_order_give_identical_bytes(tmp_path: Path) -> None:
    entries = _entries()[:4]
    reference = _write(entries, tmp_path / "reference.zip")
    for index, order in enumerate(itertools.permutations(entries)):
        assert _write(list(order), tmp_path / f"perm-{index}.zip") == reference, order


def test_writing_twice_gives_identical_bytes(tmp_path: Path) -> None:
    assert _write(_entries(), tmp_path / "one.zip") == _write(_entries(), tmp_path / "two.zip")


def test_entries_are_sorted_by_name(tmp_path: Path) -> None:
    out = tmp_path / "out.zip"
    written = write_zip(list(reversed(_entries())), out)
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
    assert names == sorted(e.arcname for e in _entries())
    assert [w.entry.arcname for w in written] == names


def test_every_entry_carries_the_1980_timestamp_by_default(tmp_path: Path) -> None:
    out = tmp_path / "out.zip"
    write_zip(_entries(), out)
    with zipfile.ZipFile(out) as archive:
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_source_date_epoch_sets_every_timestamp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # 2023-11-14T22:13:20Z
    out = tmp_path / "out.zip"
    write_zip(_entries(), out)
    with zipfile.ZipFile(out) as archive:
        assert {info.date_time for info in archive.infolist()} == {(2023, 11, 14, 22, 13, 20)}


def test_source_date_epoch_odd_second_rounds_down_to_zip_resolution(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000001")
    out = tmp_path / "out.zip"
    write_zip(_entries(), out)
    with zipfile.ZipFile(out) as archive:
        assert {info.date_time for info in archive.infolist()} == {(2023, 11, 14, 22, 13, 20)}


def test_source_date_epoch_before_1980_is_clamped_to_1980(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    out = tmp_path / "out.zip"
    write_zip(_entries(), out)
    with zipfile.ZipFile(out) as archive:
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_source_date_epoch_changes_the_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    default = _write(_entries(), tmp_path / "default.zip")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert _write(_entries(), tmp_path / "dated.zip") != default


def test_entries_are_unix_with_fixed_regular_file_modes(tmp_path: Path) -> None:
    out = tmp_path / "out.zip"
    write_zip(_entries(), out)
    executable = {e.arcname for e in _entries() if e.executable}
    with zipfile.ZipFile(out) as archive:
        for info in archive.infolist():
            assert info.create_system == 3, info.filename
            expected = 0o100755 if info.filename in executable else 0o100644
            assert info.external_attr >> 16 == expected, info.filename
            assert info.external_attr & 0xFFFF == 0, info.filename


def test_zst_entries_are_stored_and_others_deflated(tmp_path: Path) -> None:
    out = tmp_path / "out.zip"
    write_zip(_entries(), out)
    with zipfile.ZipFile(out) as archive:
        methods = {info.filename: info.compress_type for info in archive.infolist()}
    assert methods.pop("bin/ffmpeg.zst") == zipfile.ZIP_STORED
    assert set(methods.values()) == {zipfile.ZIP_DEFLATED}


def test_no_directory_entries_extra_fields_or_comments(tmp_path: Path) -> None:
    out = tmp_path / "out.zip"
    write_zip(_entries(), out)
    raw = out.read_bytes()
    with zipfile.ZipFile(out) as archive:
        assert archive.comment == b""
        for info in archive.infolist():
            assert not info.is_dir(), info.filename
            assert not info.filename.endswith("/"), info.filename
            assert info.extra == b"", info.filename
            assert info.comment == b"", info.filename
            # The local header has its own extra-field length; it must be zero too.
            header = LOCAL_HEADER.unpack_from(raw, info.header_offset)
            assert header[0] == b"PK\x03\x04"
            assert header[-1] == 0, info.filename


def test_refuses_duplicate_paths_naming_the_path(tmp_path: Path) -> None:
    entries = [
        *_entries(),
        Entry("handler/app.py", "wheel:other==1", "python-deps", data=b"other"),
    ]
    out = tmp_path / "out.zip"
    with pytest.raises(ZipLayoutError, match="handler/app\\.py"):
        write_zip(entries, out)
    assert list(tmp_path.iterdir()) == []


def test_missing_source_file_leaves_the_output_directory_untouched(tmp_path: Path) -> None:
    out_dir = tmp_path / "dist"
    out_dir.mkdir()
    (out_dir / "keep.txt").write_text("was here before\n")
    entries = [*_entries(), Entry("zzz/missing.bin", "other:x", "other", path=tmp_path / "does-not-exist.bin")]
    with pytest.raises(FileNotFoundError):
        write_zip(entries, out_dir / "handler.zip")
    assert sorted(p.name for p in out_dir.iterdir()) == ["keep.txt"]


def test_failed_write_keeps_the_previous_zip_intact(tmp_path: Path) -> None:
    out = tmp_path / "handler.zip"
    previous = _write(_entries(), out)
    entries = [*_entries(), Entry("zzz/missing.bin", "other:x", "other", path=tmp_path / "does-not-exist.bin")]
    with pytest.raises(FileNotFoundError):
        write_zip(entries, out)
    assert out.read_bytes() == previous
    assert sorted(p.name for p in tmp_path.iterdir()) == ["handler.zip"]


def test_on_disk_and_in_memory_entries_give_identical_bytes(tmp_path: Path) -> None:
    source_dir = tmp_path / "src"
    source_dir.mkdir()
    in_memory = _entries()
    on_disk = []
    for index, entry in enumerate(in_memory):
        path = source_dir / f"file-{index}"
        assert entry.data is not None
        path.write_bytes(entry.data)
        on_disk.append(Entry(entry.arcname, entry.item, entry.component, executable=entry.executable, path=path))
    assert _write(on_disk, tmp_path / "disk.zip") == _write(in_memory, tmp_path / "memory.zip")


def test_on_disk_file_larger_than_one_read_chunk_round_trips(tmp_path: Path) -> None:
    data = os.urandom(1024) * 1500  # > 1 MiB, so it is streamed in several chunks
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    out = tmp_path / "out.zip"
    (written,) = write_zip([Entry("big.bin", "other:x", "other", path=path)], out)
    assert written.size == len(data)
    assert written.sha256 == hashlib.sha256(data).hexdigest()
    with zipfile.ZipFile(out) as archive:
        assert archive.read("big.bin") == data


def test_written_entries_report_sha256_and_sizes_of_the_data(tmp_path: Path) -> None:
    out = tmp_path / "out.zip"
    written = write_zip(_entries(), out)
    by_name = {e.arcname: e for e in _entries()}
    assert len(written) == len(by_name)
    with zipfile.ZipFile(out) as archive:
        for w in written:
            data = by_name[w.entry.arcname].data
            assert data is not None
            assert w.sha256 == hashlib.sha256(data).hexdigest()
            assert w.size == len(data)
            info = archive.getinfo(w.entry.arcname)
            assert w.compressed_size == info.compress_size
            assert archive.read(info) == data


def test_progress_is_called_once_per_entry(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    write_zip(_entries(), tmp_path / "out.zip", lambda done, total: calls.append((done, total)))
    count = len(_entries())
    assert calls == [(i, count) for i in range(1, count + 1)]
