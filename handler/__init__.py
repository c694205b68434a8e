"""The renderzip Lambda function: everything in this package ships in the zip.

Only the standard library and the runtime lock may be imported here.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

RENDERER_RELEASE = "0.2.0"

# The sources that decide a frame's pixels or a chunk's bytes. Their digest is part of the
# renderer version, so a plan made by one build of the code is refused by another that would
# render it differently, instead of mixing their chunks in one video.
_PIXEL_SOURCES = (
    "page/shim.js",
    "page/_page.py",
    "browser.py",
    "encode.py",
    "audio.py",
    "mux.py",
    "_ffmpeg.py",
)


def _sources_digest() -> str:
    digest = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for name in _PIXEL_SOURCES:
        digest.update(name.encode() + b"\0" + (here / name).read_bytes() + b"\0")
    return digest.hexdigest()[:12]


RENDERER_VERSION = f"{RENDERER_RELEASE}+{_sources_digest()}"
