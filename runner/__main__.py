"""``python -m runner render DIR -o out.mp4``: render a composition on this machine, or on AWS with ``--remote``."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bundler.errors import BundlerError
from bundler.progress import ConsoleReporter
from deploy.costargs import add_cost_options, cost_options, say, show_outcome
from deploy.errors import DeployError
from handler.errors import RenderzipError
from handler.render.settings import OUTPUT_FORMATS
from tooling.cli_errors import EXIT_FAILED, EXIT_OK, CommandLineError, run_command
from tooling.requests import plan_config


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m runner", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    compare = commands.add_parser(
        "diff", help="the first frame where two renders differ, and its PSNR (videos or .frames.json manifests)"
    )
    compare.add_argument("a", type=Path)
    compare.add_argument("b", type=Path)
    render = commands.add_parser("render", help="render a composition directory to an MP4")
    render.add_argument("project", type=Path, help="composition directory (with index.html)")
    render.add_argument("-o", "--output", type=Path, required=True, help="MP4 to write")
    split = render.add_mutually_exclusive_group()
    split.add_argument("--chunks", type=int, help="number of chunks (default: one per 120 frames)")
    split.add_argument("--frames-per-chunk", type=int)
    render.add_argument(
        "--workers",
        type=int,
        help="chunks rendered at once (local; default: the cores left after each chunk's --pages)",
    )
    render.add_argument(
        "--pages", type=int, help="browsers capturing each chunk at once (default: one per usable core)"
    )
    render.add_argument(
        "--capture", choices=["jpeg", "png"], help="Config.Capture: the image each frame is captured as"
    )
    render.add_argument(
        "--format", choices=OUTPUT_FORMATS, help="Config.Format: the output (mp4; png-sequence writes a tar of PNGs)"
    )
    render.add_argument("--codec", choices=["h264", "h265"], help="Config.Codec: the video codec (h264)")
    render.add_argument("--crf", type=int, help="x264 constant rate factor")
    render.add_argument(
        "--fps", help="Config.Fps: frames per second over data-fps, whole or a fraction (25, 29.97, 30000/1001)"
    )
    render.add_argument(
        "--variables",
        metavar="JSON",
        help="Config.Variables: a JSON object the composition reads with window.__hyperframes.getVariables()",
    )
    render.add_argument("--preset", help="x264 preset")
    render.add_argument(
        "--log",
        type=Path,
        help="append the handler's JSON log lines here (default: a temporary file, kept and shown only on failure)",
    )
    remote = render.add_argument_group("on AWS (needs a checkout with deploy/ and boto3, not the Lambda zip)")
    remote.add_argument("--remote", metavar="STACK", help="render on this stack's state machine instead")
    remote.add_argument("--region", help="the stack's region")
    remote.add_argument("--poll-seconds", type=float, default=5.0, help="how often to read the progress")
    add_cost_options(remote)
    return parser


def _encoder_config(args: argparse.Namespace) -> dict[str, Any]:
    config = {
        key: value
        for key, value in (
            ("Capture", args.capture),
            ("Format", args.format),
            ("Codec", args.codec),
            ("Crf", args.crf),
            ("Preset", args.preset),
            ("Pages", args.pages),
            ("Fps", args.fps),
        )
        if value is not None
    }
    if args.variables is not None:
        try:
            config["Variables"] = json.loads(args.variables)
        except json.JSONDecodeError as error:
            raise CommandLineError(
                f"--variables is not JSON: {error}", 'pass an object, e.g. \'{"title": "Hi"}\''
            ) from None
    return config


def _default_workers(pages: int | None) -> int:
    """Chunks at once, so that chunks times pages fills the cores: one chunk, when it takes them all."""
    from handler.render.capture import usable_cores  # noqa: PLC0415 - keeps --help fast

    return max(1, usable_cores() // pages) if pages else 1


def _remote(args: argparse.Namespace) -> int:
    """Render on the stack's state machine through `deploy.remote`, the one implementation of remote renders."""
    from deploy.aws import aws_errors  # noqa: PLC0415 - boto3 only for remote renders
    from deploy.progress import show_progress  # noqa: PLC0415
    from deploy.remote import render_remote  # noqa: PLC0415

    with aws_errors():
        result = render_remote(
            args.project,
            args.output,
            stack=args.remote,
            region=args.region,
            config=plan_config(args.chunks, args.frames_per_chunk, _encoder_config(args)),
            progress=show_progress,
            poll_seconds=args.poll_seconds,
            cost=cost_options(args),
            report=say,
        )
    show_outcome(result)
    return EXIT_OK


def _temporary_log() -> Path:
    handle, name = tempfile.mkstemp(prefix="renderzip-render-", suffix=".log")
    os.close(handle)
    return Path(name)


def _show_log_tail(log_file: Path, lines: int = 10) -> None:
    try:
        tail = log_file.read_text(encoding="utf-8").splitlines()[-lines:]
    except OSError:
        return
    print(f"handler log: {log_file} (last {len(tail)} lines)", file=sys.stderr)
    for line in tail:
        print(f"  {line}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    log_files: list[Path] = []

    def show_log(error: Exception) -> None:
        if log_files and isinstance(error, RenderzipError):
            _show_log_tail(log_files[0])

    return run_command(lambda: _run(args, log_files), (RenderzipError, DeployError, BundlerError), after_error=show_log)


def _run(args: argparse.Namespace, log_files: list[Path]) -> int:
    """The command; ``log_files`` gets the handler's log file once there is one, for the error path."""
    if args.command == "diff":
        from runner.diff import diff  # noqa: PLC0415 - numpy only for this command

        return EXIT_OK if diff(args.a, args.b, sys.stdout) else EXIT_FAILED
    if args.remote is not None:
        return _remote(args)
    if args.region is not None:
        raise CommandLineError("--region needs --remote STACK")
    if args.estimate or args.max_cost is not None or args.prices is not None:
        raise CommandLineError("--estimate, --max-cost and --prices need --remote STACK")
    from runner import local  # noqa: PLC0415 - keeps --help fast

    log_file = args.log or _temporary_log()
    log_files.append(log_file)
    result = local.render(
        args.project,
        args.output,
        chunks=args.chunks,
        frames_per_chunk=args.frames_per_chunk,
        workers=args.workers or _default_workers(args.pages),
        config=_encoder_config(args),
        log_file=log_file,
        fonts_reporter=ConsoleReporter(),
    )
    if args.log is None:
        log_file.unlink(missing_ok=True)
    plan = result.plan
    chunks = f"{plan['ChunkCount']} chunk{'s' if plan['ChunkCount'] != 1 else ''}"
    print(
        f"wrote {result.output}: {plan['TotalFrames']} frames at {plan['Width']}x{plan['Height']} {plan['Fps']} fps,"
        f" {chunks}, audio {'yes' if plan['HasAudio'] else 'no'},"
        f" {result.assembled['Bytes']} bytes in {result.seconds:.1f}s ({result.frames_per_second:.1f} frames/s)"
    )
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
