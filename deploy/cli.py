"""``python -m deploy``: up, verify, render, statemachine, template.

Errors end as every command line of the project does (`tooling.cli_errors`): one
``ERROR ...`` line and a ``hint:`` line, exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bundler.errors import BundlerError
from deploy.aws import aws_errors, make_session
from deploy.costargs import add_cost_options, cost_options, say, show_outcome
from deploy.errors import DeployError
from deploy.progress import show_progress
from deploy.retry import DEFAULT_POLICY
from deploy.statemachine import DEFAULT_MAX_CONCURRENCY, MAX_CONCURRENCY, definition
from deploy.template import TEMPLATE_JSON, template_text
from tooling.cli_errors import EXIT_OK, run_command


def _concurrency(text: str) -> int:
    value = int(text)
    if not 1 <= value <= MAX_CONCURRENCY:
        raise argparse.ArgumentTypeError(f"must be from 1 to {MAX_CONCURRENCY}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m deploy", description="Deploy renderzip and render on AWS.")
    commands = parser.add_subparsers(dest="command", required=True)

    up = commands.add_parser("up", help="upload the zip and create or update the stack")
    up.add_argument("--stack", required=True)
    up.add_argument("--region")
    up.add_argument("--zip", type=Path, default=Path("dist/handler.zip"))
    up.add_argument("--runtime-version-arn", help="pinned Lambda runtime version (required for a new stack)")
    up.add_argument("--artifact-bucket", help="bucket for the zip (default renderzip-artifacts-<account>-<region>)")
    up.add_argument("--max-concurrency", type=_concurrency, help=f"Map concurrency (default {DEFAULT_MAX_CONCURRENCY})")

    check = commands.add_parser("verify", help="check that the stack's function runs the built zip")
    check.add_argument("--stack", required=True)
    check.add_argument("--region")
    check.add_argument("--manifest", type=Path, default=Path("dist/handler.zip.manifest.json"))

    render = commands.add_parser("render", help="render a composition on the stack's state machine")
    render.add_argument("project_dir", type=Path)
    render.add_argument("-o", "--output", type=Path, required=True)
    render.add_argument("--stack", required=True)
    render.add_argument("--region")
    render.add_argument("--config", default="{}", help="the plan's Config as JSON, e.g. '{\"FramesPerChunk\": 60}'")
    render.add_argument("--poll-seconds", type=float, default=5.0)
    add_cost_options(render.add_argument_group("cost"))

    machine = commands.add_parser("statemachine", help="print the state machine definition")
    machine.add_argument("--max-concurrency", type=_concurrency, default=DEFAULT_MAX_CONCURRENCY)
    machine.add_argument("--function-arn", default="${RenderFunction.Arn}")

    template = commands.add_parser("template", help="write the CloudFormation template")
    template.add_argument("-o", "--output", type=Path, default=TEMPLATE_JSON)
    return parser


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _up(args: argparse.Namespace) -> int:
    from deploy.stack import deploy  # noqa: PLC0415 - boto3 clients only when deploying

    result = deploy(
        make_session(args.region),
        stack=args.stack,
        zip_path=args.zip,
        runtime_version_arn=args.runtime_version_arn,
        artifact_bucket=args.artifact_bucket,
        max_concurrency=args.max_concurrency,
        report=_say,
    )
    _say(f"stack {result.stack}: {result.action}")
    manifest = args.zip.with_name(args.zip.name + ".manifest.json")
    if manifest.is_file():
        from deploy.verify import verify  # noqa: PLC0415

        verified = verify(make_session(args.region), stack=args.stack, manifest=manifest)
        _say(f"verified: {verified.function_arn} runs the built zip (CodeSha256 {verified.code_sha256})")
    else:
        _say(f"not verified: no {manifest.name} beside {args.zip}")
    for key in sorted(result.outputs):
        print(f"{key}\t{result.outputs[key]}")
    return EXIT_OK


def _verify(args: argparse.Namespace) -> int:
    from deploy.verify import verify  # noqa: PLC0415 - boto3 clients only when verifying

    result = verify(make_session(args.region), stack=args.stack, manifest=args.manifest)
    print(f"{result.function_arn}\tCodeSha256 {result.code_sha256}\tthe built zip")
    return EXIT_OK


def _render(args: argparse.Namespace) -> int:
    from deploy.remote import render_remote  # noqa: PLC0415

    try:
        config: Any = json.loads(args.config)
    except json.JSONDecodeError as error:
        raise DeployError(f"--config is not JSON: {error}", "pass an object, e.g. '{\"FramesPerChunk\": 60}'") from None
    if not isinstance(config, dict):
        raise DeployError("--config must be a JSON object", "pass an object, e.g. '{\"FramesPerChunk\": 60}'")
    result = render_remote(
        args.project_dir,
        args.output,
        stack=args.stack,
        region=args.region,
        config=config,
        progress=show_progress,
        poll_seconds=args.poll_seconds,
        cost=cost_options(args),
        report=say,
    )
    show_outcome(result)
    return EXIT_OK


def _run(args: argparse.Namespace) -> int:
    with aws_errors():
        if args.command == "up":
            return _up(args)
        if args.command == "render":
            return _render(args)
        if args.command == "verify":
            return _verify(args)
    if args.command == "statemachine":
        machine = definition(args.function_arn, max_concurrency=args.max_concurrency, retry=DEFAULT_POLICY)
        print(json.dumps(machine, indent=2))
        return EXIT_OK
    args.output.write_text(template_text(), encoding="utf-8")
    _say(f"wrote {args.output}")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return run_command(lambda: _run(args), (DeployError, BundlerError))
