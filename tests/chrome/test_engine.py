"""The render primitives end to end: real Chrome, real ffmpeg, plan -> chunks -> assemble."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

from handler.edge.events import RenderConfig
from handler.errors import MissingAsset, NetworkBlocked
from handler.render import engine
from handler.render.planfile import compute_plan_hash, read_plan_doc
from handler.render.runtime import Runtime
from runner import local
from tests.integration.conftest import barcode_values
from tooling import media

from .conftest import WIDTH, assert_same_frames, composition

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.chrome


def render(runtime: Runtime, project: Path, work: Path, config: RenderConfig) -> tuple[engine.PlanResult, Path]:
    plan_dir = work / "plan"
    scratch = work / "scratch"
    scratch.mkdir(parents=True, exist_ok=True)
    planned = engine.plan(project, plan_dir, config.plan_request(), runtime=runtime, scratch=scratch)
    chunks = []
    for index in range(planned.chunk_count):
        out = work / "chunks" / f"{index:04d}.mp4"
        engine.render_chunk(plan_dir, planned.plan_hash, index, out, runtime=runtime, scratch=scratch)
        chunks.append(out)
    output = work / "out.mp4"
    engine.assemble(plan_dir, planned.plan_hash, chunks, output, runtime=runtime, scratch=scratch)
    return planned, output


# The pair most tests compare: one chunk, and four uneven ones; lossless, so equal frames are equal captures.
ONE_AND_FOUR_CHUNKS = {
    "1": RenderConfig(chunks=1, capture="png", crf=0),
    "4": RenderConfig(frames_per_chunk=17, capture="png", crf=0),
}


def decoded_renders(
    runtime: Runtime,
    project: Path,
    factory: pytest.TempPathFactory,
    configs: Mapping[str, RenderConfig],
    *,
    height: int,
    width: int = WIDTH,
) -> dict[str, list[bytes]]:
    """Each config's render of ``project``, decoded to RGB frames."""
    frames = {}
    for name, config in configs.items():
        _, output = render(runtime, project, factory.mktemp(f"{project.name}-{name}"), config)
        frames[name] = list(media.decode_frames(runtime.ffmpeg, output, width=width, height=height))
    return frames


@pytest.mark.parametrize("name", ["barcode", "raf-barcode"])
@pytest.mark.parametrize("config", [RenderConfig(chunks=1), RenderConfig(frames_per_chunk=17)], ids=["1", "4-uneven"])
def test_every_frame_lands_once_in_order(runtime: Runtime, tmp_path: Path, name: str, config: RenderConfig) -> None:
    planned, output = render(runtime, composition(name), tmp_path, config)
    assert planned.total_frames == 60
    assert planned.chunks in (((0, 60),), ((0, 17), (17, 34), (34, 51), (51, 60)))
    assert barcode_values(runtime.ffmpeg, output) == list(range(60))


def test_one_chunk_or_four_capture_identical_frames(runtime: Runtime, tmp_path: Path) -> None:
    # crf 0 is lossless: equal decoded frames mean equal captured frames.
    lossless = {"capture": "png", "crf": 0}
    _, one = render(runtime, composition("mixed"), tmp_path / "one", RenderConfig(chunks=1, **lossless))  # type: ignore[arg-type]
    _, four = render(runtime, composition("mixed"), tmp_path / "four", RenderConfig(chunks=4, **lossless))  # type: ignore[arg-type]
    assert_same_frames(one, four)


def test_the_same_chunk_twice_in_two_processes_gives_identical_bytes(runtime: Runtime, tmp_path: Path) -> None:
    planned = engine.plan(
        composition("barcode"),
        tmp_path / "plan",
        RenderConfig(chunks=3).plan_request(),
        runtime=runtime,
        scratch=tmp_path,
    )
    script = (
        "import sys, tempfile; from pathlib import Path; from handler.render import engine, runtime;"
        "engine.render_chunk(Path(sys.argv[1]), sys.argv[2], 1, Path(sys.argv[3]),"
        " runtime=runtime.prepare(), scratch=Path(tempfile.mkdtemp(dir=sys.argv[4])))"
    )
    outputs = []
    for attempt in range(2):
        out = tmp_path / f"attempt{attempt}.mp4"
        subprocess.run(
            [sys.executable, "-c", script, str(tmp_path / "plan"), planned.plan_hash, str(out), str(tmp_path)],
            check=True,
            cwd=Path(__file__).resolve().parents[2],
        )
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]


def test_audio_starts_on_time_and_lasts_as_long_as_the_video(runtime: Runtime, tmp_path: Path) -> None:
    planned, output = render(runtime, composition("tone"), tmp_path, RenderConfig(chunks=2))
    assert planned.has_audio
    info = media.inspect(runtime.ffmpeg, output)
    assert info.audio_codec == "aac" and info.sample_rate == 48000
    assert info.audio_duration is not None and info.video_duration is not None
    assert abs(info.audio_duration - info.video_duration) <= 1 / 30
    onset = media.onset_time(media.audio_samples(runtime.ffmpeg, output), 48000, 0.05)
    assert onset is not None and abs(onset - 1.0) <= 1 / 30


def test_plan_hash_is_stable_across_directories_and_recomputable(runtime: Runtime, tmp_path: Path) -> None:
    copies = []
    for where in ("a", "b/deeper"):
        project = tmp_path / where / "tone"
        shutil.copytree(composition("tone"), project)
        copies.append(
            engine.plan(
                project,
                tmp_path / where / "plan",
                RenderConfig(chunks=2).plan_request(),
                runtime=runtime,
                scratch=tmp_path,
            )
        )
    assert copies[0].plan_hash == copies[1].plan_hash
    plan_dir = tmp_path / "a" / "plan"
    doc = read_plan_doc(plan_dir)
    assert compute_plan_hash(plan_dir, doc.encoder, runtime.identity.as_dict()) == copies[0].plan_hash
    changed = engine.plan(
        composition("tone"),
        tmp_path / "crf",
        RenderConfig(chunks=2, crf=30).plan_request(),
        runtime=runtime,
        scratch=tmp_path,
    )
    assert changed.plan_hash != copies[0].plan_hash


def test_plan_names_every_file_the_composition_asks_for_and_does_not_hold(runtime: Runtime, tmp_path: Path) -> None:
    """An <img>, a CSS background and an @font-face source: each named, none drawn as a silent blank."""
    with pytest.raises(MissingAsset) as raised:
        engine.plan(
            composition("missing-asset"),
            tmp_path / "plan",
            RenderConfig().plan_request(),
            runtime=runtime,
            scratch=tmp_path,
        )
    assert sorted(raised.value.paths) == ["fonts/gone.woff2", "images/backdrop.png", "missing.png"]
    assert raised.value.code == "MissingAsset" and not raised.value.retryable
    assert "3 file(s) its directory does not hold" in str(raised.value)


def _first_pixel(runtime: Runtime, output: Path) -> tuple[int, int, int]:
    frame = next(iter(media.decode_frames(runtime.ffmpeg, output, width=64, height=32)))
    red, green, blue = frame[0:3]
    return red, green, blue


def test_config_variables_reach_the_page_before_its_scripts_and_enter_the_plan_hash(
    runtime: Runtime, tmp_path: Path
) -> None:
    lossless = {"capture": "png", "crf": 0}
    red, _ = render(
        runtime,
        composition("variables"),
        tmp_path / "red",
        RenderConfig(chunks=2, variables='{"color":"#ff0000"}', **lossless),
    )  # type: ignore[arg-type]
    blue, _ = render(
        runtime,
        composition("variables"),
        tmp_path / "blue",
        RenderConfig(chunks=2, variables='{"color":"#0000ff"}', **lossless),
    )  # type: ignore[arg-type]
    none, _ = render(runtime, composition("variables"), tmp_path / "none", RenderConfig(chunks=2, **lossless))  # type: ignore[arg-type]
    assert _first_pixel(runtime, tmp_path / "red" / "out.mp4")[0] > 200
    assert _first_pixel(runtime, tmp_path / "blue" / "out.mp4")[2] > 200
    assert max(_first_pixel(runtime, tmp_path / "none" / "out.mp4")) < 30
    assert len({red.plan_hash, blue.plan_hash, none.plan_hash}) == 3
    assert "variables" not in read_plan_doc(tmp_path / "none" / "plan").to_json()


def test_plan_names_urls_outside_the_composition(runtime: Runtime, tmp_path: Path) -> None:
    with pytest.raises(NetworkBlocked) as raised:
        engine.plan(
            composition("network"), tmp_path / "plan", RenderConfig().plan_request(), runtime=runtime, scratch=tmp_path
        )
    assert "http://example.invalid/x.png" in raised.value.urls


def test_local_runner_goes_through_the_handler_and_writes_a_checked_mp4(runtime: Runtime, tmp_path: Path) -> None:
    examples = Path(__file__).resolve().parents[2] / "examples"
    result = local.render(examples / "css-animation", tmp_path / "out.mp4", chunks=3, workers=2)
    info = media.inspect(runtime.ffmpeg, result.output)
    assert (info.video_codec, info.width, info.height, info.pix_fmt) == ("h264", 1280, 720, "yuv420p")
    assert info.fps == 30 and info.frame_count == 90
    assert info.video_duration is not None and abs(info.video_duration - 3.0) < 1 / 30
    assert result.assembled["Frames"] == 90 and len(result.chunks) == 3


def _cli_render(project: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(out.parent)}
    command = [sys.executable, "-m", "runner", "render", str(project), "-o", str(out), "--chunks", "2", *extra]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_cli_keeps_the_handler_log_off_the_terminal(tmp_path: Path) -> None:
    log = tmp_path / "handler.log"
    result = _cli_render(composition("barcode"), tmp_path / "out.mp4", "--log", str(log))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"wrote {tmp_path / 'out.mp4'}: 60 frames at 320x64 30 fps, 2 chunks")
    assert len(result.stdout.splitlines()) == 1
    assert '"event"' not in result.stderr
    lines = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    done = sorted(line["action"] for line in lines if line["event"] == "end")
    assert done == ["assemble", "plan", "renderChunk", "renderChunk"]  # workers log there too


def test_cli_failure_keeps_the_log_and_shows_its_tail(tmp_path: Path) -> None:
    result = _cli_render(composition("seek-error"), tmp_path / "out.mp4")
    assert result.returncode == 2
    assert "ERROR PageError: Error: composition broke at t=1" in result.stderr
    kept = [line for line in result.stderr.splitlines() if line.startswith("handler log: ")]
    assert len(kept) == 1
    log = Path(kept[0].split()[2])
    assert log.parent == tmp_path
    assert '"error_code":"PageError"' in log.read_text(encoding="utf-8")
