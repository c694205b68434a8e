"""Render fixtures in the Lambda image, then compare each on the host."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bundler.cache import Cache, default_cache_root
from bundler.fonts import stage_fonts
from bundler.progress import Reporter
from regression.evaluate import evaluate
from regression.fixtures import Fixture
from regression.imagerun import ImageContext, pack_project, run_jobs
from regression.reference import Oracle
from regression.results import FixtureResult

DEFAULT_WORKERS = 2


@dataclass(frozen=True)
class Rendered:
    """One fixture's render: the output, the plan and chunk files on the host, the driver's record."""

    fixture: Fixture
    out_dir: Path
    record: dict[str, Any]

    @property
    def ok(self) -> bool:
        return bool(self.record.get("ok"))

    @property
    def error(self) -> str | None:
        if self.ok:
            return None
        error = self.record.get("error") or {}
        return f"rendering in the image failed: {error.get('code', '?')}: {error.get('message', '')}"

    @property
    def output(self) -> Path:
        return self.out_dir / self.fixture.output_name

    @property
    def plan(self) -> dict[str, Any]:
        return dict(self.record.get("plan") or {})

    @property
    def seconds(self) -> float | None:
        value = self.record.get("seconds")
        return float(value) if isinstance(value, int | float) else None

    def chunk_paths(self, context: ImageContext) -> list[Path]:
        return [context.host_path(path) for path in self.record.get("chunk_paths", [])]


def stage_fixtures(fixtures: Sequence[Fixture], staging: Path, reporter: Reporter) -> list[Fixture]:
    """Each fixture with its Google Fonts references made local from the fonts lock, as a user's render is."""
    cache = Cache(default_cache_root())
    staged = []
    for fixture in fixtures:
        composition = stage_fonts(fixture.composition, staging / fixture.name, cache, reporter)
        staged.append(
            fixture if composition == fixture.composition else dataclasses.replace(fixture, staged=composition)
        )
    return staged


def render_job(
    fixture: Fixture, context: ImageContext, inputs: Path, *, name: str | None = None, workers: int
) -> dict[str, Any]:
    label = name or fixture.name
    return {
        "kind": "render",
        "name": label,
        "project": pack_project(fixture.composition, inputs, label),
        "out": context.container_path(context.out_dir / label),
        "chunks": fixture.chunks,
        "workers": workers,
        "config": fixture.config,
        "output_name": fixture.output_name,
    }


def render_fixtures(
    fixtures: Sequence[Fixture],
    context: ImageContext,
    inputs: Path,
    *,
    workers: int = DEFAULT_WORKERS,
    verbose: bool = False,
) -> list[Rendered]:
    """Render every fixture in one container; a fixture that fails to render is reported, not raised."""
    jobs = [render_job(fixture, context, inputs, workers=workers) for fixture in fixtures]
    records = run_jobs(context, inputs, jobs, verbose=verbose)
    rendered = [
        Rendered(fixture, context.out_dir / fixture.name, record)
        for fixture, record in zip(fixtures, records, strict=True)
    ]
    for item in rendered:
        (item.out_dir / "render.host.json").parent.mkdir(parents=True, exist_ok=True)
        (item.out_dir / "render.host.json").write_text(json.dumps(item.record, indent=1), encoding="utf-8")
    return rendered


def compare_all(
    rendered: Sequence[Rendered],
    *,
    ffmpeg: Path,
    chrome: Path | None,
    report_dir: Path,
    oracle: Oracle,
) -> list[FixtureResult]:
    results: list[FixtureResult] = []
    for item in rendered:
        if not item.ok:
            fixture = item.fixture
            failed = FixtureResult(
                fixture.name, fixture.title, fixture.min_psnr, fixture.allowed_failures, fixture.oracle_min_psnr
            )
            failed.error = f"{fixture.name}: {item.error}"
            failed.render_seconds = item.seconds
            results.append(failed)
            continue
        results.append(
            evaluate(
                item.fixture,
                item.output,
                ffmpeg=ffmpeg,
                report_dir=report_dir,
                oracle=oracle,
                chrome=chrome,
                plan=item.plan,
                assembled=item.record.get("assembled"),
                render_seconds=item.seconds,
            )
        )
    return results
