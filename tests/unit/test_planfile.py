from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import handler
from handler import RENDERER_RELEASE
from handler.errors import InvalidPlan, PlanHashMismatch
from handler.planfile import PlanDoc, compute_plan_hash, read_plan_doc, verify_plan, write_plan_doc

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
        fps=30,
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
    script = "import handler.runtime; print(handler.runtime.renderer_version())"
    env = {"PYTHONPATH": str(package_parent), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=package_parent, capture_output=True, text=True, check=True
    ).stdout


def test_renderer_version_changes_with_the_sources_that_decide_pixels(tmp_path: Path) -> None:
    shutil.copytree(Path(handler.__file__).parent, tmp_path / "handler", ignore=shutil.ignore_patterns("__pycache__"))
    before = _renderer_version(tmp_path)
    assert before.startswith(RENDERER_RELEASE + "+")
    with (tmp_path / "handler" / "logs.py").open("a", encoding="utf-8") as logs:
        logs.write("# a log line's wording does not change a frame\n")
    assert _renderer_version(tmp_path) == before
    with (tmp_path / "handler" / "page" / "shim.js").open("a", encoding="utf-8") as shim:
        shim.write("// any edit of the page shim may\n")
    assert _renderer_version(tmp_path) != before
