"""The three render primitives, pure functions over local paths.

``plan`` freezes a composition into a plan directory and returns its hash;
``render_chunk`` captures one range of frames and encodes it; ``assemble``
joins the chunks and the plan's audio. Moving files to and from storage is
the caller's business (``handler.app`` on Lambda, the local runner here), and so are
the prepared runtime and the scratch directory: the engine starts no runtime of its own
and writes nothing outside the paths it is given.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from handler.digest import file_sha256
from handler.errors import (
    ChunkOutOfRange,
    FrameCountMismatch,
    InvalidComposition,
    InvalidPlan,
    MissingAsset,
    NetworkBlocked,
)
from handler.render import capture, clips, framesfile
from handler.render.chrome.browser import Browser
from handler.render.chrome.page import Page
from handler.render.chrome.pool import BrowserPool
from handler.render.chunking import chunk_table
from handler.render.composition import (
    ENTRY,
    MAX_DURATION_S,
    AudioClip,
    CompositionSpec,
    read_composition,
    sub_composition_sources,
    total_frames,
)
from handler.render.ffmpeg import audio, encode, mux
from handler.render.planfile import (
    AUDIO_FILE,
    PROJECT_DIR,
    PlanDoc,
    compute_plan_hash,
    verify_plan,
    write_plan_doc,
)
from handler.render.runtime import Runtime
from handler.render.settings import ASSEMBLED_FORMATS, EncoderSettings, FrameRate, PlanRequest


@dataclass(frozen=True)
class PlanResult:
    plan_hash: str
    chunk_count: int
    total_frames: int
    fps: FrameRate
    width: int
    height: int
    has_audio: bool
    duration_ms: int
    chunks: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class ChunkResult:
    index: int
    path: Path
    sha256: str
    frames: int
    duration_ms: int
    frames_s: float  # from the first frame's capture to the encoded chunk: the chunk without start-up
    pages: int = 1  # browsers that captured at once


@dataclass(frozen=True)
class AssembleResult:
    path: Path
    frames_path: Path  # the frame-hash manifest beside it
    sha256: str
    bytes: int
    frames: int
    duration_ms: int
    warnings: tuple[str, ...] = ()  # what the output format could not carry


def _copy_project(project_dir: Path, target: Path) -> None:
    """Copy the composition's regular files; a link leading outside it is refused."""
    root = project_dir.resolve()
    for source in sorted(root.rglob("*")):
        relative = source.relative_to(root)
        if source.is_symlink() and not source.resolve().is_relative_to(root):
            raise InvalidComposition(f"{relative} links outside the composition directory")
        if source.is_dir():
            continue
        if not source.is_file():
            raise InvalidComposition(f"{relative} is not a regular file")
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)


def _browser(
    runtime: Runtime, scratch: Path, browsers: BrowserPool | None
) -> contextlib.AbstractContextManager[Browser]:
    """A browser for one page: from the pool, or launched for this page alone (and killed after it)."""
    return browsers.browser(runtime) if browsers is not None else Browser.launch(runtime, scratch)


def _open_composition(
    browser: Browser, plan_dir: Path, doc_width: int, doc_height: int, variables: str, *, transparent: bool = False
) -> Page:
    project = plan_dir / PROJECT_DIR
    page = browser.open_page(
        doc_width,
        doc_height,
        allowed_root=project,
        variables=variables,
        sources=sub_composition_sources(project),
        transparent=transparent,
    )
    page.navigate(project / ENTRY)
    page.raise_refused()
    return page


def _positive(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    return None


def _duration(spec: CompositionSpec, info: dict[str, object]) -> float:
    """``__hf.duration``, else the root's ``data-duration``, else its timeline's length in ``__timelines``."""
    page_duration = _positive(info.get("hf_duration"))
    if page_duration is not None:
        return page_duration
    if spec.duration is not None:
        return spec.duration
    timeline = _positive(info.get("timeline_duration"))
    if timeline is None:
        raise InvalidComposition(
            f"{ENTRY}: the root has no data-duration, no timeline registered in window.__timelines under its "
            "data-composition-id, and the page defines no __hf.duration"
        )
    if timeline > MAX_DURATION_S:
        raise InvalidComposition(
            f"{ENTRY}: the root's timeline lasts {timeline:g} s, more than {MAX_DURATION_S:g} s; "
            "set data-duration on the root"
        )
    return timeline


def _mix(runtime: Runtime, sounds: list[AudioClip], seconds: float, plan_dir: Path) -> bool:
    if not sounds:
        return False
    audio.mix_audio(runtime.ffmpeg, sounds, seconds, plan_dir / AUDIO_FILE)
    return True


def plan(
    project_dir: Path,
    plan_dir: Path,
    request: PlanRequest,
    *,
    runtime: Runtime,
    scratch: Path,
    browsers: BrowserPool | None = None,
) -> PlanResult:
    """Freeze ``project_dir`` into the empty directory ``plan_dir`` and hash it.

    ``scratch`` is the caller's directory for Chrome's profile; the caller removes it. With
    ``browsers``, Chrome comes from that pool and goes back to it.
    """
    spec = read_composition(project_dir)
    plan_dir.mkdir(parents=True, exist_ok=True)
    if any(plan_dir.iterdir()):
        raise InvalidPlan(f"plan directory {plan_dir} is not empty")
    project = plan_dir / PROJECT_DIR
    _copy_project(project_dir, project)
    spec = read_composition(project)  # audio sources resolved in the frozen copy
    with _browser(runtime, scratch, browsers) as browser:
        page = _open_composition(browser, plan_dir, spec.width, spec.height, request.variables)
        info = page.composition_info()
        page.close()
    videos = clips.from_page(info, project)
    timings = clips.check_and_time(runtime.ffmpeg, project, videos, scratch)
    seconds = _duration(spec, info)
    fps = request.fps or spec.fps
    frames = total_frames(seconds, fps)
    table = chunk_table(frames, chunks=request.chunks, frames_per_chunk=request.frames_per_chunk)
    sounds = [*spec.audio, *clips.sound_of(videos, timings, project)]
    has_audio = _mix(runtime, sounds, fps.seconds(frames), plan_dir)
    doc = PlanDoc(
        width=spec.width,
        height=spec.height,
        fps=fps,
        total_frames=frames,
        chunks=table,
        encoder=request.encoder.canonical(),
        runtime=runtime.identity.as_dict(),
        has_audio=has_audio,
        variables=request.variables,
        videos=tuple(videos),
    )
    write_plan_doc(plan_dir, doc)
    plan_hash = compute_plan_hash(plan_dir, doc.encoder, doc.runtime)
    return PlanResult(
        plan_hash=plan_hash,
        chunk_count=len(table),
        total_frames=frames,
        fps=fps,
        width=spec.width,
        height=spec.height,
        has_audio=has_audio,
        duration_ms=doc.duration_ms,
        chunks=table,
    )


def _blocks(doc: PlanDoc, index: int, pages: int | None) -> capture.BlockPlan:
    start, end = doc.chunks[index]
    settings = EncoderSettings.from_dict(dict(doc.encoder))
    return capture.plan_blocks(
        start,
        end,
        capture.choose_pages(pages, end - start, cores=capture.usable_cores()),
        frame_bytes=capture.frame_bytes_estimate(doc.width, doc.height, settings.capture_format),
    )


def chunk_pages(doc: PlanDoc, index: int, pages: int | None = None) -> int:
    """How many pages :func:`render_chunk` opens for chunk ``index`` of ``doc`` (0 if there is no such chunk)."""
    return _blocks(doc, index, pages).pages if 0 <= index < len(doc.chunks) else 0


def render_chunk(
    plan_dir: Path,
    plan_hash: str,
    index: int,
    out_path: Path,
    *,
    runtime: Runtime,
    scratch: Path,
    pages: int | None = None,
    browsers: BrowserPool | None = None,
) -> ChunkResult:
    """Capture and encode frames ``chunks[index]`` of a verified plan into ``out_path``.

    ``pages`` browsers capture at once (default: one per usable core); the bytes do not depend on it.
    Chrome's profiles go under ``scratch``, the caller's directory, or the browsers come from the
    pool ``browsers`` and go back to it: a warm worker skips their launch.
    """
    doc = verify_plan(plan_dir, plan_hash, runtime.identity.as_dict())  # before Chrome starts
    if not 0 <= index < len(doc.chunks):
        raise ChunkOutOfRange(f"chunk {index} is outside the plan's {len(doc.chunks)} chunks")
    start, end = doc.chunks[index]
    settings = EncoderSettings.from_dict(dict(doc.encoder))
    blocks = _blocks(doc, index, pages)
    blocked: list[str] = []
    absent: list[str] = []
    # Before Chrome starts: the span of each <video> this chunk shows, decoded under the scratch directory.
    decoded = Path(tempfile.mkdtemp(prefix="video-", dir=scratch))
    frames_at = clips.decode_for_chunk(
        runtime.ffmpeg, plan_dir / PROJECT_DIR, doc.videos, range(start, end), fps=doc.fps, out_dir=decoded
    )

    @contextlib.contextmanager
    def open_page() -> Iterator[Page]:
        with _browser(runtime, scratch, browsers) as browser:
            page = _open_composition(
                browser, plan_dir, doc.width, doc.height, doc.variables, transparent=settings.alpha
            )
            page.allow_root(decoded)
            yield page

    def collect_blocked(page: Page) -> None:
        blocked.extend(url for url in page.blocked_urls() if url not in blocked)
        absent.extend(path for path in page.missing_files() if path not in absent)

    out_path.parent.mkdir(parents=True, exist_ok=True)
    # ffmpeg starts while Chrome launches, and Chrome is closed while ffmpeg encodes the frames
    # it still holds: the fixed cost of a chunk overlaps instead of adding up.
    with encode.ChunkEncoder(
        runtime.ffmpeg,
        out_path,
        width=doc.width,
        height=doc.height,
        fps=doc.fps,
        frame_count=end - start,
        settings=settings,
    ) as encoder:
        capture_started: float | None = None
        for image in capture.capture_in_order(
            blocks,
            open_page,
            lambda page, frame: page.warm_up(frame, float(doc.fps), frames_at(frame)),
            lambda page, frame: page.capture(
                frame,
                float(doc.fps),
                fmt=settings.capture_format,
                quality=settings.jpeg_quality,
                video_frames=frames_at(frame),
            ),
            on_page=collect_blocked,
        ):
            if capture_started is None:
                capture_started = time.monotonic()
            encoder.write(image)
        if blocked:
            raise NetworkBlocked(blocked)
        if absent:
            raise MissingAsset(absent)
    frames_s = time.monotonic() - (capture_started or time.monotonic())
    return ChunkResult(
        index=index,
        path=out_path,
        sha256=file_sha256(out_path),
        frames=end - start,
        duration_ms=doc.fps.ms(end - start),
        frames_s=frames_s,
        pages=blocks.pages,
    )


def assemble(
    plan_dir: Path, plan_hash: str, chunk_paths: list[Path], out_path: Path, *, runtime: Runtime, scratch: Path
) -> AssembleResult:
    """Join the chunks in index order without re-encoding; mux the plan's audio; faststart.

    The joined file is written under ``scratch`` (the caller's directory) and moved to ``out_path`` whole.
    """
    doc = verify_plan(plan_dir, plan_hash, runtime.identity.as_dict())
    if len(chunk_paths) != len(doc.chunks):
        raise InvalidPlan(f"the plan has {len(doc.chunks)} chunks, assemble got {len(chunk_paths)}")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    settings = EncoderSettings.from_dict(dict(doc.encoder))
    warnings = []
    work = Path(tempfile.mkdtemp(prefix="assemble-", dir=scratch))
    try:
        partial = work / out_path.name
        if settings.output in ASSEMBLED_FORMATS:
            frames_source = mux.assemble_whole(
                runtime.ffmpeg, chunk_paths, partial, output=settings.output, scratch=work
            )
            if doc.has_audio:
                warnings.append(f"the composition has sound, and {settings.output} carries none: it was left out")
        else:
            track = plan_dir / AUDIO_FILE if doc.has_audio else None
            mux.concat_chunks(runtime.ffmpeg, chunk_paths, partial, audio=track, scratch=work, output=settings.output)
            frames_source = partial
        frames = framesfile.frame_hashes(runtime.ffmpeg, frames_source)
        shutil.move(partial, out_path)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    sha256 = file_sha256(out_path)
    if len(frames) != doc.total_frames:
        raise FrameCountMismatch(f"the assembled {out_path.name}", doc.total_frames, len(frames))
    manifest = framesfile.FramesManifest(
        frames=frames,
        width=doc.width,
        height=doc.height,
        fps=doc.fps.to_json(),
        video_sha256=sha256,
        encoder=doc.encoder,
        runtime=doc.runtime,
    )
    frames_path = framesfile.manifest_path(out_path)
    frames_path.write_bytes(manifest.to_bytes())
    return AssembleResult(
        path=out_path,
        frames_path=frames_path,
        sha256=sha256,
        bytes=out_path.stat().st_size,
        frames=doc.total_frames,
        duration_ms=doc.duration_ms,
        warnings=tuple(warnings),
    )
