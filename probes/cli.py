"""Command line of the probes: ``python -m probes image|run|provision``.

``image`` prints the reference of the image to run in (building the stand-in
when asked with ``--image standin``); ``run`` runs ``python3 ARGS`` in it with
a task directory mounted read-only at /var/task, streaming the output;
``provision`` installs (as root) what the test suite needs from the system.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from bundler.errors import BundlerError
from bundler.progress import ConsoleReporter
from bundler.targets import DEFAULT_RUNTIME
from probes import lambda_env
from probes.errors import ProbeError
from probes.images import IMAGE_ENV, STANDIN, resolve_image
from probes.provision import provision
from probes.runner import RunSpec, run_in_image
from probes.standin import ensure_standin
from tooling.cli_errors import EXIT_OK, CommandLineError, run_command


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
    return value


def _env_pair(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m probes", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (("image", "print the image to run in"), ("run", "run python3 ARGS in the image")):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("--runtime", default=DEFAULT_RUNTIME, help="Lambda runtime (default %(default)s)")
        sub.add_argument(
            "--image",
            default=None,
            help=f"image reference, or {STANDIN!r} for the stand-in (default ${IMAGE_ENV}, else the lock's pin)",
        )
    image_cmd = commands.choices["image"]
    image_cmd.add_argument("--rebuild", action="store_true", help="rebuild the stand-in even if its tag exists")

    run_cmd = commands.choices["run"]
    run_cmd.add_argument("--task-dir", type=Path, required=True, help="the unzipped artifact, mounted at /var/task")
    run_cmd.add_argument("--memory", type=_positive_int, default=lambda_env.DEFAULT_MEMORY_MB, help="MB")
    run_cmd.add_argument("--tmp-size", default="512m", help="size of the /tmp tmpfs (default %(default)s)")
    run_cmd.add_argument("--timeout", type=float, default=300.0, help="seconds (default %(default)s)")
    run_cmd.add_argument("--network", choices=("none", "host"), default="none", help="host: the host's loopback")
    run_cmd.add_argument("-e", "--env", type=_env_pair, action="append", default=[], help="extra KEY=VALUE")
    run_cmd.add_argument(
        "--label", type=_env_pair, action="append", default=[], help="extra KEY=VALUE label on the container"
    )
    run_cmd.add_argument("args", nargs=argparse.REMAINDER, help="arguments to python3, after --")
    commands.add_parser(
        "provision", help="install (as root) or list what the test suite needs: Docker engine, debootstrap, ..."
    )
    return parser


def _run(args: argparse.Namespace, reporter: ConsoleReporter) -> int:
    if args.command == "provision":
        provision(reporter.step)
        return EXIT_OK
    if args.command == "image":
        if args.rebuild and args.image == STANDIN:
            print(ensure_standin(args.runtime, reporter, rebuild=True).tag)
        else:
            print(resolve_image(args.runtime, args.image, reporter))
        return EXIT_OK
    command = list(args.args)
    if command[:1] == ["--"]:
        command = command[1:]
    if not command:
        raise CommandLineError("nothing to run", "python -m probes run --task-dir DIR -- -c 'print(1)'")
    image = resolve_image(args.runtime, args.image, reporter)
    spec = RunSpec(
        image=image,
        task_dir=args.task_dir,
        command=tuple(command),
        runtime=args.runtime,
        memory_mb=args.memory,
        tmp_size=args.tmp_size,
        network=args.network,
        timeout_s=args.timeout,
        extra_env=dict(args.env),
        labels=dict(args.label),
    )

    def show(stream: str, line: str) -> None:
        target = sys.stdout if stream == "stdout" else sys.stderr
        target.write(line + "\n")
        target.flush()

    outcome = run_in_image(spec, on_output=show)
    reporter.step(f"exit status {outcome.exit_code} after {outcome.seconds:.2f} s in {image}")
    if not outcome.ok:
        reporter.warn(f"the command failed: {outcome.reason}")
    return outcome.exit_code


def main(argv: Sequence[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    reporter = ConsoleReporter()
    return run_command(lambda: _run(args, reporter), (BundlerError, ProbeError))
