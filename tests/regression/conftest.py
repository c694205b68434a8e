"""The regression suite rendered once per test session, and the faults made from its renders.

`suite_run` runs the whole suite the way ``nox -s regression -- --image standin``
does and keeps its renders; `fault_renders` then runs one more container that
reuses them: chunks assembled out of order, an audio clip dropped (planned
again, chunks reused), and a second render of one fixture for determinism.
Nothing renders twice, except that second render.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from regression import cli
from regression.fixtures import Fixture, discover
from regression.imagerun import ImageContext, fresh_dir, pack_project, run_jobs
from regression.suite import Rendered, render_job
from tests.integration.conftest import StandinImage, default_zip, docker_client, packaged_runtime, standin_image

__all__ = ["docker_client", "packaged_runtime", "standin_image"]

DETERMINISM_FIXTURE = "particles"
PERMUTED_ORDER = (1, 0, 2)


@pytest.fixture(scope="session")
def artifact_zip() -> Path:
    """dist/handler.zip, as ``nox -s regression`` uses it."""
    return default_zip()


@pytest.fixture(scope="session")
def fixtures() -> dict[str, Fixture]:
    return {fixture.name: fixture for fixture in discover()}


@dataclass(frozen=True)
class SuiteRun:
    exit_code: int
    stdout: str
    report: dict[str, Any]
    report_dir: Path
    context: ImageContext
    rendered: dict[str, Rendered]


@pytest.fixture(scope="session")
def suite_run(
    standin_image: StandinImage,
    artifact_zip: Path,
    fixtures: dict[str, Fixture],
    tmp_path_factory: pytest.TempPathFactory,
) -> SuiteRun:
    """``python -m regression --image standin``, once, keeping its renders under a work directory."""
    base = tmp_path_factory.mktemp("regression")
    work, report_dir = base / "work", base / "report"
    argv = ["--zip", str(artifact_zip), "--image", standin_image.tag, "--runtime", standin_image.runtime]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        outcome = cli.run([*argv, "--out", str(report_dir), "--work", str(work)])
    stdout = printed.getvalue()
    sys.stdout.write(stdout)  # shown by pytest when a test using it fails
    report_path = report_dir / "report.json"
    report = json.loads(report_path.read_text(encoding="utf-8")) if report_path.is_file() else {}
    context = ImageContext(standin_image.tag, work / "task", work / "out", standin_image.runtime)
    rendered = {
        name: Rendered(
            fixture, context.out_dir / name, json.loads((context.out_dir / name / "render.host.json").read_text())
        )
        for name, fixture in fixtures.items()
        if (context.out_dir / name / "render.host.json").is_file()
    }
    return SuiteRun(outcome.exit_code, stdout, report, report_dir, context, rendered)


@dataclass(frozen=True)
class FaultRenders:
    permuted: Path
    """barcode assembled from its own chunks in the order `PERMUTED_ORDER`."""
    dropped_clip: Path
    """audio planned again without its second clip, assembled from the first render's chunks."""
    again: Rendered
    """A second, full render of `DETERMINISM_FIXTURE`."""


def _without_second_clip(composition: Path, target: Path) -> Path:
    shutil.copytree(composition, target)
    index = target / "index.html"
    html = index.read_text(encoding="utf-8")
    clips = re.findall(r"<audio [^>]*></audio>", html)
    assert len(clips) == 3, clips
    index.write_text(html.replace(clips[1], ""), encoding="utf-8")
    return target


@pytest.fixture(scope="session")
def fault_renders(
    suite_run: SuiteRun, fixtures: dict[str, Fixture], tmp_path_factory: pytest.TempPathFactory
) -> FaultRenders:
    context = suite_run.context
    barcode, audio = suite_run.rendered["barcode"], suite_run.rendered["audio"]
    assert barcode.ok and audio.ok, "the suite's own renders failed; see test_suite_passes_in_the_standin_image"
    inputs = fresh_dir(context.out_dir.parent / "fault-inputs")
    faults = context.out_dir / "faults"
    chunk_uris = [Path(path).as_uri() for path in barcode.record["chunk_paths"]]
    dropped_dir = _without_second_clip(
        fixtures["audio"].composition, tmp_path_factory.mktemp("dropped") / "composition"
    )
    dropped = {
        "kind": "render",
        "name": "audio-dropped-clip",
        "project": pack_project(dropped_dir, inputs, "audio-dropped-clip"),
        "out": context.container_path(faults / "audio-dropped-clip"),
        "chunks": fixtures["audio"].chunks,
        "reuse_chunks": list(audio.record["chunk_paths"]),
    }
    again = render_job(fixtures[DETERMINISM_FIXTURE], context, inputs, name=f"{DETERMINISM_FIXTURE}-again", workers=2)
    again["out"] = context.container_path(faults / f"{DETERMINISM_FIXTURE}-again")
    jobs: list[dict[str, Any]] = [
        {
            "kind": "assemble",
            "name": "barcode-permuted",
            "plan": barcode.plan,
            "chunk_uris": [chunk_uris[i] for i in PERMUTED_ORDER],
            "output": context.container_path(faults) + "/barcode-permuted.mp4",
        },
        dropped,
        again,
    ]
    records = run_jobs(context, inputs, jobs)
    failed = [record for record in records if not record.get("ok")]
    assert not failed, failed
    return FaultRenders(
        permuted=faults / "barcode-permuted.mp4",
        dropped_clip=faults / "audio-dropped-clip" / "output.mp4",
        again=Rendered(fixtures[DETERMINISM_FIXTURE], faults / f"{DETERMINISM_FIXTURE}-again", records[2]),
    )
