"""``python -m handler render DIR -o out.mp4``: render a composition on this machine."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from handler.errors import RenderzipError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m handler", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    render = commands.add_parser("render", help="render a composition directory to an MP4")
    render.add_argument("project", type=Path, help="composition directory (with index.html)")
    render.add_argument("-o", "--output", type=Path, required=True, help="MP4 to write")
    split = render.add_mutually_exclusive_group()
    split.add_argument("--chunks", type=int, help="number of chunks (default: one per 120 frames)")
    split.add_argument("--frames-per-chunk", type=int)
    render.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="parallel chunk renders")
    render.add_argument("--format", choices=["jpeg", "png"], help="capture format")
    render.add_argument("--crf", type=int, help="x264 constant rate factor")
    render.add_argument("--preset", help="x264 preset")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from handler import local  # noqa: PLC0415 - keeps --help fast

    config = {
        key: value
        for key, value in (("Format", args.format), ("Crf", args.crf), ("Preset", args.preset))
        if value is not None
    }
    try:
        result = local.render(
            args.project,
            args.output,
            chunks=args.chunks,
            frames_per_chunk=args.frames_per_chunk,
            workers=args.workers,
            config=config,
        )
    except RenderzipError as error:
        print(f"ERROR {error.code}: {error}", file=sys.stderr)
        return 1
    plan = result.plan
    print(
        f"wrote {result.output}: {plan['TotalFrames']} frames at {plan['Width']}x{plan['Height']} {plan['Fps']} fps,"
        f" {plan['ChunkCount']} chunks, audio {'yes' if plan['HasAudio'] else 'no'},"
        f" {result.assembled['Bytes']} bytes in {result.seconds:.1f}s ({result.frames_per_second:.1f} frames/s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
