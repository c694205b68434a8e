"""The report: ``report.json`` for machines, ``report.html`` for people, a table for the terminal."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any, TypedDict

from regression.frames import HEATMAP_GAIN, format_psnr
from regression.results import CheckpointResult, FixtureResult, psnr_json


class CheckpointJson(TypedDict):
    frame: int
    psnr: float | str | None
    ok: bool
    oracle_actual: float | str | None
    oracle_baseline: float | str | None
    oracle_ok: bool | None
    images: dict[str, str]


class AudioJson(TypedDict):
    check: str
    value: float | None
    limit: float
    ok: bool
    detail: str


class FixtureJson(TypedDict):
    name: str
    title: str
    ok: bool
    render_seconds: float | None
    compare_seconds: float
    min_psnr: float | str | None
    min_psnr_required: float
    allowed_failures: int
    oracle: str
    oracle_floor: float
    min_oracle_psnr: float | str | None
    frames_identical: str
    first_changed_frame: int | None
    checkpoints: list[CheckpointJson]
    audio: list[AudioJson]
    failures: list[str]
    error: str | None


class ReportJson(TypedDict):
    ok: bool
    image: str
    zip_sha256: str
    seconds: float
    render_seconds: float
    fixtures: list[FixtureJson]


def to_json(
    results: Sequence[FixtureResult], *, image: str, zip_sha256: str, seconds: float, render_seconds: float
) -> ReportJson:
    return {
        "ok": all(r.ok for r in results),
        "image": image,
        "zip_sha256": zip_sha256,
        "seconds": round(seconds, 3),
        "render_seconds": round(render_seconds, 3),
        "fixtures": [
            {
                "name": r.name,
                "title": r.title,
                "ok": r.ok,
                "render_seconds": None if r.render_seconds is None else round(r.render_seconds, 3),
                "compare_seconds": round(r.compare_seconds, 3),
                "min_psnr": psnr_json(r.min_psnr),
                "min_psnr_required": r.min_psnr_required,
                "allowed_failures": r.allowed_failures,
                "oracle": r.oracle,
                "oracle_floor": r.oracle_floor,
                "min_oracle_psnr": psnr_json(r.min_oracle_psnr),
                "frames_identical": r.frames_identical,
                "first_changed_frame": r.first_changed_frame,
                "checkpoints": [
                    {
                        "frame": c.frame,
                        "psnr": psnr_json(c.psnr),
                        "ok": c.ok,
                        "oracle_actual": psnr_json(c.oracle_actual),
                        "oracle_baseline": psnr_json(c.oracle_baseline),
                        "oracle_ok": c.oracle_ok,
                        "images": dict(c.images),
                    }
                    for c in r.checkpoints
                ],
                "audio": [
                    {
                        "check": a.name,
                        "value": None if a.value is None else round(a.value, 4),
                        "limit": a.limit,
                        "ok": a.ok,
                        "detail": a.detail,
                    }
                    for a in r.audio
                ],
                "failures": list(r.failures),
                "error": r.error,
            }
            for r in results
        ],
    }


def _atomic_write(path: Path, text: str) -> None:
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    Path(name).chmod(0o644)
    Path(name).replace(path)


def clear_report(out_dir: Path, fixture_names: Sequence[str]) -> None:
    """Remove what an earlier report wrote there, and nothing else (``--out`` may be any directory)."""
    for name in ("report.json", "report.html"):
        (out_dir / name).unlink(missing_ok=True)
    for name in fixture_names:
        shutil.rmtree(out_dir / name, ignore_errors=True)


def write_reports(report: ReportJson, results: Sequence[FixtureResult], out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, html_path = out_dir / "report.json", out_dir / "report.html"
    _atomic_write(json_path, json.dumps(report, indent=2) + "\n")
    _atomic_write(html_path, render_html(report, results))
    return json_path, html_path


# --- terminal ----------------------------------------------------------------------------


def summary_table(results: Sequence[FixtureResult]) -> str:
    rows = [("fixture", "result", "render s", "compare s", "min PSNR dB", "oracle dB", "same frames", "failing")]
    for r in results:
        rows.append(
            (
                r.name,
                "PASS" if r.ok else ("ERROR" if r.error else "FAIL"),
                "-" if r.render_seconds is None else f"{r.render_seconds:.1f}",
                f"{r.compare_seconds:.1f}",
                format_psnr(r.min_psnr),
                r.oracle_summary,
                r.frames_identical,
                ", ".join(str(f) for f in r.failing_frames) or ("audio" if r.failures else "-"),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    right = {2, 3, 4, 5, 6}
    lines = [
        "  ".join(cell.rjust(widths[i]) if i in right else cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip()
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


# --- HTML ----------------------------------------------------------------------------------

_STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #1d1d1f; background: #fafafa; }
h1 { margin: 0 0 4px; font-size: 24px; } h2 { margin: 32px 0 4px; font-size: 19px; }
.meta { color: #666; margin-bottom: 16px; }
table { border-collapse: collapse; margin: 8px 0; background: #fff; }
th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f0f0f3; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.pass { color: #0a7d28; font-weight: 600; } .fail { color: #c4001a; font-weight: 600; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; color: #fff; font-size: 12px; }
.badge.pass { background: #0a7d28; color: #fff; } .badge.fail { background: #c4001a; color: #fff; }
.failures { color: #c4001a; margin: 6px 0; padding-left: 20px; }
.frames td { padding: 4px; }
.frames img { display: block; width: min(256px, 19vw); height: auto; image-rendering: pixelated; }
.frames .label { font-size: 12px; color: #555; } tr.bad td { background: #fff0f0; }
.title { color: #555; margin: 0 0 8px; }
"""


def _status(ok: bool | None) -> str:
    if ok is None:
        return "-"
    return '<span class="pass">pass</span>' if ok else '<span class="fail">FAIL</span>'


def _img(checkpoint: CheckpointResult, kind: str) -> str:
    path = checkpoint.images.get(kind)
    if path is None:
        return '<td class="label">none</td>'
    return f'<td><a href="{escape(path)}"><img src="{escape(path)}" alt="{kind} frame {checkpoint.frame}"></a></td>'


def _fixture_section(result: FixtureResult) -> str:
    badge = '<span class="badge pass">PASS</span>' if result.ok else '<span class="badge fail">FAIL</span>'
    parts = [f'<h2 id="{escape(result.name)}">{escape(result.name)} {badge}</h2>']
    parts.append(f'<p class="title">{escape(result.title)}</p>')
    rule = f"at least {result.min_psnr_required:g} dB against the baseline"
    if result.allowed_failures:
        rule += f", {result.allowed_failures} checkpoint(s) may fall under"
    parts.append(f'<p class="meta">{rule}; oracle {escape(result.oracle)} (floor {result.oracle_floor:g} dB)</p>')
    problems = ([result.error] if result.error else []) + result.failures
    if problems:
        parts.append('<ul class="failures">' + "".join(f"<li>{escape(p)}</li>" for p in problems) + "</ul>")
    if result.audio:
        audio_rows = "".join(
            f"<tr><td>{escape(a.name)}</td><td>{escape(a.detail)}</td><td>{_status(a.ok)}</td></tr>"
            for a in result.audio
        )
        parts.append(f"<table><tr><th>audio check</th><th>measured</th><th>result</th></tr>{audio_rows}</table>")
    with_reference = any("reference" in c.images for c in result.checkpoints)
    head = "<th>frame</th><th>PSNR dB</th><th>oracle dB<br>output / baseline</th><th>result</th>"
    head += f"<th>baseline</th><th>actual</th><th>difference x{HEATMAP_GAIN}</th>"
    head += "<th>oracle reference</th>" if with_reference else ""
    rows = []
    for c in result.checkpoints:
        bad = not c.ok or c.oracle_ok is False
        oracle = f"{format_psnr(c.oracle_actual)} / {format_psnr(c.oracle_baseline)}"
        cells = (
            f'<td class="num">{c.frame}</td><td class="num">{format_psnr(c.psnr)}</td>'
            f'<td class="num">{oracle}</td><td>{_status(c.ok and c.oracle_ok is not False)}</td>'
            + _img(c, "baseline")
            + _img(c, "actual")
            + _img(c, "diff")
            + (_img(c, "reference") if with_reference else "")
        )
        rows.append(f'<tr class="{"bad" if bad else ""}">{cells}</tr>')
    parts.append(f'<table class="frames"><tr>{head}</tr>{"".join(rows)}</table>')
    return "\n".join(parts)


def render_html(report: ReportJson, results: Sequence[FixtureResult]) -> str:
    passed = sum(1 for r in results if r.ok)
    verdict = "PASS" if report["ok"] else "FAIL"
    summary_rows = "".join(
        f'<tr><td><a href="#{escape(r.name)}">{escape(r.name)}</a></td><td>{_status(r.ok)}</td>'
        f'<td class="num">{"-" if r.render_seconds is None else f"{r.render_seconds:.1f}"}</td>'
        f'<td class="num">{format_psnr(r.min_psnr)}</td>'
        f'<td class="num">{escape(r.oracle_summary)}</td>'
        f'<td class="num">{escape(r.frames_identical)}</td>'
        f"<td>{escape(', '.join(str(f) for f in r.failing_frames) or '-')}</td></tr>"
        for r in results
    )
    body: list[Any] = [
        f"<h1>renderzip regression: {verdict}</h1>",
        f'<p class="meta">{passed} of {len(results)} fixtures pass; image {escape(report["image"])};'
        f" zip sha256 {escape(report['zip_sha256'][:16])}; whole suite {report['seconds']:.1f} s,"
        f" rendering {report['render_seconds']:.1f} s</p>",
        "<table><tr><th>fixture</th><th>result</th><th>render s</th><th>min PSNR dB</th>"
        f"<th>min oracle dB</th><th>frames as recorded</th><th>failing frames</th></tr>{summary_rows}</table>",
        *(_fixture_section(r) for r in results),
    ]
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>renderzip regression: {verdict}</title><style>{_STYLE}</style></head>\n<body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )
