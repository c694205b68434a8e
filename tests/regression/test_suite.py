"""The whole regression suite in the stand-in image, and the faults it must catch.

Every fixture is rendered once (`suite_run`); the faults reuse those renders.
Each fault test checks that the failure names the right fixture and checkpoint.
"""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path

import pytest
from PIL import Image

from handler.render.framesfile import manifest_path
from handler.render.runtime import Runtime
from regression import baselines
from regression.evaluate import evaluate
from regression.fixtures import Fixture, load_fixture
from regression.framecheck import check_frames
from regression.reference import Oracle, load_oracle
from regression.results import FixtureResult
from tests.conftest import in_ci

from .conftest import DETERMINISM_FIXTURE, PERMUTED_ORDER, FaultRenders, SuiteRun
from .faults import shift_one_frame_late

pytestmark = [pytest.mark.docker, pytest.mark.ffmpeg]

NO_ORACLE = Oracle(None, "not used by this test")
EXPECTED_FIXTURES = {
    "audio",
    "frame-rate",
    "gif",
    "google-fonts",
    "h265",
    "mov-alpha",
    "png-sequence",
    "variables",
    "video",
    "scoped-instances",
    "gpu-frames",
    "webm-alpha",
    "barcode",
    "css-keyframes",
    "effects",
    "images",
    "js-timeline",
    "particles",
    "registries",
    "sub-compositions",
    "web-animations",
    "web-font",
}


def _evaluate(
    fixture: Fixture, video: Path, runtime: Runtime, report_dir: Path, oracle: Oracle = NO_ORACLE
) -> FixtureResult:
    chrome = runtime.chromium if oracle.available else None
    return evaluate(fixture, video, ffmpeg=runtime.ffmpeg, report_dir=report_dir, oracle=oracle, chrome=chrome)


def evaluate_frames(fixture: Fixture, output: Path) -> tuple[tuple[str, ...], str, int | None]:
    check = check_frames(fixture, output)
    return check.failures, check.describe(), check.first_difference


def _frames_named(failures: list[str], fixture: str) -> list[int]:
    """The checkpoint frames the failure lines name, each line starting with the fixture's name."""
    frames = []
    for line in failures:
        assert line.startswith(f"{fixture}: "), line
        match = re.match(rf"{re.escape(fixture)}: frame (\d+): ", line)
        if match:
            frames.append(int(match.group(1)))
    return sorted(set(frames))


# --- the suite as CI runs it -----------------------------------------------------------


def test_suite_passes_in_the_standin_image(suite_run: SuiteRun) -> None:
    report = suite_run.report
    failures = [line for f in report.get("fixtures", []) for line in ([f["error"]] if f["error"] else f["failures"])]
    assert suite_run.exit_code == 0, "\n".join(failures) or suite_run.stdout
    assert report["ok"] is True
    assert {f["name"] for f in report["fixtures"]} == EXPECTED_FIXTURES
    for fixture in report["fixtures"]:
        assert fixture["checkpoints"], fixture["name"]
        for checkpoint in fixture["checkpoints"]:
            value = checkpoint["psnr"]
            assert value == "inf" or value >= fixture["min_psnr_required"], (fixture["name"], checkpoint)
            for image in ("baseline", "actual", "diff"):
                assert (suite_run.report_dir / checkpoint["images"][image]).is_file()
    if in_ci():
        assert all(f["oracle"] == "ran" for f in report["fixtures"]), [f["oracle"] for f in report["fixtures"]]
    assert "<h1>renderzip regression: PASS</h1>" in (suite_run.report_dir / "report.html").read_text()


def test_terminal_summary_lists_every_fixture_with_its_time(suite_run: SuiteRun) -> None:
    lines = suite_run.stdout.splitlines()
    header = "fixture result render s compare s min PSNR dB oracle dB same frames failing"
    assert " ".join(lines[0].split()) == header
    assert set(lines[1]) == {"-", " "}
    rows = {line.split()[0]: line.split() for line in lines[2 : 2 + len(EXPECTED_FIXTURES)]}
    assert set(rows) == EXPECTED_FIXTURES
    assert all(row[1] == "PASS" and float(row[2]) > 0 for row in rows.values()), rows
    assert re.search(r"^whole suite \d+\.\ds \(rendering \d+\.\ds\); report: ", suite_run.stdout, re.MULTILINE)


def test_every_fixture_renders_in_at_least_three_chunks(suite_run: SuiteRun) -> None:
    for name, rendered in suite_run.rendered.items():
        assert rendered.plan["ChunkCount"] >= 3, name
        assert len(rendered.chunk_paths(suite_run.context)) == rendered.plan["ChunkCount"], name
        assert all(path.is_file() for path in rendered.chunk_paths(suite_run.context)), name


def test_two_renders_give_identical_psnr_figures(
    suite_run: SuiteRun,
    fault_renders: FaultRenders,
    fixtures: dict[str, Fixture],
    packaged_runtime: Runtime,
    tmp_path: Path,
) -> None:
    fixture = fixtures[DETERMINISM_FIXTURE]
    again = _evaluate(fixture, fault_renders.again.output, packaged_runtime, tmp_path)
    first = next(f for f in suite_run.report["fixtures"] if f["name"] == DETERMINISM_FIXTURE)
    assert [c["psnr"] for c in first["checkpoints"]] == [
        "inf" if c.psnr is not None and math.isinf(c.psnr) else c.psnr for c in again.checkpoints
    ]
    assert (
        fault_renders.again.record["assembled"]["Sha256"]
        == suite_run.rendered[DETERMINISM_FIXTURE].record["assembled"]["Sha256"]
    )


# --- faults ----------------------------------------------------------------------------


def test_a_one_frame_time_shift_fails_naming_the_fixture_and_frames(
    suite_run: SuiteRun, fixtures: dict[str, Fixture], packaged_runtime: Runtime, tmp_path: Path
) -> None:
    fixture = fixtures["barcode"]
    shifted = shift_one_frame_late(packaged_runtime.ffmpeg, suite_run.rendered["barcode"].output, tmp_path / "late.mp4")
    result = _evaluate(fixture, shifted, packaged_runtime, tmp_path / "report")
    assert not result.ok
    # Frame 0 is repeated, so only checkpoint 0 still matches.
    assert _frames_named(result.failures, "barcode") == [f for f in fixture.checkpoints if f != 0]
    assert "barcode: frame 30: PSNR " in "\n".join(result.failures)
    # The recorded frame hashes see it beyond the checkpoints: every barcode frame is unique.
    assert (result.frames_identical, result.first_changed_frame) == (f"1/{fixture.total_frames}", 1)


def test_the_frame_manifest_must_be_there_whole_and_of_the_output(
    suite_run: SuiteRun, fixtures: dict[str, Fixture], packaged_runtime: Runtime, tmp_path: Path
) -> None:
    fixture, rendered = fixtures["barcode"], suite_run.rendered["barcode"]
    assert evaluate_frames(fixture, rendered.output) == ((), f"{fixture.total_frames}/{fixture.total_frames}", None)
    alone = tmp_path / "alone" / "output.mp4"
    alone.parent.mkdir()
    shutil.copyfile(rendered.output, alone)
    missing = "barcode: no frame manifest output.mp4.frames.json beside the output"
    assert evaluate_frames(fixture, alone)[0] == (missing,)
    manifest = json.loads(manifest_path(rendered.output).read_text())
    manifest["frames"] = manifest["frames"][:-1]
    manifest_path(alone).write_text(json.dumps(manifest))
    with alone.open("ab") as tail:
        tail.write(b"\0")
    assert evaluate_frames(fixture, alone)[0] == (
        f"barcode: the frame manifest lists {fixture.total_frames - 1} frames, the fixture has {fixture.total_frames}",
        "barcode: the frame manifest's video_sha256 is not the output's",
    )


def test_chunks_assembled_out_of_order_fail_naming_the_frames_of_the_swapped_chunks(
    fault_renders: FaultRenders, fixtures: dict[str, Fixture], packaged_runtime: Runtime, tmp_path: Path
) -> None:
    fixture = fixtures["barcode"]
    assert PERMUTED_ORDER == (1, 0, 2)
    result = _evaluate(fixture, fault_renders.permuted, packaged_runtime, tmp_path)
    assert not result.ok
    # Chunks 0 and 1 (frames 0-59) traded places; chunk 2 (frames 60-89) is where it belongs.
    assert _frames_named(result.failures, "barcode") == [f for f in fixture.checkpoints if f < 60]
    assert (result.frames_identical, result.first_changed_frame) == (f"30/{fixture.total_frames}", 0)


def test_a_dropped_audio_clip_fails_naming_the_fixture_and_the_clip(
    fault_renders: FaultRenders, fixtures: dict[str, Fixture], packaged_runtime: Runtime, tmp_path: Path
) -> None:
    result = _evaluate(fixtures["audio"], fault_renders.dropped_clip, packaged_runtime, tmp_path)
    assert not result.ok
    assert all(c.ok for c in result.checkpoints), "the pictures did not change"
    failed = {c.name for c in result.audio if not c.ok}
    assert failed == {"clip 2 onset", "correlation"}, result.audio
    assert any(line.startswith("audio: audio clip 2 onset: expected at 1.300 s") for line in result.failures)


def test_a_wrong_baseline_passes_psnr_but_the_oracle_catches_it(
    suite_run: SuiteRun, fixtures: dict[str, Fixture], packaged_runtime: Runtime, tmp_path: Path
) -> None:
    oracle = load_oracle()
    if not oracle.available:
        if in_ci():
            pytest.fail(f"the oracle must run under CI: {oracle.unavailable}")
        pytest.skip(oracle.unavailable)
    # Baselines recorded from a render that was one frame late from the start.
    fixture_dir = tmp_path / "barcode"
    shutil.copytree(fixtures["barcode"].root, fixture_dir)
    wrong = load_fixture(fixture_dir)
    shifted = shift_one_frame_late(packaged_runtime.ffmpeg, suite_run.rendered["barcode"].output, tmp_path / "late.mp4")
    baselines.update(wrong, shifted, ffmpeg=packaged_runtime.ffmpeg)
    result = _evaluate(wrong, shifted, packaged_runtime, tmp_path / "report", oracle)
    assert all(c.psnr == math.inf for c in result.checkpoints), "the wrong baseline matches the wrong output"
    assert result.oracle == "ran"
    assert not result.ok
    expected = [f for f in wrong.checkpoints if f != 0]
    assert _frames_named(result.failures, "barcode") == expected
    assert any("frame 30: the baseline differs from the oracle's reference" in line for line in result.failures)


def test_update_baselines_reports_what_changed(
    suite_run: SuiteRun, fixtures: dict[str, Fixture], packaged_runtime: Runtime, tmp_path: Path
) -> None:
    fixture_dir = tmp_path / "barcode"
    shutil.copytree(fixtures["barcode"].root, fixture_dir)
    copy = load_fixture(fixture_dir)
    output = suite_run.rendered["barcode"].output
    unchanged = baselines.update(copy, output, ffmpeg=packaged_runtime.ffmpeg)
    assert [c.describe() for c in unchanged][:2] == [
        "barcode: frame 0: old vs new PSNR inf dB (unchanged)",
        "barcode: frame 1: old vs new PSNR inf dB (unchanged)",
    ]
    assert not any(c.changed for c in unchanged)
    hashes = next(c for c in unchanged if c.item == "frame hashes")
    assert hashes.describe() == f"barcode: frame hashes: all {copy.total_frames} frames unchanged"
    shifted = shift_one_frame_late(packaged_runtime.ffmpeg, output, tmp_path / "late.mp4")
    changed = {c.item: c for c in baselines.update(copy, shifted, ffmpeg=packaged_runtime.ffmpeg)}
    assert not changed["frame 0"].changed
    assert changed["frame 30"].changed and changed["frame 30"].old_vs_new is not None
    assert changed["frame 30"].old_vs_new < 20
    assert re.fullmatch(r"barcode: frame 30: old vs new PSNR \d+\.\d\d dB \(changed\)", changed["frame 30"].describe())
    assert changed["frame hashes"].describe() == (
        f"barcode: frame hashes: {copy.total_frames - 1} of {copy.total_frames} frames changed, the first is 1"
    )


def test_report_json_encodes_identical_frames_as_inf(suite_run: SuiteRun) -> None:
    raw = (suite_run.report_dir / "report.json").read_text()
    assert "Infinity" not in raw and "NaN" not in raw
    checkpoints = [c for f in json.loads(raw)["fixtures"] for c in f["checkpoints"]]
    assert any(c["psnr"] == "inf" for c in checkpoints), "a deterministic render matches some baseline exactly"
    for checkpoint in checkpoints:
        value = checkpoint["psnr"]
        assert value == "inf" or (isinstance(value, float) and math.isfinite(value)), checkpoint
        images = [Image.open(suite_run.report_dir / checkpoint["images"][name]) for name in ("baseline", "actual")]
        identical = images[0].convert("RGB").tobytes() == images[1].convert("RGB").tobytes()
        # "inf" means exactly the identical frames: never for a frame that differs, always for one that does not.
        assert identical == (value == "inf"), checkpoint
