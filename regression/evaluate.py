"""Compare one rendered fixture with its baselines and with the oracle, writing the report's images."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from regression.errors import ComparisonFailed, RegressionError
from regression.fixtures import AlphaSpec, Fixture, frame_name
from regression.framecheck import check_frames
from regression.frames import Frame, extract, extract_rgba, format_psnr, heatmap, psnr, read_png, write_png
from regression.reference import Oracle
from regression.results import CheckpointResult, FixtureResult
from regression.sound import check_audio
from tooling.media import inspect


def check_plan(fixture: Fixture, plan: dict[str, Any]) -> list[str]:
    """The plan must render what ``fixture.toml`` describes."""
    expected = {
        "Width": fixture.width,
        "Height": fixture.height,
        "Fps": fixture.fps.to_json(),
        "TotalFrames": fixture.total_frames,
        "ChunkCount": fixture.chunks,
    }
    return [
        f"{fixture.name}: the plan has {key} {plan.get(key)}, fixture.toml says {value}"
        for key, value in expected.items()
        if plan.get(key) != value
    ]


def check_alpha(fixture: Fixture, output: Path, spec: AlphaSpec, *, ffmpeg: Path) -> list[str]:
    """Every transparent sample decodes with alpha 0 and every opaque one with 255."""
    samples = [(frame, x, y, 0) for frame, x, y in spec.transparent] + [
        (frame, x, y, 255) for frame, x, y in spec.opaque
    ]
    frames = extract_rgba(
        ffmpeg, output, sorted({frame for frame, _, _, _ in samples}), width=fixture.width, height=fixture.height
    )
    failures = []
    for frame, x, y, expected in samples:
        pixels = frames[frame]
        if not (0 <= y < pixels.shape[0] and 0 <= x < pixels.shape[1]):
            failures.append(
                f"{fixture.name}: alpha sample ({x}, {y}) lies outside the {pixels.shape[1]}x{pixels.shape[0]} frame"
            )
            continue
        alpha = int(pixels[y, x, 3])
        if alpha != expected:
            failures.append(f"{fixture.name}: frame {frame}: alpha at ({x}, {y}) is {alpha}, expected {expected}")
    return failures


def check_warnings(fixture: Fixture, assembled: dict[str, Any] | None) -> list[str]:
    """The assemble result warns exactly as ``fixture.toml`` expects: each expected text in one warning."""
    given = [str(w) for w in (assembled or {}).get("Warnings") or []]
    failures = [
        f"{fixture.name}: no warning mentions {text!r} (warnings: {given or 'none'})"
        for text in fixture.warnings
        if not any(text in warning for warning in given)
    ]
    if not fixture.warnings and given:
        failures.append(f"{fixture.name}: unexpected warnings: {given}")
    return failures


def check_audio_codec(fixture: Fixture, output: Path, *, ffmpeg: Path) -> list[str]:
    expected = fixture.audio.codec if fixture.audio is not None else None
    if expected is None or output.suffix == ".tar":
        return []
    found = inspect(ffmpeg, output).audio_codec
    return [] if found == expected else [f"{fixture.name}: audio codec {found}, expected {expected}"]


def _output_checks(
    fixture: Fixture, output: Path, *, ffmpeg: Path, plan: dict[str, Any] | None, assembled: dict[str, Any] | None
) -> list[str]:
    """What the output must be besides its pixels: the plan, the warnings, the alpha and the sound's codec."""
    failures = []
    if plan is not None:
        failures += check_plan(fixture, plan)
        failures += check_warnings(fixture, assembled)
    if fixture.alpha is not None:
        failures += check_alpha(fixture, output, fixture.alpha, ffmpeg=ffmpeg)
    return failures + check_audio_codec(fixture, output, ffmpeg=ffmpeg)


def _save(frame: Frame, report_dir: Path, relative: str) -> str:
    write_png(frame, report_dir / relative)
    return relative


def _run_oracle(fixture: Fixture, oracle: Oracle, chrome: Path, work: Path) -> tuple[dict[int, Frame] | None, str]:
    if oracle.render is None:
        return None, f"unavailable: {oracle.unavailable}"
    try:
        paths = oracle.render(
            fixture.composition,
            list(fixture.checkpoints),
            chrome=chrome,
            out_dir=work,
            width=fixture.width,
            height=fixture.height,
            fps=float(fixture.fps),
            variables=json.dumps(fixture.config.get("Variables", {})),
        )
    except oracle.error_type as error:
        return None, f"failed: {error}"
    if len(paths) != len(fixture.checkpoints):
        return None, f"failed: {len(paths)} reference frames for {len(fixture.checkpoints)} checkpoints"
    return {frame: read_png(path) for frame, path in zip(fixture.checkpoints, paths, strict=True)}, "ran"


def evaluate(
    fixture: Fixture,
    output: Path,
    *,
    ffmpeg: Path,
    report_dir: Path,
    oracle: Oracle,
    chrome: Path | None,
    plan: dict[str, Any] | None = None,
    assembled: dict[str, Any] | None = None,
    render_seconds: float | None = None,
) -> FixtureResult:
    """Every check of ``fixture`` on ``output``; images go to ``report_dir/<name>/``."""
    started = time.monotonic()
    result = FixtureResult(
        fixture.name,
        fixture.title,
        fixture.min_psnr,
        fixture.allowed_failures,
        fixture.oracle_min_psnr,
        render_seconds=render_seconds,
    )
    try:
        _compare(
            fixture,
            output,
            ffmpeg=ffmpeg,
            report_dir=report_dir,
            oracle=oracle,
            chrome=chrome,
            plan=plan,
            assembled=assembled,
            result=result,
        )
    except RegressionError as error:
        result.error = f"{fixture.name}: {error}"
    result.compare_seconds = time.monotonic() - started
    return result


def _compare(
    fixture: Fixture,
    output: Path,
    *,
    ffmpeg: Path,
    report_dir: Path,
    oracle: Oracle,
    chrome: Path | None,
    plan: dict[str, Any] | None,
    assembled: dict[str, Any] | None,
    result: FixtureResult,
) -> None:
    result.failures += _output_checks(fixture, output, ffmpeg=ffmpeg, plan=plan, assembled=assembled)
    frames = check_frames(fixture, output)
    result.failures += frames.failures
    result.frames_identical, result.first_changed_frame = frames.describe(), frames.first_difference
    actual = extract(
        ffmpeg,
        output,
        fixture.checkpoints,
        width=fixture.width,
        height=fixture.height,
        over_white=fixture.alpha is not None,
    )
    references: dict[int, Frame] | None = None
    if chrome is not None:
        references, result.oracle = _run_oracle(fixture, oracle, chrome, report_dir / fixture.name / "oracle")
        if result.oracle.startswith("failed"):
            result.failures.append(f"{fixture.name}: oracle {result.oracle}")
    under: list[CheckpointResult] = []
    problems: dict[int, list[str]] = {frame: [] for frame in fixture.checkpoints}
    for frame in fixture.checkpoints:
        stem = f"{fixture.name}/{frame_name(frame).removesuffix('.png')}"
        checkpoint = CheckpointResult(frame, None, False)
        checkpoint.images["actual"] = _save(actual[frame], report_dir, f"{stem}-actual.png")
        baseline_path = fixture.baseline_frame(frame)
        baseline: Frame | None = None
        if baseline_path.is_file():
            baseline = read_png(baseline_path)
            if baseline.shape != actual[frame].shape:
                raise ComparisonFailed(f"frame {frame}: baseline {baseline.shape} vs output {actual[frame].shape}")
            checkpoint.psnr = psnr(actual[frame], baseline)
            checkpoint.ok = checkpoint.psnr >= fixture.min_psnr
            checkpoint.images["baseline"] = _save(baseline, report_dir, f"{stem}-baseline.png")
            checkpoint.images["diff"] = _save(heatmap(actual[frame], baseline), report_dir, f"{stem}-diff.png")
            if not checkpoint.ok:
                under.append(checkpoint)
        else:
            problems[frame].append(
                f"{fixture.name}: frame {frame}: no baseline {baseline_path.name} (run --update-baselines)"
            )
        if references is not None:
            problems[frame] += _oracle_checkpoint(
                fixture,
                checkpoint,
                reference=references[frame],
                actual=actual[frame],
                baseline=baseline,
                report_dir=report_dir,
            )
        result.checkpoints.append(checkpoint)
    counted = len(under) > fixture.allowed_failures
    for checkpoint in result.checkpoints:
        if counted and checkpoint in under:
            result.failures.append(
                f"{fixture.name}: frame {checkpoint.frame}: PSNR {format_psnr(checkpoint.psnr)} dB against the"
                f" baseline, under {fixture.min_psnr:g} dB"
            )
        result.failures += problems[checkpoint.frame]
    if fixture.audio is not None:
        result.audio = check_audio(
            ffmpeg,
            output,
            fixture.audio,
            duration=fixture.fps.seconds(fixture.total_frames),
            baseline=fixture.baseline_audio,
        )
        result.failures += [f"{fixture.name}: audio {c.name}: {c.detail}" for c in result.audio if not c.ok]


def _oracle_checkpoint(
    fixture: Fixture,
    checkpoint: CheckpointResult,
    *,
    reference: Frame,
    actual: Frame,
    baseline: Frame | None,
    report_dir: Path,
) -> list[str]:
    """Output and baseline against the oracle's reference frame; returns what fell under the floor."""
    stem = f"{fixture.name}/{frame_name(checkpoint.frame).removesuffix('.png')}"
    checkpoint.images["reference"] = _save(reference, report_dir, f"{stem}-reference.png")
    floor = fixture.oracle_min_psnr
    checkpoint.oracle_actual = psnr(actual, reference)
    checkpoint.oracle_ok = checkpoint.oracle_actual >= floor
    problems = []
    if not checkpoint.oracle_ok:
        problems.append(
            f"{fixture.name}: frame {checkpoint.frame}: the output differs from the oracle's reference"
            f" ({format_psnr(checkpoint.oracle_actual)} dB, under {floor:g} dB)"
        )
    if baseline is not None:
        checkpoint.oracle_baseline = psnr(baseline, reference)
        if checkpoint.oracle_baseline < floor:
            checkpoint.oracle_ok = False
            problems.append(
                f"{fixture.name}: frame {checkpoint.frame}: the baseline differs from the oracle's reference"
                f" ({format_psnr(checkpoint.oracle_baseline)} dB, under {floor:g} dB): the baseline is wrong"
            )
    return problems
