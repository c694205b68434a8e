"""ChunkEncoder against the packaged ffmpeg: stream shape, one closed GOP, identical bytes, failures."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from handler.errors import CaptureFailed, FfmpegFailed, FrameCountMismatch
from handler.render.ffmpeg.encode import ChunkEncoder
from handler.render.settings import EncoderSettings
from tests.integration.frames import encode as encode_image
from tests.integration.frames import frames, read_barcode
from tooling.media import decode_frames, inspect

pytestmark = pytest.mark.ffmpeg

W, H = 320, 240
ROOT = Path(__file__).resolve().parents[2]


def encode(ffmpeg: Path, out: Path, images: list[bytes], capture_format: str = "png", fps: int = 30) -> Path:
    settings = EncoderSettings(capture_format=capture_format)  # type: ignore[arg-type]
    with ChunkEncoder(ffmpeg, out, width=W, height=H, fps=fps, frame_count=len(images), settings=settings) as enc:
        for image in images:
            enc.write(image)
    return out


@pytest.mark.parametrize("capture_format", ["png", "jpeg"])
def test_chunk_is_one_closed_gop_of_tagged_h264(ffmpeg: Path, tmp_path: Path, capture_format: str) -> None:
    out = encode(ffmpeg, tmp_path / "chunk.mp4", frames(100, 137, W, H, capture_format), capture_format)
    info = inspect(ffmpeg, out)
    assert (info.video_codec, info.width, info.height, info.pix_fmt) == ("h264", W, H, "yuv420p")
    assert info.frame_count == 37
    assert info.fps == Fraction(30)
    assert info.video_duration == pytest.approx(37 / 30)
    assert (info.color_range, info.color_space, info.color_primaries, info.color_trc) == ("tv", *["bt709"] * 3)
    assert info.keyframes == (0,)
    assert info.audio_codec is None
    decoded = [read_barcode(f, W, H) for f in decode_frames(ffmpeg, out, width=W, height=H)]
    assert decoded == list(range(100, 137))


def test_exact_integer_frame_rate(ffmpeg: Path, tmp_path: Path) -> None:
    info = inspect(ffmpeg, encode(ffmpeg, tmp_path / "c.mp4", frames(0, 25, W, H), fps=25))
    assert info.fps == Fraction(25)
    assert info.frame_count == 25
    assert info.video_duration == pytest.approx(1.0)


def test_chunks_of_any_length_share_their_stream_headers(ffmpeg: Path, tmp_path: Path) -> None:
    crcs = set()
    for count in (1, 2, 3, 9):
        info = inspect(ffmpeg, encode(ffmpeg, tmp_path / f"c{count}.mp4", frames(0, count, W, H)))
        assert info.frame_count == count
        assert info.keyframes == (0,)
        crcs.add(info.video_extradata_crc)
    assert len(crcs) == 1 and None not in crcs


_ENCODE_IN_A_CHILD = """
import sys
import time
from pathlib import Path
from handler.render.ffmpeg.encode import ChunkEncoder
from handler.render.settings import EncoderSettings
ffmpeg, out, fmt, *paths = sys.argv[1:]
images = [Path(p).read_bytes() for p in paths]
settings = EncoderSettings(capture_format=fmt)
size = {"width": 320, "height": 240, "fps": 30, "frame_count": len(images)}
with ChunkEncoder(Path(ffmpeg), Path(out), **size, settings=settings) as enc:
    for image in images:
        enc.write(image)
"""


@pytest.mark.parametrize("capture_format", ["png", "jpeg"])
def test_same_frames_give_identical_bytes_in_two_processes(ffmpeg: Path, tmp_path: Path, capture_format: str) -> None:
    paths = []
    for index, image in enumerate(frames(0, 20, W, H, capture_format)):
        path = tmp_path / f"{index:03d}.{capture_format}"
        path.write_bytes(image)
        paths.append(str(path))
    digests = []
    for run in range(2):
        out = tmp_path / f"run{run}.mp4"
        subprocess.run(
            [sys.executable, "-c", _ENCODE_IN_A_CHILD, str(ffmpeg), str(out), capture_format, *paths],
            cwd=ROOT,
            check=True,
            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        )
        digests.append(hashlib.sha256(out.read_bytes()).hexdigest())
    assert digests[0] == digests[1]


def _noise(seed: int, capture_format: str) -> bytes:
    """Detail in every row, so a filter that works in slices would show where they meet."""
    pixels = np.random.default_rng(seed).integers(0, 256, size=(H, W, 3), dtype=np.uint8)
    return encode_image(Image.fromarray(pixels, "RGB"), capture_format)


@pytest.mark.parametrize("capture_format", ["png", "jpeg"])
def test_bytes_do_not_depend_on_how_many_cores_ffmpeg_sees(ffmpeg: Path, tmp_path: Path, capture_format: str) -> None:
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        pytest.skip("needs at least two cores to compare against one")
    images = [_noise(seed, capture_format) for seed in range(4)]
    digests = []
    try:
        for allowed in ({cores[0]}, set(cores)):
            os.sched_setaffinity(0, allowed)  # ffmpeg inherits it and sizes its thread pools from it
            out = encode(ffmpeg, tmp_path / f"{len(allowed)}-cores.mp4", images, capture_format)
            digests.append(hashlib.sha256(out.read_bytes()).hexdigest())
    finally:
        os.sched_setaffinity(0, cores)
    assert digests[0] == digests[1]


def test_corrupt_frame_raises_ffmpeg_failed_with_its_message(ffmpeg: Path, tmp_path: Path) -> None:
    images = frames(0, 10, W, H)
    broken = bytearray(images[4])
    idat = broken.index(b"IDAT")
    broken[idat + 40 : idat + 400] = bytes(360)  # zero the middle of the compressed pixels
    images[4] = bytes(broken)
    out = tmp_path / "broken.mp4"
    with pytest.raises(FfmpegFailed) as caught:
        encode(ffmpeg, out, images)
    assert caught.value.exit_status not in (None, 0)
    assert caught.value.stderr_tail, "ffmpeg's own message is kept"
    assert "last ffmpeg output" in str(caught.value)
    assert not out.exists()


def test_too_few_frames_is_refused(ffmpeg: Path, tmp_path: Path) -> None:
    out = tmp_path / "short.mp4"
    settings = EncoderSettings(capture_format="png")
    encoder = ChunkEncoder(ffmpeg, out, width=W, height=H, fps=30, frame_count=5, settings=settings)
    with pytest.raises(FrameCountMismatch) as caught, encoder as enc:
        for image in frames(0, 4, W, H):
            enc.write(image)
    assert (caught.value.expected, caught.value.actual) == (5, 4)
    assert not out.exists()


def test_one_frame_too_many_is_refused(ffmpeg: Path, tmp_path: Path) -> None:
    settings = EncoderSettings(capture_format="png")
    with (
        pytest.raises(FrameCountMismatch),
        ChunkEncoder(ffmpeg, tmp_path / "long.mp4", width=W, height=H, fps=30, frame_count=2, settings=settings) as enc,
    ):
        for image in frames(0, 3, W, H):
            enc.write(image)


def test_frame_of_the_wrong_size_is_refused(ffmpeg: Path, tmp_path: Path) -> None:
    settings = EncoderSettings(capture_format="jpeg")
    with (
        pytest.raises(CaptureFailed, match="640x480, expected 320x240"),
        ChunkEncoder(ffmpeg, tmp_path / "c.mp4", width=W, height=H, fps=30, frame_count=2, settings=settings) as enc,
    ):
        enc.write(frames(0, 1, 640, 480, "jpeg")[0])


@pytest.mark.parametrize("capture_format", ["png", "jpeg"])
def test_flat_colours_survive_the_encode(ffmpeg: Path, tmp_path: Path, capture_format: str) -> None:
    # Greys and whites are where a wrong matrix or range shows first (JPEG is full-range BT.601).
    colours = [(128, 128, 128), (255, 255, 255), (16, 16, 16), (40, 90, 200)]
    image = Image.new("RGB", (W, H))
    band = W // len(colours)
    for index, colour in enumerate(colours):
        image.paste(colour, (index * band, 0, (index + 1) * band, H))
    data = encode_image(image, capture_format)
    out = encode(ffmpeg, tmp_path / "flat.mp4", [data] * 3, capture_format)
    decoded = np.frombuffer(next(decode_frames(ffmpeg, out, width=W, height=H)), np.uint8).reshape(H, W, 3)
    for index, colour in enumerate(colours):
        centre = decoded[H // 2, index * band + band // 2].astype(int)
        assert np.abs(centre - np.array(colour)).max() <= 2, (colour, centre.tolist())


@pytest.mark.parametrize("capture_format", ["png", "jpeg"])
def test_encoding_starts_before_the_last_frame_arrives(ffmpeg: Path, tmp_path: Path, capture_format: str) -> None:
    # A chunk's encoder works while Chrome still captures: ffmpeg must not first read megabytes of
    # input to learn what the stream is, or it waits for every frame and encodes them all after.
    out = tmp_path / "chunk.mp4"
    images = frames(0, 80, W, H, capture_format)
    settings = EncoderSettings(capture_format=capture_format)  # type: ignore[arg-type]
    with ChunkEncoder(ffmpeg, out, width=W, height=H, fps=30, frame_count=80, settings=settings) as enc:
        for image in images[:40]:
            enc.write(image)
        deadline = time.monotonic() + 20
        while not enc.encoded_frames() and time.monotonic() < deadline:
            time.sleep(0.05)
        encoded_early = enc.encoded_frames() or 0
        for image in images[40:]:
            enc.write(image)
    assert encoded_early > 0, "ffmpeg encoded nothing while half the frames were still to come"
    assert [read_barcode(f, W, H) for f in decode_frames(ffmpeg, out, width=W, height=H)] == list(range(80))
