"""The build manifest: every entry of the zip, where it came from, and totals."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypedDict

from bundler.entries import COMPONENTS
from bundler.errors import ArtifactError
from bundler.hashing import code_sha256
from bundler.targets import Target
from bundler.zipwriter import WrittenEntry

FORMAT = 1


class ManifestEntry(TypedDict):
    path: str
    size: int
    compressed_size: int
    sha256: str
    item: str
    component: str


class ComponentTotals(TypedDict):
    entries: int
    unzipped_bytes: int
    compressed_bytes: int


class Manifest(TypedDict):
    format: int
    zip: dict[str, Any]
    target: dict[str, str]
    chrome_source: str
    totals: dict[str, Any]
    components: dict[str, ComponentTotals]
    entries: list[ManifestEntry]


def manifest_path_for(zip_path: Path) -> Path:
    return zip_path.with_name(zip_path.name + ".manifest.json")


def build_manifest(
    zip_path: Path,
    zip_sha256: str,
    written: Sequence[WrittenEntry],
    target: Target,
    chrome_source: str,
    *,
    glibc_override: str | None = None,
) -> Manifest:
    entries: list[ManifestEntry] = [
        {
            "path": w.entry.arcname,
            "size": w.size,
            "compressed_size": w.compressed_size,
            "sha256": w.sha256,
            "item": w.entry.item,
            "component": w.entry.component,
        }
        for w in written
    ]
    components: dict[str, ComponentTotals] = {
        name: {"entries": 0, "unzipped_bytes": 0, "compressed_bytes": 0} for name in COMPONENTS
    }
    for entry in entries:
        totals = components[entry["component"]]
        totals["entries"] += 1
        totals["unzipped_bytes"] += entry["size"]
        totals["compressed_bytes"] += entry["compressed_size"]
    return {
        "format": FORMAT,
        "zip": {
            "name": zip_path.name,
            "bytes": zip_path.stat().st_size,
            "sha256": zip_sha256,
            "code_sha256": code_sha256(zip_sha256),
        },
        "target": {
            "runtime": target.runtime,
            "arch": target.arch,
            "glibc": target.glibc_text,
            # ELF files were checked against this glibc instead: the zip is not for the managed runtime.
            **({"glibc_override": glibc_override} if glibc_override else {}),
        },
        "chrome_source": chrome_source,
        "totals": {"entries": len(entries), "unzipped_bytes": sum(e["size"] for e in entries)},
        "components": components,
        "entries": entries,
    }


def write_manifest(manifest: Manifest, path: Path) -> None:
    """Write atomically, so a reader never sees half a manifest."""
    fd, partial = tempfile.mkstemp(prefix=".manifest-", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as stream:
        json.dump(manifest, stream, indent=2, sort_keys=False)
        stream.write("\n")
    Path(partial).replace(path)


def read_manifest(path: Path) -> Manifest:
    try:
        data: Manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ArtifactError(f"no manifest at {path}") from None
    except json.JSONDecodeError as exc:
        raise ArtifactError(f"manifest {path} is not valid JSON: {exc}") from None
    if data.get("format") != FORMAT:
        raise ArtifactError(f"manifest {path} has format {data.get('format')!r}, expected {FORMAT}")
    return data
