"""PSNR, the heatmap, fixture files and the report, on the host: no container needed."""

from __future__ import annotations

import json
import math
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from handler.render.runtime import Runtime
from handler.render.settings import ALPHA_FORMATS, OUTPUT_FORMATS, FrameRate
from regression import cli
from regression.errors import FixtureError
from regression.fixtures import FIXTURES_DIR, discover, load_fixture
from regression.frames import heatmap, psnr, read_png, write_png
from regression.report import render_html, summary_table, to_json
from regression.results import CheckpointResult, FixtureResult, psnr_json
from regression.sound import AudioCheck, correlation

FIXTURE_TOML = """title = "t"
width = 64
height = 36
fps = 30
duration = 1.0
chunks = 3
checkpoints = [0, 15, 29]
"""


def _ffmpeg_psnr(ffmpeg: Path, a: Path, b: Path) -> float:
    result = subprocess.run(
        [
            str(ffmpeg),
            "-hide_banner",
            "-nostdin",
            "-i",
            str(a),
            "-i",
            str(b),
            "-lavfi",
            "[0:v][1:v]psnr",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    match = re.search(r"PSNR .*average:(\S+)", result.stderr)
    assert match, result.stderr[-2000:]
    return math.inf if match.group(1) == "inf" else float(match.group(1))


@pytest.mark.ffmpeg
@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("barcode/baseline/frame-0030.png", "barcode/baseline/frame-0031.png"),
        ("css-keyframes/baseline/frame-0029.png", "css-keyframes/baseline/frame-0030.png"),
        ("effects/baseline/frame-0045.png", "effects/baseline/frame-0059.png"),
        ("particles/baseline/frame-0000.png", "particles/baseline/frame-0000.png"),
    ],
)
def test_psnr_agrees_with_ffmpegs_psnr_filter(packaged_runtime: Runtime, first: str, second: str) -> None:
    a, b = FIXTURES_DIR / first, FIXTURES_DIR / second
    ours = psnr(read_png(a), read_png(b))
    theirs = _ffmpeg_psnr(packaged_runtime.ffmpeg, a, b)
    if math.isinf(theirs):
        assert math.isinf(ours)
    else:
        assert ours == pytest.approx(theirs, abs=0.01)


def test_psnr_of_identical_frames_is_infinite_and_of_a_known_error_is_exact() -> None:
    frame = np.full((36, 64, 3), 100, dtype=np.uint8)
    assert psnr(frame, frame.copy()) == math.inf
    # Every sample off by 1: MSE 1, PSNR = 20 log10(255).
    assert psnr(frame, frame + 1) == pytest.approx(20 * math.log10(255))
    assert psnr(np.zeros_like(frame), np.full_like(frame, 255)) == pytest.approx(0.0)


def test_psnr_refuses_frames_of_different_sizes() -> None:
    with pytest.raises(Exception, match="different shapes"):
        psnr(np.zeros((2, 2, 3), np.uint8), np.zeros((2, 4, 3), np.uint8))


def test_heatmap_is_grey_where_equal_and_hot_where_different() -> None:
    base = np.full((4, 4, 3), 200, dtype=np.uint8)
    other = base.copy()
    other[0, 0] = [200, 200, 100]  # a large difference: white-hot
    other[1, 1] = [210, 200, 200]  # a small one: red
    heat = heatmap(other, base)
    assert tuple(heat[3, 3]) == (100, 100, 100)
    assert tuple(heat[0, 0]) == (255, 255, 255)
    assert heat[1, 1][0] > 0 and heat[1, 1][2] == 0


def test_png_round_trip_is_lossless_and_deterministic(tmp_path: Path) -> None:
    frame = np.random.default_rng(7).integers(0, 256, (36, 64, 3), dtype=np.uint8)
    write_png(frame, tmp_path / "a.png", small=True)
    write_png(frame, tmp_path / "b.png", small=True)
    assert np.array_equal(read_png(tmp_path / "a.png"), frame)
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()


def test_correlation_of_a_signal_with_itself_and_with_silence() -> None:
    signal = np.sin(np.arange(8000) / 10.0)
    assert correlation(signal, signal) == pytest.approx(1.0)
    assert correlation(signal, -signal) == pytest.approx(-1.0)
    assert correlation(signal, np.zeros_like(signal)) == 0.0


# --- fixtures -------------------------------------------------------------------------------


def test_committed_fixtures_load_and_have_every_baseline() -> None:
    fixtures = discover()
    assert len(fixtures) >= 9
    for fixture in fixtures:
        assert fixture.chunks >= 3, fixture.name
        assert fixture.total_frames == round(fixture.duration * float(fixture.fps))
        for frame in fixture.checkpoints:
            assert read_png(fixture.baseline_frame(frame)).shape == (fixture.height, fixture.width, 3)
        if fixture.audio is not None:
            assert fixture.baseline_audio.is_file(), fixture.name
    assert any(f.audio is not None and len(f.audio.onsets) >= 3 for f in fixtures)


def test_committed_fixtures_cover_every_output_format_alpha_and_the_features_of_hyperframes() -> None:
    fixtures = {fixture.name: fixture for fixture in discover()}
    assert {f.output_format for f in fixtures.values()} == set(OUTPUT_FORMATS)
    assert {f.output_format for f in fixtures.values() if f.alpha is not None} == set(ALPHA_FORMATS)
    assert any(f.config.get("Codec") == "h265" for f in fixtures.values())
    assert any(f.fps.den != 1 for f in fixtures.values())
    assert any("Variables" in f.config for f in fixtures.values())
    assert (fixtures["video"].composition / "clip.mp4").is_file()
    assert "fonts.googleapis.com" in (fixtures["google-fonts"].composition / "index.html").read_text()
    assert all(f.warnings for f in fixtures.values() if f.output_format in ("gif", "png-sequence"))


def test_every_fixture_moves_across_its_chunk_seams() -> None:
    """A seam that repeats or freezes a frame must show: the frames either side of it differ."""
    for fixture in discover():
        seams = [fixture.total_frames * i // fixture.chunks for i in range(1, fixture.chunks)]
        for seam in seams:
            assert {seam - 1, seam} <= set(fixture.checkpoints), (fixture.name, seam)
            before, after = read_png(fixture.baseline_frame(seam - 1)), read_png(fixture.baseline_frame(seam))
            assert psnr(before, after) < 60, (fixture.name, seam)


def test_committed_baselines_stay_small() -> None:
    sizes = {p.parent.parent.name: 0 for p in FIXTURES_DIR.glob("*/baseline/*")}
    for path in FIXTURES_DIR.glob("*/baseline/*"):
        sizes[path.parent.parent.name] += path.stat().st_size
    assert max(sizes.values()) < 1200 * 1024, sizes  # lossless PNGs, optimized: a few frames each
    assert sum(sizes.values()) < 8 * 1024 * 1024, sizes


def _fixture_dir(tmp_path: Path, toml: str) -> Path:
    root = tmp_path / "demo"
    (root / "composition").mkdir(parents=True)
    (root / "composition" / "index.html").write_text("<div data-width=64 data-height=36></div>")
    (root / "fixture.toml").write_text(toml)
    return root


def test_fixture_defaults(tmp_path: Path) -> None:
    fixture = load_fixture(_fixture_dir(tmp_path, FIXTURE_TOML))
    assert (fixture.min_psnr, fixture.allowed_failures, fixture.oracle_min_psnr) == (40.0, 0, 30.0)
    assert fixture.audio is None
    assert fixture.total_frames == 30


def test_fixture_config_rate_alpha_and_warnings(tmp_path: Path) -> None:
    toml = FIXTURE_TOML.replace("fps = 30", 'fps = "30000/1001"') + (
        'warnings = ["carries none"]\n[config]\nFormat = "png-sequence"\nFps = "30000/1001"\n'
        "[alpha]\ntransparent = [[0, 1, 2]]\n"
    )
    fixture = load_fixture(_fixture_dir(tmp_path, toml))
    assert (fixture.fps, fixture.fps.to_json(), fixture.total_frames) == (FrameRate(30000, 1001), "30000/1001", 30)
    assert (fixture.output_name, fixture.warnings) == ("output.tar", ("carries none",))
    assert fixture.alpha is not None and fixture.alpha.transparent == ((0, 1, 2),) and fixture.alpha.opaque == ()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("fps = 30", 'fps = "fast"'), "fps = 'fast': 'fast' is not a number or a fraction"),
        (("fps = 30", "fps = 0"), "fps = 0: 0 frames per second is not positive"),
        (("[0, 15, 29]\n", '[0, 15, 29]\n[config]\nFormat = "avi"'), "config.Format = 'avi' is not one of mp4"),
        (("[0, 15, 29]\n", "[0, 15, 29]\n[config]\nChunks = 4"), "may not set Chunks"),
        (("[0, 15, 29]\n", "[0, 15, 29]\n[alpha]\ntransparent = [[0, 1]]"), r"alpha.transparent must be a list"),
        (("chunks = 3", "chunks = 2"), "at least 3, so seams are crossed"),
        (("[0, 15, 29]", "[0, 30]"), r"checkpoints must be distinct frames in \[0, 30\), got \[30\]"),
        (("[0, 15, 29]", "[0, 0]"), "checkpoints must be distinct"),
        (('title = "t"\n', ""), "fixture.toml has no title"),
        (("width = 64", 'width = "64"'), "width = '64' has the wrong type"),
    ],
)
def test_fixture_errors_name_the_fixture_and_the_key(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    with pytest.raises(FixtureError, match=f"fixture demo: .*{message}"):
        load_fixture(_fixture_dir(tmp_path, FIXTURE_TOML.replace(*change)))


def test_unknown_fixture_is_an_error_before_anything_renders(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert cli.main(["--fixture", "no-such-thing", "--out", str(tmp_path / "out"), "--oracle", "off"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ERROR fixture no-such-thing: no such fixture under ")
    assert "known: audio, barcode," in err


# --- report ---------------------------------------------------------------------------------


def _results() -> list[FixtureResult]:
    good = FixtureResult("alpha", "A", 40.0, 0, 30.0, render_seconds=3.25)
    good.checkpoints = [CheckpointResult(0, math.inf, True), CheckpointResult(30, 45.5, True)]
    good.frames_identical = "31/31"
    bad = FixtureResult("beta", "B <b>", 40.0, 0, 30.0, render_seconds=4.0, oracle="ran")
    bad.checkpoints = [CheckpointResult(0, 12.25, False, 11.0, 41.0, False, {"actual": "beta/frame-0000-actual.png"})]
    bad.audio = [AudioCheck("clip 1 onset", None, 15.0, False, "expected at 0.400 s: no sound")]
    bad.failures = ["beta: frame 0: PSNR 12.25 dB against the baseline, under 40 dB"]
    bad.frames_identical, bad.first_changed_frame = "0/31", 0
    return [good, bad]


def test_summary_table_has_one_row_per_fixture() -> None:
    lines = summary_table(_results()).splitlines()
    assert lines[0].split()[:3] == ["fixture", "result", "render"]
    assert lines[2].split() == ["alpha", "PASS", "3.2", "0.0", "45.50", "not", "run", "31/31", "-"]
    assert lines[3].split() == ["beta", "FAIL", "4.0", "0.0", "12.25", "11.00", "0/31", "0"]


def test_report_json_and_html(tmp_path: Path) -> None:
    results = _results()
    report = to_json(results, image="img", zip_sha256="ab" * 32, seconds=12.5, render_seconds=9.0)
    text = json.dumps(report)
    assert "Infinity" not in text
    assert report["ok"] is False
    assert report["fixtures"][0]["checkpoints"][0]["psnr"] == "inf"
    assert report["fixtures"][1]["checkpoints"][0]["oracle_baseline"] == 41.0
    assert (report["fixtures"][1]["frames_identical"], report["fixtures"][1]["first_changed_frame"]) == ("0/31", 0)
    html = render_html(report, results)
    assert "<h1>renderzip regression: FAIL</h1>" in html
    assert "B &lt;b&gt;" in html and "B <b>" not in html
    assert 'src="beta/frame-0000-actual.png"' in html
    assert psnr_json(None) is None and psnr_json(40.123456) == 40.1235
