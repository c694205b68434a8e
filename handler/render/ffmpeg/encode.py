"""Encode one chunk: captured JPEG or PNG frames piped into ffmpeg, out comes a closed-GOP H.264 MP4.

Each chunk is one closed GOP (an IDR on its first frame, no reference across its edges) with
timestamps from 0, so chunks concatenate without re-encoding. x264 runs with a fixed thread
count and every output flag that keeps dates and versions out, so the same frames give the same
bytes in any process. Frames are handed to a bounded queue that a thread drains into ffmpeg's
stdin, so capturing the next frame overlaps encoding the last one.
"""

from __future__ import annotations

import queue
import subprocess
import threading
from pathlib import Path
from types import TracebackType
from typing import Any, cast

from handler.errors import CaptureFailed, FfmpegFailed, FrameCountMismatch
from handler.render.ffmpeg import tool as _ffmpeg
from handler.render.ffmpeg.images import image_size
from handler.render.settings import INTERMEDIATE_CODEC, EncoderSettings, FrameRate

_DECODERS: dict[str, str] = {"jpeg": "mjpeg", "png": "png"}
# Every frame goes through RGB first: swscale does not apply a matrix change between two YUV
# formats, so full-range BT.601 JPEG data scaled straight to BT.709 shifts greys and whites.
_TO_RGB = "format=rgb24"


def x264_params() -> str:
    """x264 options that make every chunk one closed GOP with the same SPS/PPS as every other.

    A chunk is its own encode, so its first frame is an IDR; no scene-cut keyframes and an
    unbounded GOP leave it the only keyframe. The GOP length is not the chunk's length: x264
    drops B-frames and references for GOPs of one or two frames, which changes the stream
    headers, and the concat demuxer keeps only the first chunk's headers. ``stitchable``
    stops x264 from tuning the headers to the content.
    """
    return "keyint=infinite:scenecut=0:open-gop=0:stitchable=1"


def x265_params(threads: int, *, lossless: bool) -> str:
    """x265's equivalent: one closed GOP per chunk, no scene cuts, headers the same in every chunk.

    Frame threads change the bytes (rate control sees frames in a different order), so there is
    one; the wavefront pool only parallelises within a frame and does not, so it gets the threads.
    CRF 0 is lossless in x264 but not in x265, whose own switch is set for it instead.
    """
    params = f"keyint=-1:min-keyint=-1:scenecut=0:open-gop=0:frame-threads=1:pools={threads}:log-level=error"
    return params + (":lossless=1" if lossless else "")


def vp9_args(settings: EncoderSettings) -> list[str]:
    """VP9 chunks that join as they are: no alternate reference frames (they reach across frames
    ffmpeg's concat cannot see), no look-ahead, one keyframe at the start, one thread, row-mt off."""
    return [
        "-deadline", "good", "-cpu-used", "4", "-b:v", "0", "-auto-alt-ref", "0", "-lag-in-frames", "0",
        "-g", "100000", "-keyint_min", "100000", "-row-mt", "0", "-threads", "1",
        *(["-lossless", "1"] if settings.crf == 0 else []),
    ]  # fmt: skip


def _codec_args(settings: EncoderSettings) -> list[str]:
    if settings.codec == "prores_ks":
        # ProRes 4444 (profile 4), every frame intra: chunks join as they are. It has no CRF; its
        # quantiser scale plays that part. The vendor tag keeps encoder names out of the bytes.
        return ["-profile:v", "4", "-vendor", "apl0", "-qscale:v", str(max(1, settings.crf // 4)), "-threads", "1"]
    if settings.codec == "libvpx-vp9":
        return vp9_args(settings)
    if settings.codec == "libx265":
        # hvc1: the sample entry QuickTime and browsers play; the parameter sets stay in-band.
        return ["-x265-params", x265_params(settings.threads, lossless=settings.crf == 0), "-tag:v", "hvc1"]
    return ["-threads", str(settings.threads), "-x264-params", x264_params()]


def _intermediate_args(pix_fmt: str) -> list[str]:
    """Lossless, intra-only FFV1 in Matroska: what a GIF or a PNG sequence is made from at assemble."""
    return [
        "-vf",
        f"format={pix_fmt}",
        "-fps_mode",
        "passthrough",
        "-c:v",
        "ffv1",
        "-level",
        "3",
        "-g",
        "1",
        "-threads",
        "1",
        *_ffmpeg.BITEXACT_OUTPUT,
        "-f",
        "matroska",
    ]


def output_args(settings: EncoderSettings) -> list[str]:
    """Everything between the input and the output path."""
    if settings.codec == INTERMEDIATE_CODEC:
        return _intermediate_args(settings.pix_fmt)
    scale = f"scale=out_color_matrix={settings.color}:out_range=limited"
    return [
        "-vf",
        f"{'format=rgba' if settings.alpha else _TO_RGB},{scale},format={settings.pix_fmt}",
        "-fps_mode",
        "passthrough",
        "-c:v",
        settings.codec,
        *(["-preset", settings.preset] if settings.codec in ("libx264", "libx265") else []),
        *(["-crf", str(settings.crf)] if settings.codec != "prores_ks" else []),
        *_codec_args(settings),
        "-pix_fmt",
        settings.pix_fmt,
        "-color_primaries",
        settings.color,
        "-color_trc",
        settings.color,
        "-colorspace",
        settings.color,
        "-color_range",
        "tv",
        *_ffmpeg.BITEXACT_OUTPUT,
        "-f",
        {"webm": "webm", "mov": "mov"}.get(settings.output, "mp4"),
    ]


class ChunkEncoder:
    """``with ChunkEncoder(...) as enc: enc.write(frame)`` for each frame; leaving the block checks it all."""

    def __init__(
        self,
        ffmpeg: Path,
        out: Path,
        *,
        width: int,
        height: int,
        fps: FrameRate | int,
        frame_count: int,
        settings: EncoderSettings,
        queue_frames: int = 8,
    ) -> None:
        if width <= 0 or height <= 0 or width % 2 or height % 2:
            raise ValueError(f"{width}x{height}: yuv420p needs a positive, even width and height")
        if frame_count <= 0:
            raise ValueError(f"frame_count ({frame_count}) must be positive")
        self.ffmpeg = ffmpeg
        self.out = out
        self.width = width
        self.height = height
        self.fps = fps if isinstance(fps, FrameRate) else FrameRate(fps)
        self.frame_count = frame_count
        self.settings = settings
        self.frames_written = 0
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=queue_frames)
        self._process: subprocess.Popen[bytes] | None = None
        self._writer: threading.Thread | None = None
        self._write_error: OSError | None = None
        self._stderr: _ffmpeg.LineTail | None = None
        self._progress: _ffmpeg.LineTail | None = None

    def argv(self) -> list[str]:
        decoder = _DECODERS[self.settings.capture_format]
        return _ffmpeg.command(
            self.ffmpeg,
            "-progress",
            "pipe:1",
            # Start on the first frame: by default ffmpeg reads 5 MB or 5 s of input to learn what
            # the stream is before it decodes any, which for a chunk is often every frame, so the
            # encoder idled while Chrome captured and encoded everything after. The bytes are the same.
            "-probesize",
            "32",
            "-analyzeduration",
            "0",
            "-fpsprobesize",
            "0",
            "-f",
            "image2pipe",
            "-flags:v",
            "+bitexact",
            "-c:v",
            decoder,
            "-framerate",
            self.fps.text,
            "-i",
            "pipe:0",
            "-xerror",
            *output_args(self.settings),
            "-y",
            str(self.out),
        )

    # --- lifecycle -------------------------------------------------------------

    def __enter__(self) -> ChunkEncoder:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def start(self) -> None:
        if self._process is not None:
            raise RuntimeError("ChunkEncoder already started")
        try:
            process = subprocess.Popen(
                self.argv(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
        except OSError as error:
            raise FfmpegFailed(f"cannot run {self.ffmpeg}: {error}") from error
        self._process = process
        self._stderr = _ffmpeg.LineTail(cast("Any", process.stderr))
        self._progress = _ffmpeg.LineTail(cast("Any", process.stdout), lines=64)
        self._writer = threading.Thread(target=self._feed, args=(process,), daemon=True)
        self._writer.start()

    def write(self, image: bytes) -> None:
        """Queue one encoded frame; blocks while the queue is full; raises at once if ffmpeg died."""
        if self._process is None:
            raise RuntimeError("ChunkEncoder.write before start")
        if self.frames_written >= self.frame_count:
            self.abort()
            raise FrameCountMismatch(f"chunk {self.out.name}", self.frame_count, self.frames_written + 1)
        size = image_size(image)
        if size != (self.width, self.height):
            self.abort()
            shown = f"{size[0]}x{size[1]}" if size else f"not a {self.settings.capture_format.upper()} image"
            raise CaptureFailed(
                f"frame {self.frames_written} of {self.out.name} is {shown}, expected {self.width}x{self.height}"
            )
        if self._write_error is not None or self._process.poll() is not None:
            self._finish(failed_early=True)
        self._queue.put(image)
        self.frames_written += 1

    def close(self) -> None:
        """Wait for ffmpeg, then check its exit status and the frame count; a bad chunk is deleted."""
        if self._process is None:
            raise RuntimeError("ChunkEncoder.close before start")
        self._finish(failed_early=False)

    def abort(self) -> None:
        """Stop ffmpeg and delete whatever it wrote; safe to call more than once."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.kill()
        self._drain_queue()
        self._join(process)
        self.out.unlink(missing_ok=True)

    # --- internals -------------------------------------------------------------

    def _feed(self, process: subprocess.Popen[bytes]) -> None:
        stdin = process.stdin
        assert stdin is not None
        while True:
            item = self._queue.get()
            if item is None:
                break
            if self._write_error is not None:
                continue  # keep draining so write() never blocks on a dead ffmpeg
            try:
                stdin.write(item)
            except OSError as error:
                self._write_error = error
        try:
            stdin.close()
        except OSError as error:
            self._write_error = self._write_error or error

    def _drain_queue(self) -> None:
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        self._queue.put(None)

    def _join(self, process: subprocess.Popen[bytes]) -> int:
        if self._writer is not None:
            self._writer.join()
        status = process.wait()
        for drain in (self._stderr, self._progress):
            if drain is not None:
                drain.join()
        return status

    def _finish(self, *, failed_early: bool) -> None:
        process = self._process
        assert process is not None
        if failed_early:
            self._drain_queue()
        else:
            self._queue.put(None)
        status = self._join(process)
        stderr = self._stderr.text() if self._stderr else ""
        if status != 0 or failed_early:
            self.out.unlink(missing_ok=True)
            raise FfmpegFailed(f"encoding {self.out.name} failed after {self.frames_written} frame(s)", status, stderr)
        if self.frames_written != self.frame_count:
            self.out.unlink(missing_ok=True)
            raise FrameCountMismatch(f"chunk {self.out.name}", self.frame_count, self.frames_written)
        encoded = self.encoded_frames()
        if encoded != self.frame_count:
            self.out.unlink(missing_ok=True)
            raise FfmpegFailed(
                f"{self.out.name}: ffmpeg encoded {encoded} frame(s) from {self.frame_count} written", status, stderr
            )

    def encoded_frames(self) -> int | None:
        """The frames ffmpeg has reported encoded so far (its progress lines come every half second)."""
        lines = self._progress.lines if self._progress else []
        for line in reversed(lines):
            if line.startswith("frame="):
                return int(line.partition("=")[2])
        return None
