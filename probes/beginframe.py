"""The BeginFrame probe, run *inside* the Lambda image against the unzipped artifact.

It uses only the standard library and the artifact's own code (``/var/task``
on the path): prepare Chromium into /tmp, launch it with the handler's flags,
open a begin-frame-controlled page, warm up, capture frames of a built-in
page and check them. It prints one JSON object and exits 0 only when every
check passed. The host side (``probes.probe``) passes this file's source to
``python3 -c``, so nothing of the probe is installed into the image.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import sys
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

WIDTH, HEIGHT, FPS = 160, 90, 30
FRAMES = 30
# Known colours at known places; a block that moves right by 4 px per frame.
PAGE = f"""<!doctype html><html><head><meta charset="utf-8"><style>
html, body {{ margin: 0; background: #ffffff; }}
#root {{ position: relative; width: {WIDTH}px; height: {HEIGHT}px; }}
.q {{ position: absolute; width: 40px; height: 40px; }}
#mover {{ position: absolute; left: 0; top: 60px; width: 10px; height: 20px; background: #000;
         animation: move 1s linear infinite; }}
@keyframes move {{ from {{ transform: translateX(0); }} to {{ transform: translateX(120px); }} }}
</style></head><body>
<div id="root" data-width="{WIDTH}" data-height="{HEIGHT}" data-fps="{FPS}" data-duration="1">
<div class="q" style="left:0;top:0;background:#ff0000"></div>
<div class="q" style="left:40px;top:0;background:#00ff00"></div>
<div class="q" style="left:80px;top:0;background:#0000ff"></div>
<div id="mover"></div></div></body></html>"""
EXPECTED = {(20, 20): (255, 0, 0), (60, 20): (0, 255, 0), (100, 20): (0, 0, 255), (140, 20): (255, 255, 255)}


def decode_png(data: bytes) -> tuple[int, int, list[bytes], int]:
    """(width, height, rows of raw pixels, bytes per pixel) of an 8-bit, non-interlaced PNG."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    offset, idat, header = 8, b"", b""
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        offset += 12 + length
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    if depth != 8 or interlace or colour not in (2, 6):
        raise ValueError(f"unsupported PNG: depth {depth}, colour type {colour}, interlace {interlace}")
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up, corner = previous[i], previous[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                predictor = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + predictor) & 0xFF
        rows.append(bytes(line))
        previous = line
    return width, height, rows, bpp


def pixel(decoded: tuple[int, int, list[bytes], int], x: int, y: int) -> tuple[int, int, int]:
    _, _, rows, bpp = decoded
    r, g, b = rows[y][x * bpp : x * bpp + 3]
    return r, g, b


def _capture_run(page_dir: Path, scratch: Path, frames: int) -> tuple[str, list[bytes], dict[str, float]]:
    from handler.render.chrome.browser import Browser  # noqa: PLC0415 - from the artifact under test
    from handler.render.runtime import prepare  # noqa: PLC0415

    timings: dict[str, float] = {}
    started = time.monotonic()
    runtime = prepare()
    timings["unpack_s"] = time.monotonic() - started
    started = time.monotonic()
    with Browser.launch(runtime, scratch) as browser:
        timings["launch_s"] = time.monotonic() - started
        page = browser.open_page(WIDTH, HEIGHT, allowed_root=page_dir)
        page.navigate(page_dir / "index.html")
        page.warm_up(0, FPS)
        started = time.monotonic()
        images = [page.capture(0, FPS, fmt="png")]
        timings["first_frame_s"] = time.monotonic() - started
        started = time.monotonic()
        images += [page.capture(i, FPS, fmt="png") for i in range(1, frames)]
        timings["fps"] = (frames - 1) / max(time.monotonic() - started, 1e-9)
        page.close()
        return browser.version, images, timings


def run(deadline_s: float) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="renderzip-probe-"))
    try:
        return _run(work, deadline_s)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(work: Path, deadline_s: float) -> dict[str, Any]:
    began = time.monotonic()
    page_dir, scratch = work / "page", work / "scratch"
    page_dir.mkdir()
    scratch.mkdir()
    (page_dir / "index.html").write_text(PAGE, encoding="utf-8")
    checks: list[dict[str, Any]] = []

    def check(name: str, ok: bool, detail: str = "") -> None:
        checks.append({"name": name, "ok": bool(ok), "detail": detail})

    version, frames, timings = _capture_run(page_dir, scratch, FRAMES)
    decoded = [decode_png(image) for image in frames]
    check("valid image data", all(image[:8] == b"\x89PNG\r\n\x1a\n" for image in frames), f"{len(frames)} PNG frames")
    sizes = {(d[0], d[1]) for d in decoded}
    check("expected size", sizes == {(WIDTH, HEIGHT)}, f"got {sorted(sizes)}")
    wrong = [
        f"{where}: {pixel(decoded[0], *where)} != {colour}"
        for where, colour in EXPECTED.items()
        if max(abs(a - b) for a, b in zip(pixel(decoded[0], *where), colour, strict=True)) > 8
    ]
    check("expected pixel colours", not wrong, "; ".join(wrong) or "4 known colours in place")
    moved = pixel(decoded[0], 2, 70) != pixel(decoded[10], 2, 70) and pixel(decoded[10], 42, 70) == (0, 0, 0)
    check("animation advances between frames", moved, "the block left x=2 and reached x=42 by frame 10")
    _, again, _ = _capture_run(page_dir, scratch, 3)
    check("two launches give identical frames", again == frames[:3], "frames 0-2 compared byte for byte")
    total = time.monotonic() - began
    check("within the deadline", total <= deadline_s, f"{total:.2f}s of {deadline_s:g}s")
    return {
        "ok": all(item["ok"] for item in checks),
        "chrome_version": version,
        "timings": {key: round(value, 3) for key, value in timings.items() if key != "fps"},
        "frames_per_second": round(timings["fps"], 1),
        "checks": checks,
    }


def main(argv: list[str]) -> int:
    sys.path.insert(0, os.environ.get("LAMBDA_TASK_ROOT", "/var/task"))
    deadline = float(argv[1]) if len(argv) > 1 else 30.0
    try:
        result = run(deadline)
    except Exception as error:
        code = getattr(error, "code", type(error).__name__)
        result = {"ok": False, "error": {"code": code, "message": str(error)}, "checks": []}
    print(json.dumps(result, sort_keys=True))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
