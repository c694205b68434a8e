"""``python -m regression``: render the fixtures in the Lambda image, compare, report.

Exit status: 0 when every fixture passes (or the baselines were updated), 1 when
a fixture fails a check, 2 when the suite could not run (no Docker, no image,
a broken fixture file, a render that gave no result).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bundler.build import BuildOptions, build
from bundler.errors import BundlerError
from bundler.progress import ConsoleReporter
from bundler.targets import DEFAULT_RUNTIME
from handler.digest import file_sha256
from handler.errors import RenderzipError
from handler.render.runtime import prepare
from probes.errors import ProbeError
from probes.images import resolve_image
from regression import baselines
from regression.errors import RegressionError
from regression.fixtures import FIXTURES_DIR, discover
from regression.imagerun import ImageContext, fresh_dir, prepare_task_dir, writable_output
from regression.reference import Oracle, load_oracle
from regression.report import clear_report, summary_table, to_json, write_reports
from regression.suite import DEFAULT_WORKERS, Rendered, compare_all, render_fixtures, stage_fixtures
from tooling.cli_errors import EXIT_ERROR, EXIT_FAILED, EXIT_OK, known_errors, report_error

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ZIP = ROOT / "dist" / "handler.zip"
DEFAULT_OUT = ROOT / "dist" / "regression"
ORACLE_MODES = ("auto", "require", "off")


@dataclass(frozen=True)
class Outcome:
    """What a run left behind, for callers that go on from it (the tests reuse the renders)."""

    exit_code: int
    out_dir: Path
    work_dir: Path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m regression", description=__doc__.split("\n\n")[0])
    parser.add_argument("--zip", type=Path, default=DEFAULT_ZIP, help="the artifact (built when missing)")
    parser.add_argument("--image", help="image reference, or 'standin' (default: RENDERZIP_IMAGE, then the lock)")
    parser.add_argument("--runtime", default=DEFAULT_RUNTIME)
    parser.add_argument("--fixture", action="append", default=[], metavar="NAME", help="only this fixture (repeatable)")
    parser.add_argument("--fixtures-dir", type=Path, default=FIXTURES_DIR)
    parser.add_argument("--update-baselines", action="store_true", help="rewrite the baselines from this render")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where report.html and report.json go")
    parser.add_argument("--work", type=Path, help="keep the renders (plans, chunks, outputs) in this directory")
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS, help="chunk processes in the container")
    parser.add_argument(
        "--oracle",
        choices=ORACLE_MODES,
        default="auto",
        help="auto: run it when available (required under CI=true); require; off",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show the container's stderr")
    return parser


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _oracle(mode: str) -> Oracle:
    if mode == "off":
        return Oracle(None, "turned off (--oracle off)")
    oracle = load_oracle()
    if not oracle.available and (mode == "require" or _in_ci()):
        raise RegressionError(f"the oracle is required but {oracle.unavailable}")
    return oracle


def run(argv: Sequence[str] | None = None) -> Outcome:
    args = _parser().parse_args(argv)
    reporter = ConsoleReporter()
    began = time.monotonic()
    work = args.work or Path(tempfile.mkdtemp(prefix="renderzip-regression-"))
    out_dir: Path = args.out
    try:
        fixtures = discover(args.fixtures_dir, args.fixture)
        oracle = _oracle(args.oracle)
        if not args.zip.is_file():
            reporter.step(f"{args.zip} is missing: building it")
            build(BuildOptions(out=args.zip), reporter)
        image = resolve_image(args.runtime, args.image, reporter)
        work.mkdir(parents=True, exist_ok=True)
        zip_sha256 = file_sha256(args.zip)
        task_dir = prepare_task_dir(args.zip, work, zip_sha256=zip_sha256)
        context = ImageContext(image, task_dir, writable_output(fresh_dir(work / "out")), args.runtime)
        inputs = fresh_dir(work / "in")
        fixtures = stage_fixtures(fixtures, fresh_dir(work / "staged"), reporter)
        reporter.step(f"rendering {len(fixtures)} fixtures in {image} (plan, chunks, assemble through the handler)")
        started = time.monotonic()
        rendered = render_fixtures(fixtures, context, inputs, workers=args.workers, verbose=args.verbose)
        render_seconds = time.monotonic() - started
        runtime = prepare(args.zip)
        if args.update_baselines:
            return Outcome(_update(rendered, runtime.ffmpeg), out_dir, work)
        reporter.step(f"comparing with the baselines{' and the oracle' if oracle.available else ''}")
        clear_report(out_dir, [fixture.name for fixture in fixtures])
        results = compare_all(
            rendered, ffmpeg=runtime.ffmpeg, chrome=runtime.chromium, report_dir=out_dir, oracle=oracle
        )
        report = to_json(
            results,
            image=image,
            zip_sha256=zip_sha256,
            seconds=time.monotonic() - began,
            render_seconds=render_seconds,
        )
        json_path, html_path = write_reports(report, results, out_dir)
        print(summary_table(results))
        for result in results:
            for line in [result.error] if result.error else result.failures:
                print(f"FAIL {line}")
        if not oracle.available:
            print(f"oracle: unavailable: {oracle.unavailable}")
        print(
            f"whole suite {report['seconds']:.1f}s (rendering {render_seconds:.1f}s); report: {html_path}, {json_path}"
        )
        return Outcome(EXIT_OK if report["ok"] else EXIT_FAILED, out_dir, work)
    except known_errors(RegressionError, BundlerError, ProbeError, RenderzipError) as error:
        report_error(error)
        return Outcome(EXIT_ERROR, out_dir, work)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


def _update(rendered: Sequence[Rendered], ffmpeg: Path) -> int:

    status = 0
    for item in rendered:
        if not item.ok:
            sys.stderr.write(f"ERROR {item.fixture.name}: {item.error}\n")
            status = EXIT_ERROR
            continue
        changes = baselines.update(item.fixture, item.output, ffmpeg=ffmpeg)
        changed = [change for change in changes if change.changed]
        print(f"{item.fixture.name}: {len(changed)} of {len(changes)} baseline files changed")
        for change in changes:
            print(f"  {change.describe()}")
    return status


def main(argv: Sequence[str] | None = None) -> int:
    return run(argv).exit_code
