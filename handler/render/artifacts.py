"""The schema of ``bin/artifacts.json``: the bundler writes it, the runtime and the lock diff read it.

The zip ships Chromium and ffmpeg as runs of independent zstd frames; this file names each
packed binary, its decoded sha256 and size, its frame table, the Chromium files placed beside
the binary, and the compression settings. One module holds the paths and the format, so a
change on one side cannot leave the other reading a file it no longer understands.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from handler.errors import RuntimeUnavailable

BIN_DIR = "bin"
IDENTITY_PATH = f"{BIN_DIR}/artifacts.json"
CHROMIUM_DIR = f"{BIN_DIR}/chromium"
CHROMIUM_PACKED = f"{CHROMIUM_DIR}/chromium.zst"
FFMPEG_PACKED = f"{BIN_DIR}/ffmpeg.zst"
# Under CHROMIUM_DIR in the zip; Chromium opens them from beside its own binary.
SWIFTSHADER_DIR = "swiftshader"
RESOURCES_DIR = "resources"  # headless-shell: ICU data, .pak files, V8 snapshot
BESIDE_BINARY = (SWIFTSHADER_DIR, RESOURCES_DIR)

COMPRESSION = "zstd"
ZSTD_LEVEL = 19
ZSTD_WINDOW_LOG = 27  # the decoder must allow this window: --long=27

Frame = tuple[int, int]  # (decoded bytes, compressed bytes)


@dataclass(frozen=True)
class PackedBinary:
    """One binary shipped as independent zstd frames, decoded in parallel by the runtime."""

    packed: str
    sha256: str
    size: int
    frames: tuple[Frame, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "packed": self.packed,
            "sha256": self.sha256,
            "size": self.size,
            "frames": [list(f) for f in self.frames],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PackedBinary:
        frames = tuple((int(content), int(compressed)) for content, compressed in data["frames"])
        size = int(data.get("size", sum(content for content, _ in frames)))  # the frames' total when not written
        return cls(str(data["packed"]), str(data["sha256"]), size, frames)


@dataclass(frozen=True)
class ChromiumArtifact:
    source: str  # "sparticuz" or "headless-shell"
    item: str
    version: str
    resources: tuple[str, ...]
    binary: PackedBinary
    dir: str = CHROMIUM_DIR


@dataclass(frozen=True)
class FfmpegArtifact:
    item: str
    version: str
    binary: PackedBinary


@dataclass(frozen=True)
class ArtifactsDoc:
    chromium: ChromiumArtifact
    ffmpeg: FfmpegArtifact
    level: int = ZSTD_LEVEL
    window_log: int = ZSTD_WINDOW_LOG

    def to_bytes(self) -> bytes:
        """Key-sorted and indented: the bytes are part of the zip's sha256."""
        chromium = self.chromium
        doc = {
            "chromium": {
                "source": chromium.source,
                "item": chromium.item,
                "version": chromium.version,
                "dir": chromium.dir,
                "resources": list(chromium.resources),
                **chromium.binary.to_json(),
            },
            "ffmpeg": {"item": self.ffmpeg.item, "version": self.ffmpeg.version, **self.ffmpeg.binary.to_json()},
            "format": {"compression": COMPRESSION, "level": self.level, "window_log": self.window_log},
        }
        return (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> ArtifactsDoc:
        """Parse the file; anything missing or of the wrong type is `RuntimeUnavailable` naming it."""
        try:
            doc = json.loads(raw)
            chromium, ffmpeg, fmt = doc["chromium"], doc["ffmpeg"], doc.get("format", {})
            if fmt.get("compression", COMPRESSION) != COMPRESSION:
                raise RuntimeUnavailable(f"{IDENTITY_PATH}: compression {fmt['compression']!r} is not {COMPRESSION}")
            return cls(
                chromium=ChromiumArtifact(
                    source=str(chromium["source"]),
                    item=str(chromium.get("item", "")),
                    version=str(chromium["version"]),
                    resources=tuple(str(name) for name in chromium.get("resources", [])),
                    binary=PackedBinary.from_json(chromium),
                    dir=str(chromium.get("dir", CHROMIUM_DIR)),
                ),
                ffmpeg=FfmpegArtifact(
                    item=str(ffmpeg.get("item", "")),
                    version=str(ffmpeg["version"]),
                    binary=PackedBinary.from_json(ffmpeg),
                ),
                level=int(fmt.get("level", ZSTD_LEVEL)),
                window_log=int(fmt.get("window_log", ZSTD_WINDOW_LOG)),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise RuntimeUnavailable(f"{IDENTITY_PATH} is malformed: {type(error).__name__} {error}") from error
