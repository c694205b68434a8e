from __future__ import annotations

import io
import os
import shutil
import struct
import subprocess
import sys
import tarfile
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import handler
from handler import RENDERER_RELEASE
from handler.edge.archive import pack_tree
from handler.edge.plancheck import verify_plan_archive
from handler.errors import InvalidPlan, PlanHashMismatch, UnsafeArchive
from handler.render.planfile import (
    MAX_PLAN_DOC_BYTES,
    PlanDoc,
    compute_plan_hash,
    read_plan_doc,
    verify_plan,
    write_plan_doc,
)
from handler.render.settings import FrameRate

MiB = 1024 * 1024

RUNTIME = {
    "chromium_version": "1",
    "chromium_sha256": "a",
    "ffmpeg_version": "2",
    "ffmpeg_sha256": "b",
    "renderer_version": "0",
}
ENCODER = {"crf": 18, "preset": "veryfast"}


def _plan(root: Path) -> Path:
    (root / "project").mkdir(parents=True)
    (root / "project" / "index.html").write_text("<div data-width=2 data-height=2></div>", encoding="utf-8")
    (root / "audio.m4a").write_bytes(b"\x00sound")
    doc = PlanDoc(
        width=2,
        height=2,
        fps=FrameRate(30),
        total_frames=60,
        chunks=((0, 30), (30, 60)),
        encoder=ENCODER,
        runtime=RUNTIME,
        has_audio=True,
    )
    write_plan_doc(root, doc)
    return root


def test_doc_round_trips(tmp_path: Path) -> None:
    root = _plan(tmp_path / "p")
    doc = read_plan_doc(root)
    assert doc.chunks == ((0, 30), (30, 60)) and doc.has_audio and doc.duration_ms == 2000


def test_hash_is_equal_for_equal_plans_in_different_directories(tmp_path: Path) -> None:
    a, b = _plan(tmp_path / "a"), _plan(tmp_path / "deeper" / "b")
    assert compute_plan_hash(a, ENCODER, RUNTIME) == compute_plan_hash(b, ENCODER, RUNTIME)
    assert compute_plan_hash(a, ENCODER, RUNTIME).startswith("v1-")


@pytest.mark.parametrize("change", ["asset", "audio", "new file", "encoder", "runtime"])
def test_hash_changes_with_any_input(tmp_path: Path, change: str) -> None:
    root = _plan(tmp_path / "p")
    before = compute_plan_hash(root, ENCODER, RUNTIME)
    encoder, runtime = dict(ENCODER), dict(RUNTIME)
    if change == "asset":
        (root / "project" / "index.html").write_text("<div data-width=2 data-height=4></div>", encoding="utf-8")
    elif change == "audio":
        (root / "audio.m4a").write_bytes(b"\x01sound")
    elif change == "new file":
        (root / "project" / "extra.css").write_text("", encoding="utf-8")
    elif change == "encoder":
        encoder["crf"] = 19
    else:
        runtime["chromium_version"] = "2"
    assert compute_plan_hash(root, encoder, runtime) != before


def test_verify_refuses_a_tampered_plan(tmp_path: Path) -> None:
    root = _plan(tmp_path / "p")
    expected = compute_plan_hash(root, ENCODER, RUNTIME)
    assert verify_plan(root, expected, RUNTIME).total_frames == 60
    (root / "audio.m4a").write_bytes(b"tampered")
    with pytest.raises(PlanHashMismatch) as raised:
        verify_plan(root, expected, RUNTIME)
    assert raised.value.expected == expected and raised.value.actual != expected
    assert not PlanHashMismatch.retryable


def test_verify_refuses_another_runtime(tmp_path: Path) -> None:
    root = _plan(tmp_path / "p")
    expected = compute_plan_hash(root, ENCODER, RUNTIME)
    with pytest.raises(PlanHashMismatch):
        verify_plan(root, expected, {**RUNTIME, "ffmpeg_version": "9"})


def test_links_and_missing_documents_are_refused(tmp_path: Path) -> None:
    root = _plan(tmp_path / "p")
    (root / "project" / "link").symlink_to("/etc/hostname")
    with pytest.raises(InvalidPlan, match="symbolic link"):
        compute_plan_hash(root, ENCODER, RUNTIME)
    shutil.rmtree(root)
    root.mkdir()
    with pytest.raises(InvalidPlan, match=r"no plan\.json"):
        read_plan_doc(root)


def _renderer_version(package_parent: Path) -> str:
    script = "import handler.render.runtime; print(handler.render.runtime.renderer_version())"
    env = {"PYTHONPATH": str(package_parent), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=package_parent, capture_output=True, text=True, check=True
    ).stdout


def test_renderer_version_changes_with_the_sources_that_decide_pixels(tmp_path: Path) -> None:
    shutil.copytree(Path(handler.__file__).parent, tmp_path / "handler", ignore=shutil.ignore_patterns("__pycache__"))
    before = _renderer_version(tmp_path)
    assert before.startswith(RENDERER_RELEASE + "+")
    with (tmp_path / "handler" / "edge" / "logs.py").open("a", encoding="utf-8") as logs:
        logs.write("# a log line's wording does not change a frame\n")
    (tmp_path / "handler" / "render" / "__pycache__").mkdir(exist_ok=True)
    (tmp_path / "handler" / "render" / "__pycache__" / "engine.cpython-311.pyc").write_bytes(b"bytecode")
    assert _renderer_version(tmp_path) == before
    with (tmp_path / "handler" / "render" / "chrome" / "page" / "shim.js").open("a", encoding="utf-8") as shim:
        shim.write("// any edit of the page shim may\n")
    edited = _renderer_version(tmp_path)
    assert edited != before
    # A module added anywhere in the renderer counts without being listed anywhere.
    (tmp_path / "handler" / "render" / "ffmpeg" / "new_filter.py").write_text("SCALE = 2\n", encoding="utf-8")
    assert _renderer_version(tmp_path) not in (before, edited)


def _gzip_stream(pieces: Iterator[bytes]) -> Iterator[bytes]:
    """A gzip stream of ``pieces``. Each piece is flushed on its own, so equal pieces give equal output
    and a repeated piece (1 MiB of zeros) is compressed only once."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    yield b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    crc, size, last, last_out = 0, 0, b"", b""
    for piece in pieces:
        crc, size = zlib.crc32(piece, crc), size + len(piece)
        if piece is not last:
            last, last_out = piece, deflate.compress(piece) + deflate.flush(zlib.Z_FULL_FLUSH)
        yield last_out
    yield deflate.flush(zlib.Z_FINISH) + struct.pack("<II", crc, size & 0xFFFFFFFF)


def _tar_of_zeros(name: str, size: int) -> Iterator[bytes]:
    member = tarfile.TarInfo(name)
    member.size, member.mode = size, 0o644
    yield member.tobuf(format=tarfile.PAX_FORMAT)
    zeros = bytes(MiB)
    for _ in range(size // MiB):
        yield zeros
    yield bytes(2 * tarfile.BLOCKSIZE)  # the end-of-archive marker


def _peak_bytes(call: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        call()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


def _refused(archive: Path) -> Callable[[], object]:
    def call() -> None:
        with pytest.raises((InvalidPlan, UnsafeArchive)) as raised:
            verify_plan_archive(archive, "v1-" + "0" * 64, RUNTIME)
        assert not raised.value.retryable

    return call


def test_verify_archive_accepts_the_packed_plan_and_refuses_a_tampered_one(tmp_path: Path) -> None:
    root = _plan(tmp_path / "p")
    expected = compute_plan_hash(root, ENCODER, RUNTIME)
    pack_tree(root, tmp_path / "plan.tar.gz")
    verify_plan_archive(tmp_path / "plan.tar.gz", expected, RUNTIME)
    (root / "audio.m4a").write_bytes(b"tampered")
    pack_tree(root, tmp_path / "tampered.tar.gz")
    with pytest.raises(PlanHashMismatch, match="before unpacking"):
        verify_plan_archive(tmp_path / "tampered.tar.gz", expected, RUNTIME)


@pytest.mark.parametrize(("name", "refusal"), [("plan.json", "a plan document is at most"), ("project/a.bin", "bomb")])
def test_verify_archive_refuses_a_bomb_quickly_with_bounded_memory(tmp_path: Path, name: str, refusal: str) -> None:
    archive = tmp_path / "bomb.tar.gz"
    with archive.open("wb") as out:
        out.writelines(_gzip_stream(_tar_of_zeros(name, 1024 * MiB)))
    assert archive.stat().st_size < 2 * MiB  # 1 GiB once inflated
    with pytest.raises((InvalidPlan, UnsafeArchive), match=refusal):
        verify_plan_archive(archive, "v1-" + "0" * 64, RUNTIME)
    assert _peak_bytes(_refused(archive)) < 16 * MiB


def test_verify_archive_refuses_a_plan_json_over_the_cap_unread(tmp_path: Path) -> None:
    archive = tmp_path / "long.tar.gz"
    document = os.urandom(MAX_PLAN_DOC_BYTES // 2 + 1).hex().encode()  # compresses only about 2:1
    with tarfile.open(archive, "w:gz") as tar:
        member = tarfile.TarInfo("plan.json")
        member.size = len(document)
        tar.addfile(member, io.BytesIO(document))
    del document
    with pytest.raises(InvalidPlan, match=rf"is {MAX_PLAN_DOC_BYTES + 2} bytes; a plan document is at most"):
        verify_plan_archive(archive, "v1-" + "0" * 64, RUNTIME)
    assert _peak_bytes(_refused(archive)) < MAX_PLAN_DOC_BYTES // 2


def test_verify_archive_applies_the_extraction_rules_before_unpacking(tmp_path: Path) -> None:
    root = _plan(tmp_path / "p")
    expected = compute_plan_hash(root, ENCODER, RUNTIME)
    archive = tmp_path / "linked.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted(root.rglob("*")):
            tar.add(path, arcname=path.relative_to(root).as_posix(), recursive=False)
        link = tarfile.TarInfo("project/hostname")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/hostname"
        tar.addfile(link)
    with pytest.raises(UnsafeArchive, match="links are refused"):
        verify_plan_archive(archive, expected, RUNTIME)
