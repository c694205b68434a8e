"""The cost options of both remote command lines (``python -m runner render --remote``, ``python -m deploy render``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from deploy.cost import Estimate
from deploy.pricing import load_prices

if TYPE_CHECKING:  # boto3 is loaded only when a remote render runs
    from deploy.remote import CostOptions, RemoteResult


def _usd(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError("must be an amount of US dollars above 0")
    return value


def add_cost_options(group: argparse._ArgumentGroup | argparse.ArgumentParser) -> None:
    group.add_argument(
        "--estimate",
        action="store_true",
        help="print what the render would cost (from a sample chunk in the Lambda image) and stop",
    )
    group.add_argument("--max-cost", type=_usd, metavar="USD", help="refuse a render whose high estimate is over USD")
    group.add_argument("--prices", type=Path, help="a JSON object overriding the price table (deploy/pricing.py)")
    group.add_argument("--image", help="the Lambda image for the sample chunk (default: the pinned one; 'standin')")
    group.add_argument("--zip", type=Path, default=Path("dist/handler.zip"), help="the zip for the sample chunk")


def cost_options(args: argparse.Namespace) -> CostOptions:
    from deploy.remote import CostOptions  # noqa: PLC0415

    return CostOptions(
        estimate_only=bool(args.estimate),
        max_cost_usd=args.max_cost,
        prices=load_prices(args.prices),
        image=args.image,
        zip_path=args.zip,
    )


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def show_outcome(outcome: RemoteResult | Estimate) -> None:
    """The result line on stdout; an estimate was already reported line by line."""
    if isinstance(outcome, Estimate):
        return
    if outcome.accrued is not None:
        usage = outcome.accrued
        say(
            f"cost: ${outcome.cost_usd:.4f} ({usage.invocations} invocations, {usage.lambda_seconds:.1f} s of Lambda,"
            f" {usage.state_transitions} state transitions; S3 not counted)"
        )
    print(f"{outcome.output}\t{outcome.bytes} bytes\t{outcome.frames} frames\tsha256 {outcome.sha256}")
