"""Command line of the bundler: ``python -m bundler COMMAND`` (the nox sessions call it)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from bundler import lock
from bundler.build import PROJECT_ROOT, BuildOptions, build
from bundler.cache import Cache, default_cache_root
from bundler.errors import BundlerError
from bundler.fonts import lock_fonts
from bundler.lockdiff import run_lock_diff
from bundler.lockfiles import CHROME_SOURCES, LOCK_DIR
from bundler.progress import ConsoleReporter
from bundler.sizegate import run_size_gate
from bundler.targets import DEFAULT_ARCH, DEFAULT_RUNTIME, Target
from tooling.cli_errors import EXIT_OK, CommandLineError, run_command

DEFAULT_ZIP = PROJECT_ROOT / "dist" / "handler.zip"


def _target_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--runtime", default=DEFAULT_RUNTIME, help="Lambda runtime (default %(default)s)")
    parser.add_argument("--arch", default=DEFAULT_ARCH, help="architecture (default %(default)s)")


def _zip_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--zip", type=Path, default=DEFAULT_ZIP, help="the built zip (default dist/handler.zip)")


def _positive_mib(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 MiB, got {text}")
    return value


def _glibc(text: str) -> tuple[int, int]:
    major, dot, minor = text.partition(".")
    if not (dot and major.isdigit() and minor.isdigit()):
        raise argparse.ArgumentTypeError(f"expected a glibc version like 2.36, got {text!r}")
    return int(major), int(minor)


def _glibc_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--glibc",
        type=_glibc,
        default=None,
        metavar="X.Y",
        help="check ELF files against this glibc instead of the runtime's; only for a container image with"
        " that glibc (the zip will not run on the managed runtime); recorded in the manifest",
    )


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bundler", description=__doc__)
    parser.add_argument(
        "--cache-dir", type=Path, default=None, help="download cache (default ~/.cache/renderzip, or $RENDERZIP_CACHE)"
    )
    parser.add_argument("--lock-dir", type=Path, default=LOCK_DIR, help=argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", required=True)

    build_cmd = commands.add_parser("build", help="build the zip and its manifest from the lockfiles")
    _target_options(build_cmd)
    build_cmd.add_argument("--chrome-source", choices=CHROME_SOURCES, default="sparticuz")
    build_cmd.add_argument("-o", "--out", type=Path, default=DEFAULT_ZIP)
    _glibc_option(build_cmd)

    lock_cmd = commands.add_parser("lock", help="regenerate the lockfiles")
    _target_options(lock_cmd)
    lock_cmd.add_argument(
        "--only", choices=("runtime", "artifacts", "build", "dev", "bootstrap", "fonts"), action="append"
    )
    lock_cmd.add_argument(
        "--font",
        action="append",
        default=[],
        metavar="FAMILY",
        help="with --only fonts: a Google Fonts family to pin from @fontsource (repeatable)",
    )
    lock_cmd.add_argument(
        "--repin-debian",
        action="store_true",
        help="pin chromium-headless-shell at the version apt serves now (Debian replaces old ones)",
    )

    gate = commands.add_parser("size-gate", help="check the zip against Lambda's size limits")
    _zip_option(gate)
    gate.add_argument("--gate-mib", type=_positive_mib, default=None, help="in-house gate on the unzipped size, in MiB")
    gate.add_argument("--layers-bytes", type=int, default=0, help="unzipped bytes of the layers the function declares")

    diff = commands.add_parser("lock-diff", help="compare what the zip vendors with the lockfiles")
    _zip_option(diff)
    _target_options(diff)
    _glibc_option(diff)
    return parser


def _run(args: argparse.Namespace, reporter: ConsoleReporter) -> int:
    cache_root = args.cache_dir or default_cache_root()
    if args.command == "build":
        options = BuildOptions(
            target=Target.parse(args.runtime, args.arch),
            chrome_source=args.chrome_source,
            cache_root=cache_root,
            out=args.out.resolve(),
            lock_dir=args.lock_dir,
            glibc_override=args.glibc,
        )
        build(options, reporter)
        return EXIT_OK
    if args.command == "lock":
        only = set(args.only or ("runtime", "artifacts", "build", "dev", "bootstrap"))
        cache = Cache(cache_root)
        if "runtime" in only:
            reporter.step(
                f"wrote {lock.lock_runtime(Target.parse(args.runtime, args.arch), cache, reporter, args.lock_dir)}"
            )
        if "artifacts" in only:
            reporter.step(f"wrote {lock.lock_artifacts(cache, reporter, args.lock_dir, repin=args.repin_debian)}")
        for name in ("build", "dev", "bootstrap"):
            if name in only:
                reporter.step(f"wrote {lock.lock_python_env(args.lock_dir, name, reporter)}")
        if "fonts" in only:
            if not args.font:
                raise CommandLineError("--only fonts needs at least one --font FAMILY", 'e.g. --font "Inter"')
            reporter.step(f"wrote {lock_fonts(args.font, cache, reporter, args.lock_dir)}")
        return EXIT_OK
    if args.command == "size-gate":
        return run_size_gate(
            args.zip, gate_mib=args.gate_mib, layers_bytes=args.layers_bytes, out=sys.stdout, reporter=reporter
        )
    if args.command == "lock-diff":
        target = Target.parse(args.runtime, args.arch)
        return run_lock_diff(args.zip, target, args.lock_dir, out=sys.stdout, max_glibc=args.glibc)
    raise AssertionError(args.command)


def main(argv: Sequence[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    reporter = ConsoleReporter()
    return run_command(lambda: _run(args, reporter), (BundlerError,))
