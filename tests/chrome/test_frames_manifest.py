"""Every output has its frame-hash manifest beside it, and `python -m runner diff` reads two renders with it."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from handler.render.framesfile import first_difference
from handler.render.runtime import Runtime
from runner import local

from .conftest import composition

pytestmark = pytest.mark.chrome

ROOT = Path(__file__).resolve().parents[2]
LOSSLESS = {"Capture": "png", "Crf": 0}


def _diff(a: Path, b: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "runner", "diff", str(a), str(b)], capture_output=True, text=True, cwd=ROOT, check=False
    )


def test_the_manifest_holds_every_decoded_frame_the_settings_and_the_runtime(runtime: Runtime, tmp_path: Path) -> None:
    result = local.render(composition("barcode"), tmp_path / "out.mp4", chunks=3)
    manifest = json.loads((tmp_path / "out.mp4.frames.json").read_text())
    assert manifest["format"] == "renderzip-frames/1"
    assert manifest["frame_count"] == len(manifest["frames"]) == 60
    assert len(set(manifest["frames"])) == 60  # the barcode paints its index: no two frames alike
    assert manifest["video_sha256"] == hashlib.sha256(result.output.read_bytes()).hexdigest()
    assert manifest["runtime"] == runtime.identity.as_dict()
    assert manifest["encoder"]["crf"] == 18 and manifest["fps"] == 30
    assert result.assembled["FramesUri"] == (tmp_path / "out.mp4.frames.json").as_uri()


def test_diff_says_identical_for_one_chunk_and_three_and_names_the_first_frame_otherwise(tmp_path: Path) -> None:
    one = local.render(composition("mixed"), tmp_path / "one.mp4", chunks=1, config=LOSSLESS).output
    three = local.render(composition("mixed"), tmp_path / "three.mp4", chunks=3, config=LOSSLESS).output
    same = _diff(one, three)
    assert same.returncode == 0, same.stderr
    assert same.stdout.startswith("identical: ")
    coarse = local.render(composition("mixed"), tmp_path / "coarse.mp4", chunks=3, config={"Crf": 40}).output
    differ = _diff(tmp_path / "one.mp4.frames.json", coarse)
    assert differ.returncode == 1, differ.stderr
    lines = differ.stdout.splitlines()
    assert lines[0].startswith("first differing frame: 0 ")
    assert lines[1].startswith("PSNR at frame 0: ") and lines[1].endswith(" dB")
    assert float(lines[1].split()[-2]) < 60


def test_first_difference_counts_a_shorter_list_as_differing_where_it_ends() -> None:
    assert first_difference(("a", "b"), ("a", "b")) is None
    assert first_difference(("a", "b"), ("a", "c")) == 1
    assert first_difference(("a",), ("a", "b")) == 1
