"""``nox -s bench``: the performance figures, each a ratio against a reference measured in the same run.

- throughput at 1280x720 and 1920x1080: the pipeline (``render_chunk``: capture piped
  to ffmpeg) against the capture ceiling (bare beginFrame screenshots of the same
  page) and the encode ceiling (ffmpeg alone on the same frames);
- parallelism: 4 chunks on one worker whose chunks each take every core (K pages)
  against one worker per core with one page each, and the cores kept busy (from /proc/stat);
- output formats at 1280x720: frames/s of one chunk and of assemble (with its frame-hash
  manifest) for every format and codec, opaque and, where the format keeps it, with alpha;
- cold start: preparing Chromium and ffmpeg from an empty directory against
  decoding the upstream ``chromium.br`` with Node's streaming brotli, as
  ``@sparticuz/chromium`` does;
- warm-cache rebuild time and the zip's sizes.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bundler.binaries import read_package_file
from bundler.build import BuildOptions, build
from bundler.cache import Cache, default_cache_root
from bundler.fetch import fetch_npm_tarball
from bundler.lockfiles import ChromiumPin, load_artifacts_lock
from bundler.progress import ConsoleReporter
from handler.render import engine
from handler.render.chrome.browser import Browser
from handler.render.chrome.pool import BrowserPool
from handler.render.ffmpeg import encode
from handler.render.planfile import compute_plan_hash, read_plan_doc
from handler.render.runtime import Runtime, prepare
from handler.render.settings import (
    ALPHA_FORMATS,
    CODECS_BY_NAME,
    OUTPUT_FORMATS,
    OUTPUT_SUFFIXES,
    EncoderSettings,
    PlanRequest,
)
from runner import local

ROOT = Path(__file__).resolve().parent.parent
FRAMES = 90
THROUGHPUT_RUNS = 3
PAGE = """<!doctype html><html><head><meta charset="utf-8"><style>
html, body {{ margin: 0; background: {background}; }}
#root {{ position: relative; width: {w}px; height: {h}px; overflow: hidden; }}
.b {{ position: absolute; width: {s}px; height: {s}px; border-radius: 20%;
      animation: slide 3s linear infinite alternate; }}
@keyframes slide {{ from {{ transform: translate(0, 0) rotate(0); }}
                   to {{ transform: translate({dx}px, {dy}px) rotate(360deg); }} }}
h1 {{ position: absolute; top: 40%; width: 100%; text-align: center; color: #fff; font: bold 64px sans-serif;
      animation: pulse 1s ease-in-out infinite alternate; }}
@keyframes pulse {{ from {{ opacity: 0.3; }} to {{ opacity: 1; }} }}
</style></head><body><div id="root" data-width="{w}" data-height="{h}" data-fps="30" data-duration="3">
{blocks}<h1>renderzip bench</h1></div></body></html>"""


def composition(directory: Path, width: int, height: int, *, background: str = "#102030") -> Path:
    size = height // 6
    blocks = "".join(
        f'<div class="b" style="left:{i * width // 8}px;top:{(i % 3) * height // 3}px;'
        f'background:hsl({i * 45},70%,55%);animation-delay:-{i * 0.3:.1f}s"></div>'
        for i in range(8)
    )
    directory.mkdir(parents=True)
    page = PAGE.format(w=width, h=height, s=size, dx=width // 3, dy=height // 4, blocks=blocks, background=background)
    (directory / "index.html").write_text(page, encoding="utf-8")
    return directory


def busy_jiffies() -> tuple[int, int]:
    fields = [int(v) for v in Path("/proc/stat").read_text(encoding="utf-8").splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def cores_busy(before: tuple[int, int], after: tuple[int, int]) -> float:
    busy, total = after[0] - before[0], after[1] - before[1]
    return (os.cpu_count() or 1) * busy / total if total else 0.0


def group_cpu_s(pgid: int) -> float:
    """CPU seconds of every live process in ``pgid`` (Chrome and its helpers)."""
    ticks = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text(encoding="utf-8").rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def own_cpu_s() -> float:
    """CPU seconds of this process and of every child it has reaped (Chrome, ffmpeg)."""
    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    return sum(u.ru_utime + u.ru_stime for u in usage)


def per_frame_ms(seconds: float) -> float:
    return round(1000 * seconds / FRAMES, 1)


def throughput(runtime: Runtime, work: Path, width: int, height: int) -> dict[str, Any]:
    """The median of THROUGHPUT_RUNS runs, ranked by the pipeline's share of the all-core bound.

    One run's figures move by a tenth or more on a shared machine, the bound's CPU times as much
    as the pipeline's; every run's share is kept beside the median's figures.
    """
    runs = [
        _throughput_run(runtime, work / f"run-{width}-{number}", width, height) for number in range(THROUGHPUT_RUNS)
    ]
    median = dict(sorted(runs, key=lambda run: float(run["pipeline_of_cpu_bound"]))[len(runs) // 2])
    median["runs"] = len(runs)
    median["pipeline_of_cpu_bound_runs"] = [run["pipeline_of_cpu_bound"] for run in runs]
    median["one_page_of_cpu_bound_runs"] = [run["one_page_of_cpu_bound"] for run in runs]
    median["warm_pipeline_of_cpu_bound_runs"] = [run["warm_pipeline_of_cpu_bound"] for run in runs]
    median.update(chrome_memory(runtime, work / f"run-{width}-0", width, int(median["pages"])))
    return median


def _throughput_run(runtime: Runtime, work: Path, width: int, height: int) -> dict[str, Any]:
    work.mkdir(parents=True)
    project = composition(work / f"page-{width}", width, height)
    request = PlanRequest(chunks=1)
    settings = request.encoder
    scratch = work / "scratch"
    scratch.mkdir(exist_ok=True)
    with Browser.launch(runtime, scratch) as browser:
        page = browser.open_page(width, height, allowed_root=project)
        page.navigate(project / "index.html")
        page.warm_up(0, 30)
        chrome_cpu, python_cpu = group_cpu_s(browser.connection.process.pid), time.process_time()
        started = time.monotonic()
        frames = [page.capture(i, 30, fmt="jpeg", quality=settings.jpeg_quality) for i in range(FRAMES)]
        capture_fps = FRAMES / (time.monotonic() - started)
        capture_cpu = group_cpu_s(browser.connection.process.pid) - chrome_cpu + time.process_time() - python_cpu
    encode_cpu = own_cpu_s()
    started = time.monotonic()
    with encode.ChunkEncoder(
        runtime.ffmpeg,
        work / f"encode-{width}.mp4",
        width=width,
        height=height,
        fps=30,
        frame_count=FRAMES,
        settings=settings,
    ) as encoder:
        for frame in frames:
            encoder.write(frame)
    encode_fps = FRAMES / (time.monotonic() - started)
    encode_cpu = own_cpu_s() - encode_cpu
    planned = engine.plan(project, work / f"plan-{width}", request, runtime=runtime, scratch=scratch)
    one_page = _pipeline(runtime, work, width, planned.plan_hash, pages=1)
    pipeline_cpu, machine = own_cpu_s(), busy_jiffies()
    started = time.monotonic()
    chunk = engine.render_chunk(
        work / f"plan-{width}", planned.plan_hash, 0, work / f"chunk-{width}.mp4", runtime=runtime, scratch=scratch
    )
    pipeline_s = time.monotonic() - started
    pipeline_fps = FRAMES / pipeline_s
    pipeline_cpu = own_cpu_s() - pipeline_cpu
    warm_s = _warm_chunk_s(runtime, work, width, planned.plan_hash, pages=chunk.pages)
    ceiling = min(capture_fps, encode_fps)
    cores = os.cpu_count() or 1
    cpu_bound_fps = cores * FRAMES / (capture_cpu + encode_cpu)
    return {
        "pages": chunk.pages,
        "pipeline_of_cpu_bound": round(pipeline_fps / cpu_bound_fps, 3),
        "pipeline_frames_of_cpu_bound": round(FRAMES / chunk.frames_s / cpu_bound_fps, 3),
        # The chunk a warm worker renders next: its browsers kept from the chunk before.
        "warm_pipeline_fps": round(FRAMES / warm_s, 1),
        "warm_pipeline_of_cpu_bound": round(FRAMES / warm_s / cpu_bound_fps, 3),
        "one_page_fps": one_page["fps"],
        "one_page_of_cpu_bound": round(one_page["fps"] / cpu_bound_fps, 3),
        "one_page_cores_busy": one_page["cores_busy"],
        "size": f"{width}x{height}",
        "capture_ceiling_fps": round(capture_fps, 1),
        "encode_ceiling_fps": round(encode_fps, 1),
        "pipeline_fps": round(pipeline_fps, 1),
        "pipeline_vs_lower_ceiling": round(pipeline_fps / ceiling, 3),
        # The same render without Chrome's launch, the page load and the warm-up, which the
        # capture ceiling leaves out too; a longer chunk spreads them over more frames.
        "pipeline_frames_fps": round(FRAMES / chunk.frames_s, 1),
        "pipeline_frames_vs_lower_ceiling": round(FRAMES / chunk.frames_s / ceiling, 3),
        "chunk_start_up_s": round(pipeline_s - chunk.frames_s, 2),
        # CPU time per frame: what the stages cost whatever else the machine runs. Both stages
        # together cannot go faster than all cores spent on them alone.
        "capture_cpu_ms_per_frame": per_frame_ms(capture_cpu),
        "encode_cpu_ms_per_frame": per_frame_ms(encode_cpu),
        "pipeline_cpu_ms_per_frame": per_frame_ms(pipeline_cpu),
        "cpu_bound_fps": round(cpu_bound_fps, 1),
        "pipeline_cores_busy": round(pipeline_cpu / pipeline_s, 2),
        "machine_cores_busy": round(cores_busy(machine, busy_jiffies()), 2),
    }


class ChromeMemory:
    """The peak, over a render, of the proportional set size of every renderzip Chrome process.

    PSS divides each shared page among the processes that map it, so the sum over processes is
    the memory they hold together.
    """

    def __init__(self) -> None:
        self.peak_pss_mib = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    @staticmethod
    def pss_mib() -> float:
        # A browser's command line names its profile; its GPU and renderer processes,
        # which rewrite theirs, share its process group.
        group_of: dict[int, int] = {}
        browsers: set[int] = set()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                group_of[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[2])
                if b"renderzip-chrome-" in (entry / "cmdline").read_bytes():
                    browsers.add(int(entry.name))
            except OSError:
                continue
        total = 0
        for pid in (pid for pid, group in group_of.items() if group in browsers):
            try:
                for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
            except OSError:
                continue
        return total / 1024

    def _sample(self) -> None:
        while not self._stop.wait(0.1):
            self.peak_pss_mib = max(self.peak_pss_mib, self.pss_mib())

    def __enter__(self) -> ChromeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _render_bench_chunk(
    runtime: Runtime, work: Path, width: int, plan_hash: str, name: str, *, pages: int, browsers: BrowserPool | None
) -> None:
    engine.render_chunk(
        work / f"plan-{width}",
        plan_hash,
        0,
        work / f"chunk-{width}-{name}.mp4",
        runtime=runtime,
        scratch=work / "scratch",
        pages=pages,
        browsers=browsers,
    )


def _warm_chunk_s(runtime: Runtime, work: Path, width: int, plan_hash: str, *, pages: int) -> float:
    """Wall time of a chunk whose ``pages`` browsers a pool kept from the chunk before it."""
    browsers = BrowserPool(keep=pages)
    try:
        for attempt in ("warming", "warm"):
            started = time.monotonic()
            _render_bench_chunk(runtime, work, width, plan_hash, attempt, pages=pages, browsers=browsers)
        return time.monotonic() - started
    finally:
        browsers.close()


def _pipeline(runtime: Runtime, work: Path, width: int, plan_hash: str, *, pages: int) -> dict[str, float]:
    cpu, machine, started = own_cpu_s(), busy_jiffies(), time.monotonic()
    _render_bench_chunk(runtime, work, width, plan_hash, str(pages), pages=pages, browsers=None)
    wall = time.monotonic() - started
    return {
        "fps": round(FRAMES / wall, 1),
        "cores_busy": round((own_cpu_s() - cpu) / wall, 2),
        "machine_cores_busy": round(cores_busy(machine, busy_jiffies()), 2),
    }


def chrome_memory(runtime: Runtime, run: Path, width: int, pages: int) -> dict[str, float]:
    """Chrome's peak memory in one render with 1 page and one with ``pages`` of a run's own plan,
    neither timed: the sampler reads /proc, which would cost the timed renders CPU."""
    plan_dir, scratch = run / f"plan-{width}", run / "scratch"
    doc = read_plan_doc(plan_dir)
    plan_hash = compute_plan_hash(plan_dir, doc.encoder, doc.runtime)
    peaks = {}
    for count in sorted({1, pages}):
        with ChromeMemory() as memory:
            engine.render_chunk(
                plan_dir,
                plan_hash,
                0,
                run / f"memory-{count}.mp4",
                runtime=runtime,
                scratch=scratch,
                pages=count,
            )
        peaks[count] = memory
    one, many = peaks[1], peaks[pages]
    return {
        "chrome_pss_mib_one_page": round(one.peak_pss_mib, 1),
        "chrome_pss_mib_per_page": round(many.peak_pss_mib / pages, 1),
        # What each page beyond the first adds to the memory the browsers hold together: PSS sums
        # to the memory in use.
        "chrome_mib_per_extra_page": round((many.peak_pss_mib - one.peak_pss_mib) / max(1, pages - 1), 1),
    }


def parallelism(work: Path) -> dict[str, Any]:
    project = composition(work / "parallel", 1280, 720)
    figures: dict[str, Any] = {}
    cores = os.cpu_count() or 1
    for name, workers, pages in (("pages", 1, cores), ("workers", cores, 1)):
        before, cpu, started = busy_jiffies(), own_cpu_s(), time.monotonic()
        with Path(os.devnull).open("w", encoding="utf-8") as quiet:
            local.render(
                project,
                work / f"parallel-{name}.mp4",
                chunks=4,
                workers=workers,
                config={"Pages": pages},
                stream=quiet,
                log_file=work / "handler.log",
            )
        wall = time.monotonic() - started
        cpu = own_cpu_s() - cpu  # the pool's workers and their Chrome and ffmpeg are reaped by now
        figures[name] = {
            "workers": workers,
            "pages": pages,
            "wall_s": round(wall, 2),
            "cores_busy": round(cores_busy(before, busy_jiffies()), 2),
            "render_cpu_s": round(cpu, 2),
            "render_cores_busy": round(cpu / wall, 2),
        }
    # Under 1: one worker whose chunks fill the machine beats a worker per core with one page each.
    figures["wall_ratio_pages_vs_workers"] = round(figures["pages"]["wall_s"] / figures["workers"]["wall_s"], 3)
    return figures


def video(runtime: Runtime, work: Path) -> dict[str, Any]:
    """A 1920x1080 composition that is one full-frame 1080p clip: frames/s of one chunk, decoding included."""
    project = work / "video"
    project.mkdir()
    source = [
        str(runtime.ffmpeg),
        "-v",
        "error",
        "-y",
        "-f",
        "lavfi",
        "-i",
        f"testsrc2=size=1920x1080:rate=30:duration={FRAMES / 30}",
    ]
    subprocess.run(
        [*source, "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", str(project / "clip.mp4")],
        check=True,
    )
    (project / "index.html").write_text(
        '<!doctype html><html><body style="margin:0"><div data-width="1920" data-height="1080"'
        f' data-duration="{FRAMES / 30}"><video src="clip.mp4" muted style="position:absolute;inset:0;'
        'width:1920px;height:1080px"></video></div></body></html>',
        encoding="utf-8",
    )
    scratch = work / "video-scratch"
    scratch.mkdir()
    request = PlanRequest(chunks=1)
    planned = engine.plan(project, work / "video-plan", request, runtime=runtime, scratch=scratch)
    started = time.monotonic()
    chunk = engine.render_chunk(
        work / "video-plan", planned.plan_hash, 0, work / "video.mp4", runtime=runtime, scratch=scratch
    )
    wall = time.monotonic() - started
    return {
        "size": "1920x1080",
        "frames": FRAMES,
        "pages": chunk.pages,
        "fps": round(FRAMES / wall, 1),
        "wall_s": round(wall, 2),
    }


def _format_cases() -> list[tuple[str, str, str]]:
    """(format, codec, capture) for every output: mp4 once per codec; the alpha formats also with PNG capture."""
    cases = [("mp4", codec, "jpeg") for codec in CODECS_BY_NAME]
    cases += [(fmt, "h264", "jpeg") for fmt in OUTPUT_FORMATS if fmt != "mp4"]
    cases += [(fmt, "h264", "png") for fmt in ALPHA_FORMATS]
    return cases


def formats(runtime: Runtime, work: Path) -> list[dict[str, Any]]:
    """One chunk of FRAMES at 1280x720 per output format, then its assemble, each timed apart."""
    opaque = composition(work / "formats-opaque", 1280, 720)
    transparent = composition(work / "formats-alpha", 1280, 720, background="transparent")
    scratch = work / "formats-scratch"
    scratch.mkdir()
    rows = []
    for fmt, codec, capture in _format_cases():
        name = f"{fmt}-{codec}-{capture}"
        encoder = EncoderSettings.for_output(fmt, codec, capture_format=capture)
        project = transparent if encoder.alpha else opaque
        plan_dir = work / f"formats-plan-{name}"
        planned = engine.plan(
            project, plan_dir, PlanRequest(encoder=encoder, chunks=1), runtime=runtime, scratch=scratch
        )
        started = time.monotonic()
        chunk = engine.render_chunk(
            plan_dir, planned.plan_hash, 0, work / f"formats-chunk-{name}.mp4", runtime=runtime, scratch=scratch
        )
        chunk_s = time.monotonic() - started
        started = time.monotonic()
        out = engine.assemble(
            plan_dir,
            planned.plan_hash,
            [chunk.path],
            work / f"formats-out-{name}{OUTPUT_SUFFIXES[fmt]}",
            runtime=runtime,
            scratch=scratch,
        )
        assemble_s = time.monotonic() - started
        rows.append(
            {
                "format": fmt,
                "codec": encoder.codec,
                "capture": capture,
                "alpha": encoder.alpha,
                "pix_fmt": encoder.pix_fmt,
                "pages": chunk.pages,
                "chunk_fps": round(FRAMES / chunk_s, 1),
                "chunk_frames_fps": round(FRAMES / chunk.frames_s, 1),
                "assemble_s": round(assemble_s, 2),
                "render_fps": round(FRAMES / (chunk_s + assemble_s), 1),
                "output_kib": round(out.bytes / 1024),
            }
        )
    return rows


def cold_start(work: Path) -> dict[str, Any]:
    started = time.monotonic()
    prepare(root=work / "cold-runtime")
    ours = time.monotonic() - started
    pin = load_artifacts_lock().chromium_for("sparticuz")
    assert isinstance(pin, ChromiumPin)
    tarball = fetch_npm_tarball(
        Cache(default_cache_root()),
        ConsoleReporter(),
        item=pin.item,
        package=pin.package,
        version=pin.version,
        integrity=pin.integrity,
    )
    source = work / "chromium.br"
    source.write_bytes(read_package_file(tarball, "bin/chromium.br"))
    script = (
        "const fs=require('fs'),zlib=require('zlib');"
        "fs.createReadStream(process.argv[1]).pipe(zlib.createBrotliDecompress())"
        ".pipe(fs.createWriteStream(process.argv[2])).on('close',()=>process.exit(0));"
    )
    node = shutil.which("node")
    if node is None:
        return {"prepare_s": round(ours, 3), "upstream_s": None, "ratio": None, "note": "node is not installed"}
    started = time.monotonic()
    subprocess.run([node, "-e", script, str(source), str(work / "chromium")], check=True)
    upstream = time.monotonic() - started
    return {"prepare_s": round(ours, 3), "upstream_brotli_s": round(upstream, 3), "ratio": round(ours / upstream, 3)}


def rebuild(work: Path) -> dict[str, Any]:
    started = time.monotonic()
    result = build(BuildOptions(out=work / "handler.zip"), ConsoleReporter())
    return {
        "warm_rebuild_s": round(time.monotonic() - started, 2),
        "zip_bytes": result.manifest["zip"]["bytes"],
        "unzipped_bytes": result.manifest["totals"]["unzipped_bytes"],
    }


PARTS = ("throughput", "parallelism", "formats", "video", "cold-start", "build")


def print_report(report: dict[str, Any]) -> None:
    for row in report.get("throughput", []):
        print(
            f"{row['size']:>10}: capture {row['capture_ceiling_fps']} fps, encode {row['encode_ceiling_fps']} fps,"
            f" pipeline {row['pipeline_fps']} fps = {row['pipeline_vs_lower_ceiling']:.0%} of the lower ceiling"
            f" ({row['pipeline_frames_fps']} fps = {row['pipeline_frames_vs_lower_ceiling']:.0%} without the"
            f" chunk's {row['chunk_start_up_s']} s start-up);"
            f" CPU ms/frame capture {row['capture_cpu_ms_per_frame']} + encode {row['encode_cpu_ms_per_frame']}"
            f" (pipeline {row['pipeline_cpu_ms_per_frame']}): at most {row['cpu_bound_fps']} fps on all cores;"
            f" pipeline kept {row['pipeline_cores_busy']} cores busy, the machine {row['machine_cores_busy']}"
        )
        shares = ", ".join(f"{share:.0%}" for share in row.get("pipeline_of_cpu_bound_runs", []))
        warm = ", ".join(f"{share:.0%}" for share in row.get("warm_pipeline_of_cpu_bound_runs", []))
        print(
            f"{'':>10}  {row['pages']} pages: {row['pipeline_of_cpu_bound']:.0%} of the all-core bound"
            f" ({row['pipeline_frames_of_cpu_bound']:.0%} without start-up; the median of {row.get('runs', 1)}"
            f" runs: {shares}); a warm worker's chunk {row['warm_pipeline_fps']} fps ="
            f" {row['warm_pipeline_of_cpu_bound']:.0%} (runs: {warm}), Chrome {row['chrome_pss_mib_per_page']}"
            f" MiB PSS a page; 1 page: {row['one_page_fps']} fps = {row['one_page_of_cpu_bound']:.0%} of the bound,"
            f" {row['one_page_cores_busy']} cores busy, Chrome {row['chrome_pss_mib_one_page']} MiB;"
            f" each page beyond the first adds {row['chrome_mib_per_extra_page']} MiB"
        )
    par = report.get("parallelism")
    if par:
        pages, workers = par["pages"], par["workers"]
        print(
            f"4 chunks at 1280x720: 1 worker x {pages['pages']} pages {pages['wall_s']}s"
            f" ({pages['cores_busy']} cores busy), {workers['workers']} workers x 1 page {workers['wall_s']}s"
            f" ({workers['cores_busy']} cores busy), ratio {par['wall_ratio_pages_vs_workers']}"
        )
    for row in report.get("formats", []):
        print(
            f"{row['format']:>12} {row['codec']:<10} {row['capture']:<4} {'alpha' if row['alpha'] else 'opaque':<6}"
            f" 1280x720: chunk {row['chunk_fps']} fps ({row['chunk_frames_fps']} without start-up),"
            f" assemble {row['assemble_s']} s, chunk + assemble {row['render_fps']} fps, {row['output_kib']} KiB"
        )
    if "video" in report:
        clip = report["video"]
        print(
            f"video: {clip['size']} with a full-frame 1080p clip, {clip['frames']} frames"
            f" on {clip['pages']} pages: {clip['fps']} fps"
        )
    if "cold_start" in report:
        print(f"cold start: {report['cold_start']}")
    if "build" in report:
        print(f"build: {report['build']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=PARTS, help="run just this part (repeatable)")
    args = parser.parse_args(argv)
    parts = args.only or list(PARTS)
    work = Path(tempfile.mkdtemp(prefix="renderzip-bench-"))
    report: dict[str, Any] = {"cpus": os.cpu_count()}
    try:
        runtime = prepare()
        if "throughput" in parts:
            report["throughput"] = [throughput(runtime, work, 1280, 720), throughput(runtime, work, 1920, 1080)]
        if "parallelism" in parts:
            report["parallelism"] = parallelism(work)
        if "formats" in parts:
            report["formats"] = formats(runtime, work)
        if "video" in parts:
            report["video"] = video(runtime, work)
        if "cold-start" in parts:
            report["cold_start"] = cold_start(work)
        if "build" in parts:
            report["build"] = rebuild(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out = ROOT / "dist" / ("bench.json" if parts == list(PARTS) else f"bench-{'-'.join(parts)}.json")
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print_report(report)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
