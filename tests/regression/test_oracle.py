"""The Playwright oracle draws the handler's frames, and tells them apart from their neighbours.

The handler's side comes from its own capture path (beginFrame, lossless PNG, a chunk rendered
from frame 0) and from a real ``python -m runner render`` MP4; the oracle's from an ordinary
``page.screenshot`` of the same pinned Chromium.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image

from handler.render.chrome.browser import Browser
from handler.render.runtime import Runtime
from regression import oracle
from regression.frames import psnr
from regression.oracle import OracleError, reference_frames
from tests.integration.conftest import ROOT
from tooling.media import decode_frames

pytestmark = pytest.mark.chrome

COMPOSITIONS = ROOT / "tests" / "compositions"
# The floor the regression suite holds an encoded output to, and what an exact match clears.
FLOOR_DB = 30.0
MATCH_DB = 45.0

Pixels = NDArray[np.uint8]


def pixels(image: bytes | Path) -> Pixels:
    source = io.BytesIO(image) if isinstance(image, bytes) else image
    with Image.open(source) as opened:
        return np.asarray(opened.convert("RGB"))


def handler_frames(runtime: Runtime, name: str, frames: range, size: tuple[int, int], fps: int) -> list[Pixels]:
    """Frames as a handler worker captures one chunk: warm-up at its first frame, then each frame."""
    with tempfile.TemporaryDirectory() as scratch, Browser.launch(runtime, Path(scratch)) as browser:
        page = browser.open_page(*size, allowed_root=COMPOSITIONS / name)
        page.navigate(COMPOSITIONS / name / "index.html")
        page.warm_up(frames.start, fps)
        return [pixels(page.capture(frame, fps, fmt="png")) for frame in frames]


def read_barcode(image: Pixels) -> int:
    """16 blocks of 20 px across the top 40 px, most significant bit first, black is 1."""
    value = 0
    for bit in range(16):
        value = (value << 1) | int(image[20, bit * 20 + 10].sum() < 3 * 128)
    return value


CASES = [
    # name, size, fps, checkpoints: the first frame, frames inside and at the end of the animations
    ("barcode", (320, 64), 30, [0, 1, 7, 30, 45, 59]),
    ("raf-barcode", (320, 64), 30, [0, 1, 31, 59]),
    ("css-barcode", (320, 64), 30, [0, 5, 15, 16, 25, 30]),
    ("clock", (320, 64), 30, [0, 3, 4, 20, 59]),
    ("mixed", (320, 180), 30, [0, 5, 6, 9, 15, 29]),
    ("windows", (320, 64), 10, [0, 3, 10, 14, 15, 29]),
]


@pytest.mark.parametrize(("name", "size", "fps", "checkpoints"), CASES, ids=[case[0] for case in CASES])
def test_reference_frames_match_the_handler_capture(
    packaged_runtime: Runtime, tmp_path: Path, name: str, size: tuple[int, int], fps: int, checkpoints: list[int]
) -> None:
    expected = handler_frames(packaged_runtime, name, range(max(checkpoints) + 1), size, fps)
    paths = reference_frames(COMPOSITIONS / name, checkpoints, chrome=packaged_runtime.chromium, out_dir=tmp_path)
    assert paths == [tmp_path / f"frame-{index:05d}.png" for index in checkpoints]
    scores = {index: psnr(pixels(path), expected[index]) for index, path in zip(checkpoints, paths, strict=True)}
    print(f"{name}: oracle vs handler PSNR (dB) per frame: {scores}")
    assert all(score >= MATCH_DB for score in scores.values()), scores


@pytest.mark.parametrize("name", ["barcode", "raf-barcode"])
def test_barcode_reference_frames_decode_to_their_index(packaged_runtime: Runtime, tmp_path: Path, name: str) -> None:
    checkpoints = [59, 0, 1, 2, 31, 32, 45]  # out of order on purpose: each frame stands alone
    paths = reference_frames(COMPOSITIONS / name, checkpoints, chrome=packaged_runtime.chromium, out_dir=tmp_path)
    assert [read_barcode(pixels(path)) for path in paths] == checkpoints


@pytest.mark.parametrize(("name", "size"), [("mixed", (320, 180)), ("css-barcode", (320, 64))])
def test_a_one_frame_shift_falls_clearly_below_the_floor(
    packaged_runtime: Runtime, tmp_path: Path, name: str, size: tuple[int, int]
) -> None:
    checkpoints = [3, 10, 20]
    expected = handler_frames(packaged_runtime, name, range(max(checkpoints) + 2), size, 30)
    paths = reference_frames(COMPOSITIONS / name, checkpoints, chrome=packaged_runtime.chromium, out_dir=tmp_path)
    for index, path in zip(checkpoints, paths, strict=True):
        reference = pixels(path)
        same, later, earlier = (psnr(reference, expected[index + shift]) for shift in (0, 1, -1))
        print(f"{name} frame {index}: {same} dB; shifted +1: {later} dB, -1: {earlier} dB")
        assert same >= MATCH_DB
        assert later < FLOOR_DB - 5 and earlier < FLOOR_DB - 5


@pytest.mark.ffmpeg
def test_an_encoded_render_stays_above_the_floor_and_a_shift_does_not(
    artifact_zip: Path, packaged_runtime: Runtime, tmp_path: Path
) -> None:
    """End to end: plan, 3 chunks and assemble to MP4 (JPEG capture, x264), decoded, against the oracle."""
    output, (width, height) = tmp_path / "mixed.mp4", (320, 180)
    env = {**os.environ, "RENDERZIP_ARTIFACT": str(artifact_zip)}
    rendered = subprocess.run(
        [sys.executable, "-m", "runner", "render", str(COMPOSITIONS / "mixed"), "-o", str(output), "--chunks", "3"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert rendered.returncode == 0, rendered.stderr[-2000:]
    video = [
        np.frombuffer(frame, dtype=np.uint8).reshape(height, width, 3)
        for frame in decode_frames(packaged_runtime.ffmpeg, output, width=width, height=height)
    ]
    assert len(video) == 30
    checkpoints = [0, 9, 10, 19, 20, 28]  # both sides of each chunk boundary
    paths = reference_frames(COMPOSITIONS / "mixed", checkpoints, chrome=packaged_runtime.chromium, out_dir=tmp_path)
    for index, path in zip(checkpoints, paths, strict=True):
        reference = pixels(path)
        same, later = psnr(reference, video[index]), psnr(reference, video[index + 1])
        print(f"mixed.mp4 frame {index}: {same:.2f} dB; shifted +1: {later:.2f} dB")
        assert same >= FLOOR_DB
        assert later < FLOOR_DB - 5


# --- errors --------------------------------------------------------------------------------


def test_a_missing_index_html_names_the_composition(packaged_runtime: Runtime, tmp_path: Path) -> None:
    empty = tmp_path / "empty-composition"
    empty.mkdir()
    with pytest.raises(OracleError, match=r"composition empty-composition .*frame 4: no index\.html") as caught:
        reference_frames(empty, [4], chrome=packaged_runtime.chromium, out_dir=tmp_path / "out", width=320, height=64)
    assert caught.value.composition == empty.resolve()
    assert caught.value.frames == (4,)


def test_a_seek_that_throws_names_the_frame_and_the_error(packaged_runtime: Runtime, tmp_path: Path) -> None:
    seek_error = COMPOSITIONS / "seek-error"
    assert reference_frames(seek_error, [29], chrome=packaged_runtime.chromium, out_dir=tmp_path)[0].is_file()
    with pytest.raises(OracleError, match=r"composition seek-error .*frame 30: seeking: .*composition broke at t=1"):
        reference_frames(seek_error, [29, 30, 31], chrome=packaged_runtime.chromium, out_dir=tmp_path)


def _composition(directory: Path, script: str) -> Path:
    directory.mkdir()
    (directory / "index.html").write_text(
        '<!doctype html><body style="margin:0"><div data-width="64" data-height="32" data-duration="1"></div>'
        f"<script>{script}</script></body>\n",
        encoding="utf-8",
    )
    return directory


def test_a_page_that_throws_while_loading_names_the_error(packaged_runtime: Runtime, tmp_path: Path) -> None:
    broken = _composition(tmp_path / "throws-on-load", 'throw new TypeError("no timeline here");')
    with pytest.raises(OracleError, match=r"throws-on-load .*frame 0: the page threw while loading: TypeError: no tim"):
        reference_frames(broken, [0], chrome=packaged_runtime.chromium, out_dir=tmp_path / "out")


def test_requests_outside_the_composition_are_blocked_and_named(packaged_runtime: Runtime, tmp_path: Path) -> None:
    with pytest.raises(OracleError, match=r"composition network .*frame 0: network blocked") as caught:
        reference_frames(COMPOSITIONS / "network", [0], chrome=packaged_runtime.chromium, out_dir=tmp_path)
    for url in ("http://example.invalid/x.png", "file:///etc/passwd", "file:///etc/hostname"):
        assert url in str(caught.value)
    assert "dot.svg" not in str(caught.value)


def test_a_seek_that_never_settles_times_out(
    packaged_runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stuck = _composition(tmp_path / "stuck", "window.__hf = { duration: 1, seek: () => new Promise(() => {}) };")
    monkeypatch.setattr(oracle, "STEP_TIMEOUT_S", 2.0)
    with pytest.raises(OracleError, match=r"composition stuck .*frame 3: seeking: timed out after 2 s"):
        reference_frames(stuck, [3], chrome=packaged_runtime.chromium, out_dir=tmp_path / "out")


def test_a_chromium_not_prepared_by_the_runtime_is_refused(tmp_path: Path) -> None:
    stray = tmp_path / "chromium"
    stray.write_bytes(b"")
    with pytest.raises(OracleError, match=r"composition barcode .*not a Chromium prepared by handler\.render\.runtime"):
        reference_frames(COMPOSITIONS / "barcode", [0], chrome=stray, out_dir=tmp_path / "out")


@pytest.mark.parametrize("bad", [-1, 2.5, True])
def test_frame_indices_that_are_not_whole_numbers_from_0_are_refused(
    packaged_runtime: Runtime, tmp_path: Path, bad: int
) -> None:
    with pytest.raises(OracleError, match=rf"composition barcode .*frame {bad}: frame indices are whole numbers"):
        reference_frames(COMPOSITIONS / "barcode", [0, bad], chrome=packaged_runtime.chromium, out_dir=tmp_path)
    assert not (tmp_path / "frame-00000.png").exists(), "refused before any frame is drawn"


def test_numpy_frame_indices_are_accepted(packaged_runtime: Runtime, tmp_path: Path) -> None:
    checkpoints = [int(index) for index in np.arange(3, 6)]
    numpy_indices = list(np.arange(3, 6))  # as a caller picking checkpoints from an array would pass them
    paths = reference_frames(
        COMPOSITIONS / "barcode",
        numpy_indices,  # type: ignore[arg-type]
        chrome=packaged_runtime.chromium,
        out_dir=tmp_path,
    )
    assert [read_barcode(pixels(path)) for path in paths] == checkpoints
