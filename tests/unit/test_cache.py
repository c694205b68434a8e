"""Tests for bundler.cache: verified downloads and derived directories on real files."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from bundler.cache import Cache
from bundler.errors import HashMismatch

CONTENT = b"pretend this is a wheel\n" * 100
ITEM = "wheel:demo==1.0"
FILENAME = "demo-1.0-py3-none-any.whl"


@pytest.fixture
def cache(tmp_path: Path) -> Cache:
    root = tmp_path / "cache"
    root.mkdir()
    return Cache(root)


def _download(tmp_path: Path, data: bytes = CONTENT) -> Path:
    incoming = tmp_path / "incoming"
    incoming.mkdir(exist_ok=True)
    path = incoming / FILENAME
    path.write_bytes(data)
    return path


def _files_under(root: Path) -> list[Path]:
    return sorted(root.rglob("*"))


def test_put_then_get_returns_the_verified_path(cache: Cache, tmp_path: Path) -> None:
    digest = hashlib.sha256(CONTENT).hexdigest()
    stored = cache.put(_download(tmp_path), ITEM, digest, FILENAME)
    assert stored.read_bytes() == CONTENT
    assert stored.name == FILENAME
    assert stored.is_relative_to(cache.root)
    assert digest in stored.parts
    assert cache.get(ITEM, digest, FILENAME) == stored


def test_put_leaves_no_staging_directories_behind(cache: Cache, tmp_path: Path) -> None:
    digest = hashlib.sha256(CONTENT).hexdigest()
    stored = cache.put(_download(tmp_path), ITEM, digest, FILENAME)
    assert [p for p in _files_under(cache.root) if p.is_file()] == [stored]
    assert not any(p.name.startswith(".incoming-") for p in _files_under(cache.root))


def test_put_with_wrong_hash_raises_naming_item_expected_and_actual(cache: Cache, tmp_path: Path) -> None:
    source = _download(tmp_path)
    expected = "0" * 64
    actual = hashlib.sha256(CONTENT).hexdigest()
    with pytest.raises(HashMismatch) as caught:
        cache.put(source, ITEM, expected, FILENAME)
    error = caught.value
    assert (error.item, error.algorithm, error.expected, error.actual) == (ITEM, "sha256", expected, actual)
    message = str(error)
    assert ITEM in message
    assert expected in message
    assert actual in message


def test_put_with_wrong_hash_leaves_nothing_in_the_cache(cache: Cache, tmp_path: Path) -> None:
    source = _download(tmp_path)
    with pytest.raises(HashMismatch):
        cache.put(source, ITEM, "0" * 64, FILENAME)
    assert _files_under(cache.root) == []
    assert cache.get(ITEM, "0" * 64, FILENAME) is None
    assert source.read_bytes() == CONTENT  # the rejected download is not consumed


def test_get_raises_when_a_cached_file_was_altered(cache: Cache, tmp_path: Path) -> None:
    digest = hashlib.sha256(CONTENT).hexdigest()
    stored = cache.put(_download(tmp_path), ITEM, digest, FILENAME)
    stored.write_bytes(CONTENT + b"tampered")
    with pytest.raises(HashMismatch) as caught:
        cache.get(ITEM, digest, FILENAME)
    message = str(caught.value)
    assert str(stored) in message
    assert ITEM in message
    assert digest in message
    assert hashlib.sha256(CONTENT + b"tampered").hexdigest() in message


def test_get_of_an_absent_entry_returns_none(cache: Cache) -> None:
    assert cache.get(ITEM, hashlib.sha256(b"never stored").hexdigest(), FILENAME) is None


def test_get_with_another_filename_for_the_same_hash_returns_none(cache: Cache, tmp_path: Path) -> None:
    digest = hashlib.sha256(CONTENT).hexdigest()
    cache.put(_download(tmp_path), ITEM, digest, FILENAME)
    assert cache.get(ITEM, digest, "other-name.whl") is None


def test_sha512_entries_are_stored_and_verified(cache: Cache, tmp_path: Path) -> None:
    digest = hashlib.sha512(CONTENT).hexdigest()
    stored = cache.put(_download(tmp_path), "chromium:pkg@1", digest, "pkg-1.tgz", "sha512")
    assert "sha512" in stored.parts
    assert cache.get("chromium:pkg@1", digest, "pkg-1.tgz", "sha512") == stored
    # The same hex looked up as another algorithm is a different (absent) entry.
    assert cache.get("chromium:pkg@1", digest, "pkg-1.tgz") is None


def test_sha512_put_with_wrong_hash_raises(cache: Cache, tmp_path: Path) -> None:
    with pytest.raises(HashMismatch) as caught:
        cache.put(_download(tmp_path), "chromium:pkg@1", "f" * 128, "pkg-1.tgz", "sha512")
    assert caught.value.algorithm == "sha512"
    assert caught.value.actual == hashlib.sha512(CONTENT).hexdigest()
    assert _files_under(cache.root) == []


def test_put_of_an_entry_already_cached_keeps_the_existing_file(cache: Cache, tmp_path: Path) -> None:
    digest = hashlib.sha256(CONTENT).hexdigest()
    first = cache.put(_download(tmp_path), ITEM, digest, FILENAME)
    second = cache.put(_download(tmp_path), ITEM, digest, FILENAME)
    assert first == second
    assert first.read_bytes() == CONTENT
    assert [p for p in _files_under(cache.root) if p.is_file()] == [first]


def test_committed_derived_entry_is_returned(cache: Cache) -> None:
    key = "a" * 64
    assert cache.derived(key) is None
    workdir = cache.new_derived(key)
    (workdir / "chromium.zst").write_bytes(b"frames")
    final = cache.commit_derived(key, workdir)
    assert cache.derived(key) == final
    assert (final / "chromium.zst").read_bytes() == b"frames"
    assert not workdir.exists()


def test_new_derived_gives_a_fresh_directory_each_time(cache: Cache) -> None:
    key = "b" * 64
    first, second = cache.new_derived(key), cache.new_derived(key)
    assert first != second
    assert first.is_dir()
    assert second.is_dir()
    assert cache.derived(key) is None


def test_derived_directory_without_marker_is_not_returned(cache: Cache) -> None:
    key = "c" * 64
    crashed = cache.root / "derived" / key
    crashed.mkdir(parents=True)
    (crashed / "half-written.zst").write_bytes(b"trunc")
    assert cache.derived(key) is None


def test_derived_directory_without_marker_is_replaced_on_next_commit(cache: Cache) -> None:
    key = "d" * 64
    crashed = cache.root / "derived" / key
    crashed.mkdir(parents=True)
    (crashed / "half-written.zst").write_bytes(b"trunc")
    workdir = cache.new_derived(key)
    (workdir / "ffmpeg.zst").write_bytes(b"complete frames")
    final = cache.commit_derived(key, workdir)
    assert final == crashed
    assert cache.derived(key) == final
    assert sorted(p.name for p in final.iterdir()) == [".complete", "ffmpeg.zst"]


def test_commit_after_a_finished_entry_keeps_the_finished_one(cache: Cache) -> None:
    key = "e" * 64
    first = cache.new_derived(key)
    (first / "out").write_bytes(b"first")
    final = cache.commit_derived(key, first)
    loser = cache.new_derived(key)
    (loser / "out").write_bytes(b"second")
    assert cache.commit_derived(key, loser) == final
    assert (final / "out").read_bytes() == b"first"
    assert not loser.exists()
