"""``nox -s probe``: unzip the artifact and run the BeginFrame probe inside the Lambda image.

The probe tests the artifact itself: the unzipped zip mounted read-only at
``/var/task``, its own runtime and DevTools code, Chromium prepared into the
container's ``/tmp``. The result is one JSON object, shown as a table.
"""

from __future__ import annotations

import argparse
import shutil
import stat
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bundler.build import BuildOptions, build
from bundler.errors import BundlerError
from bundler.progress import ConsoleReporter
from bundler.targets import DEFAULT_RUNTIME
from probes import beginframe
from probes.errors import ProbeError
from probes.images import resolve_image
from probes.runner import RunResult, RunSpec, run_in_image
from tooling.cli_errors import EXIT_FAILED, EXIT_OK, run_command

DEFAULT_ZIP = Path(__file__).resolve().parent.parent / "dist" / "handler.zip"


def unzip_artifact(zip_path: Path, target: Path) -> None:
    """Unpack like Lambda does: files readable by everyone, executables kept executable."""
    with zipfile.ZipFile(zip_path) as archive:
        for info in archive.infolist():
            name = Path(info.filename)
            if name.is_absolute() or ".." in name.parts:
                raise ProbeError(f"{zip_path}: refusing member {info.filename!r}")
            destination = target / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(info) as source, destination.open("wb") as sink:
                shutil.copyfileobj(source, sink)
            executable = (info.external_attr >> 16) & stat.S_IXUSR
            destination.chmod(0o755 if executable else 0o644)
    for directory in [target, *(p for p in target.rglob("*") if p.is_dir())]:
        directory.chmod(0o755)


def format_table(result: dict[str, Any]) -> str:
    lines = [f"Chromium {result.get('chrome_version', '?')}"]
    for key, value in sorted(result.get("timings", {}).items()):
        lines.append(f"  {key:<16} {value:>8.3f}")
    if "frames_per_second" in result:
        lines.append(f"  {'frames/s':<16} {result['frames_per_second']:>8.1f}")
    for check in result.get("checks", []):
        lines.append(f"  {'PASS' if check['ok'] else 'FAIL'}  {check['name']}: {check['detail']}")
    if "error" in result:
        lines.append(f"  FAIL  {result['error']['code']}: {result['error']['message']}")
    return "\n".join(lines)


def run_probe(
    task_dir: Path,
    image: str,
    *,
    deadline_s: float = 30.0,
    runtime: str = DEFAULT_RUNTIME,
    extra_env: dict[str, str] | None = None,
) -> RunResult:
    source = Path(beginframe.__file__).read_text(encoding="utf-8")
    spec = RunSpec(
        image=image,
        task_dir=task_dir,
        command=("-c", source, str(deadline_s)),
        runtime=runtime,
        timeout_s=300.0,
        extra_env=extra_env or {},
    )
    return run_in_image(spec, on_output=_show_stderr)


def _show_stderr(stream: str, line: str) -> None:
    if stream == "stderr":
        sys.stderr.write(line + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m probes.probe", description=__doc__)
    parser.add_argument("--zip", type=Path, default=DEFAULT_ZIP)
    parser.add_argument("--image", help="image reference, or 'standin' (default: RENDERZIP_IMAGE, then the lock)")
    parser.add_argument("--runtime", default=DEFAULT_RUNTIME)
    parser.add_argument("--deadline", type=float, default=30.0, help="seconds the probe may take inside the image")
    args = parser.parse_args(argv)
    return run_command(lambda: _run(args), (BundlerError, ProbeError))


def _run(args: argparse.Namespace) -> int:
    reporter = ConsoleReporter()
    work = Path(tempfile.mkdtemp(prefix="renderzip-probe-"))
    try:
        if not args.zip.is_file():
            reporter.step(f"{args.zip} is missing: building it")
            build(BuildOptions(out=args.zip), reporter)
        image = resolve_image(args.runtime, args.image, reporter)
        task_dir = work / "task"
        task_dir.mkdir()
        unzip_artifact(args.zip, task_dir)
        work.chmod(0o755)
        reporter.step(f"running the BeginFrame probe in {image}")
        outcome = run_probe(task_dir, image, deadline_s=args.deadline, runtime=args.runtime)
        result = outcome.result or {}
        print(format_table(result) if result else "the probe printed no result")
        print(f"container start to result: {outcome.seconds:.2f}s")
        if not outcome.ok or not result.get("ok"):
            tail = "\n".join(outcome.stderr_tail[-10:])
            sys.stderr.write(f"ERROR the BeginFrame probe failed: {outcome.reason}\n{tail}\n")
            return EXIT_FAILED
        return EXIT_OK
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
