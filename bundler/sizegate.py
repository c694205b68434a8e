"""Check a built zip against Lambda's size limits and an in-house gate.

Sizes are counted in bytes, exactly, from the zip itself (not the manifest),
and shown in bytes and MiB.
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from bundler.entries import COMPONENTS
from bundler.errors import ArtifactError
from bundler.manifest import manifest_path_for, read_manifest
from bundler.progress import MIB, Reporter

LAMBDA_UNZIPPED_LIMIT = 262_144_000  # function + layers, Lambda's hard quota
DIRECT_UPLOAD_LIMIT = 52_428_800  # zip uploaded in the API call rather than from S3
DEFAULT_GATE_MIB = 140.0
WARN_FRACTION = 0.9


@dataclass(frozen=True)
class ComponentSize:
    name: str
    entries: int
    unzipped: int
    compressed: int


@dataclass(frozen=True)
class GateResult:
    name: str
    limit: int
    used: int

    @property
    def fraction(self) -> float:
        return self.used / self.limit if self.limit > 0 else float("inf")

    @property
    def status(self) -> str:
        if self.used > self.limit:
            return "FAIL"
        return "WARN" if self.fraction >= WARN_FRACTION else "ok"


def measure(zip_path: Path) -> tuple[list[ComponentSize], list[tuple[str, int]], int]:
    """Per-component sizes, every file with its size, and the zip's own size."""
    if not zip_path.is_file():
        raise ArtifactError(f"no zip at {zip_path}")
    manifest = read_manifest(manifest_path_for(zip_path))
    component_of = {entry["path"]: entry["component"] for entry in manifest["entries"]}
    totals = {name: [0, 0, 0] for name in COMPONENTS}
    files: list[tuple[str, int]] = []
    with zipfile.ZipFile(zip_path) as archive:
        for info in archive.infolist():
            component = component_of.get(info.filename, "other")
            totals[component][0] += 1
            totals[component][1] += info.file_size
            totals[component][2] += info.compress_size
            files.append((info.filename, info.file_size))
    components = [ComponentSize(name, *totals[name]) for name in COMPONENTS]
    return components, files, zip_path.stat().st_size


def evaluate(unzipped: int, layers: int, gate_bytes: int) -> list[GateResult]:
    return [
        GateResult("Lambda unzipped limit (function + layers)", LAMBDA_UNZIPPED_LIMIT, unzipped + layers),
        GateResult("in-house unzipped gate", gate_bytes, unzipped),
    ]


def _row(cells: Sequence[str], widths: Sequence[int]) -> str:
    first, *rest = cells
    return "  ".join([first.ljust(widths[0]), *(c.rjust(w) for c, w in zip(rest, widths[1:], strict=True))]).rstrip()


def format_report(
    components: Sequence[ComponentSize], gates: Sequence[GateResult], zipped: int, largest: Sequence[tuple[str, int]]
) -> list[str]:
    widths = (14, 8, 16, 10, 16, 10)
    lines = [_row(("component", "files", "unzipped bytes", "MiB", "zipped bytes", "MiB"), widths)]
    for c in components:
        lines.append(
            _row(
                (
                    c.name,
                    str(c.entries),
                    f"{c.unzipped:,}",
                    f"{c.unzipped / MIB:.2f}",
                    f"{c.compressed:,}",
                    f"{c.compressed / MIB:.2f}",
                ),
                widths,
            )
        )
    unzipped = sum(c.unzipped for c in components)
    lines.append(
        _row(
            (
                "total",
                str(sum(c.entries for c in components)),
                f"{unzipped:,}",
                f"{unzipped / MIB:.2f}",
                f"{zipped:,}",
                f"{zipped / MIB:.2f}",
            ),
            widths,
        )
    )
    lines.append("")
    for gate in gates:
        lines.append(
            f"{gate.status:4}  {gate.name}: {gate.used:,} of {gate.limit:,} bytes"
            f" ({gate.used / MIB:.2f} of {gate.limit / MIB:.2f} MiB, {gate.fraction:.1%})"
        )
    notice = "fits" if zipped <= DIRECT_UPLOAD_LIMIT else "exceeds"
    lines.append(
        f"note  zipped size {zipped:,} bytes ({zipped / MIB:.2f} MiB) {notice} the {DIRECT_UPLOAD_LIMIT:,}-byte"
        f" ({DIRECT_UPLOAD_LIMIT / MIB:.0f} MiB) direct-upload limit"
        + ("" if notice == "fits" else "; deploy it from S3")
    )
    if any(g.status == "FAIL" for g in gates):
        lines.append("")
        lines.append("largest contributors:")
        lines += [f"  {size:>13,} bytes  {size / MIB:8.2f} MiB  {name}" for name, size in largest]
    return lines


def run_size_gate(zip_path: Path, *, gate_mib: float | None, layers_bytes: int, out: TextIO, reporter: Reporter) -> int:
    components, files, zipped = measure(zip_path)
    gate_bytes = round((DEFAULT_GATE_MIB if gate_mib is None else gate_mib) * MIB)
    unzipped = sum(c.unzipped for c in components)
    gates = evaluate(unzipped, layers_bytes, gate_bytes)
    largest = sorted(files, key=lambda f: (-f[1], f[0]))[:10]
    out.write("\n".join(format_report(components, gates, zipped, largest)) + "\n")
    for gate in gates:
        if gate.status == "WARN":
            reporter.warn(f"{gate.name} is at {gate.fraction:.1%}, above the {WARN_FRACTION:.0%} warning line")
    failed = [g for g in gates if g.status == "FAIL"]
    if failed:
        names = ", ".join(name for name, _ in largest[:3])
        out.write(f"FAILED: over {len(failed)} gate(s); largest contributors: {names}\n")
        return 1
    return 0
