"""Tests for bundler.sizegate: byte-exact gates and the report, on a tiny zip made here."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest

from bundler.entries import Entry
from bundler.errors import ArtifactError
from bundler.manifest import build_manifest, manifest_path_for, write_manifest
from bundler.progress import MIB, ConsoleReporter, SilentReporter
from bundler.sizegate import (
    LAMBDA_UNZIPPED_LIMIT,
    ComponentSize,
    GateResult,
    evaluate,
    format_report,
    measure,
    run_size_gate,
)
from bundler.targets import Target
from bundler.zipwriter import write_zip

BIG = "chromium/biggest-file.bin"
BIG_SIZE = 40_000


@pytest.fixture
def tiny_zip(tmp_path: Path) -> Path:
    """A zip of a few entries and its manifest, as `build` would leave them."""
    entries = [
        Entry(BIG, "chromium:x@1", "chromium", executable=True, data=os.urandom(BIG_SIZE)),
        Entry("handler/app.py", "renderzip:handler", "handler", data=b"def handler(e, c):\n    return 1\n" * 20),
        Entry("boto3/__init__.py", "wheel:boto3==1", "python-deps", data=b"# boto3\n" * 100),
    ]
    out = tmp_path / "dist" / "handler.zip"
    written = write_zip(entries, out)
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    write_manifest(build_manifest(out, digest, written, Target.parse(), "sparticuz"), manifest_path_for(out))
    return out


def _unzipped_total(zip_path: Path) -> int:
    components, _, _ = measure(zip_path)
    return sum(c.unzipped for c in components)


# --- evaluate and GateResult -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("used", "status"),
    [(0, "ok"), (899, "ok"), (900, "WARN"), (999, "WARN"), (1000, "WARN"), (1001, "FAIL")],
)
def test_gate_status_by_fraction_of_the_limit(used: int, status: str) -> None:
    assert GateResult("gate", 1000, used).status == status


def test_gate_is_byte_exact_at_the_limit() -> None:
    limit = 140 * MIB
    assert GateResult("gate", limit, limit).status != "FAIL"
    assert GateResult("gate", limit, limit + 1).status == "FAIL"
    assert GateResult("gate", limit, limit - 1).status != "FAIL"


def test_gate_warns_from_exactly_ninety_percent() -> None:
    limit = LAMBDA_UNZIPPED_LIMIT
    ninety = limit * 9 // 10
    assert ninety * 10 == limit * 9
    assert GateResult("gate", limit, ninety).status == "WARN"
    assert GateResult("gate", limit, ninety - 1).status == "ok"


def test_evaluate_counts_layers_toward_the_lambda_limit_only() -> None:
    lambda_gate, house_gate = evaluate(100, 50, 1000)
    assert lambda_gate.limit == 262_144_000
    assert lambda_gate.used == 150
    assert house_gate.limit == 1000
    assert house_gate.used == 100


def test_layers_push_the_function_over_the_lambda_limit_byte_exactly() -> None:
    unzipped = 200_000_000
    at_limit = evaluate(unzipped, LAMBDA_UNZIPPED_LIMIT - unzipped, 10**12)[0]
    over = evaluate(unzipped, LAMBDA_UNZIPPED_LIMIT - unzipped + 1, 10**12)[0]
    assert at_limit.used == LAMBDA_UNZIPPED_LIMIT
    assert at_limit.status != "FAIL"
    assert over.status == "FAIL"


# --- format_report -----------------------------------------------------------------------------------------------


COMPONENTS = [
    ComponentSize("chromium", 3, 123_456_789, 60_000_000),
    ComponentSize("ffmpeg", 1, 80_000_000, 30_000_000),
    ComponentSize("python-deps", 500, 12_345_678, 4_000_000),
    ComponentSize("handler", 2, 4_321, 1_234),
    ComponentSize("other", 1, 100, 80),
]
LARGEST = [("chromium", 123_000_000), ("ffmpeg", 80_000_000), ("botocore/data/s3/service-2.json.gz", 1_234_567)]


def test_report_shows_bytes_with_thousands_separators_and_mib() -> None:
    unzipped = sum(c.unzipped for c in COMPONENTS)
    lines = format_report(COMPONENTS, evaluate(unzipped, 0, 300 * MIB), 94_001_314, LARGEST)
    text = "\n".join(lines)
    assert "123,456,789" in text
    assert "12,345,678" in text
    assert f"{unzipped:,}" in text
    assert "94,001,314" in text
    assert "MiB" in text
    assert f"{unzipped / MIB:.2f}" in text
    for line in lines:
        assert "MB" not in line, line


def test_report_gate_lines_name_the_status_used_and_limit() -> None:
    lines = format_report(COMPONENTS, evaluate(1_000, 0, 900), 500, LARGEST)
    gate_lines = [line for line in lines if "gate" in line or "limit (function" in line]
    assert any(line.startswith("FAIL") and "1,000 of 900 bytes" in line for line in gate_lines)
    assert any(line.startswith("ok") and f"1,000 of {LAMBDA_UNZIPPED_LIMIT:,} bytes" in line for line in gate_lines)


def test_report_lists_largest_contributors_only_when_a_gate_fails() -> None:
    passing = "\n".join(format_report(COMPONENTS, evaluate(1_000, 0, 10_000), 500, LARGEST))
    assert "largest contributors" not in passing
    assert "botocore/data/s3/service-2.json.gz" not in passing
    failing = "\n".join(format_report(COMPONENTS, evaluate(1_000, 0, 999), 500, LARGEST))
    assert "largest contributors" in failing
    assert "botocore/data/s3/service-2.json.gz" in failing
    assert "1,234,567 bytes" in failing


def test_report_warns_when_the_zip_is_too_big_for_direct_upload() -> None:
    small = "\n".join(format_report(COMPONENTS, evaluate(1, 0, 10), 52_428_800, LARGEST))
    big = "\n".join(format_report(COMPONENTS, evaluate(1, 0, 10), 52_428_801, LARGEST))
    assert "fits the 52,428,800-byte (50 MiB) direct-upload limit" in small
    assert "exceeds" in big
    assert "S3" in big


# --- run_size_gate on a real zip ---------------------------------------------------------------------------------


def test_run_size_gate_passes_with_a_generous_gate(tiny_zip: Path) -> None:
    out = io.StringIO()
    assert run_size_gate(tiny_zip, gate_mib=None, layers_bytes=0, out=out, reporter=SilentReporter()) == 0
    text = out.getvalue()
    assert "FAILED" not in text
    assert "largest contributors" not in text
    assert f"{_unzipped_total(tiny_zip):,}" in text


def test_run_size_gate_fails_below_the_zip_size_naming_the_largest_file(tiny_zip: Path) -> None:
    unzipped = _unzipped_total(tiny_zip)
    out = io.StringIO()
    gate_mib = (unzipped - 1) / MIB
    assert run_size_gate(tiny_zip, gate_mib=gate_mib, layers_bytes=0, out=out, reporter=SilentReporter()) == 1
    text = out.getvalue()
    assert "FAILED" in text
    assert BIG in text.rsplit("FAILED", 1)[1]
    assert f"{BIG_SIZE:,} bytes" in text


def test_run_size_gate_passes_with_the_gate_exactly_at_the_size(tiny_zip: Path) -> None:
    unzipped = _unzipped_total(tiny_zip)
    out = io.StringIO()
    assert run_size_gate(tiny_zip, gate_mib=unzipped / MIB, layers_bytes=0, out=out, reporter=SilentReporter()) == 0


def test_run_size_gate_fails_when_layers_exceed_the_lambda_limit(tiny_zip: Path) -> None:
    out = io.StringIO()
    code = run_size_gate(
        tiny_zip, gate_mib=None, layers_bytes=LAMBDA_UNZIPPED_LIMIT, out=out, reporter=SilentReporter()
    )
    assert code == 1
    assert "FAILED: over 1 gate(s)" in out.getvalue()


def test_run_size_gate_warns_through_the_reporter_near_the_gate(tiny_zip: Path) -> None:
    unzipped = _unzipped_total(tiny_zip)
    out, log = io.StringIO(), io.StringIO()
    gate_mib = unzipped / 0.95 / MIB
    assert run_size_gate(tiny_zip, gate_mib=gate_mib, layers_bytes=0, out=out, reporter=ConsoleReporter(log)) == 0
    assert log.getvalue().startswith("WARNING in-house unzipped gate is at 95.0%")


def test_measure_counts_components_from_the_manifest(tiny_zip: Path) -> None:
    components, files, zipped = measure(tiny_zip)
    by_name = {c.name: c for c in components}
    assert by_name["chromium"].entries == 1
    assert by_name["chromium"].unzipped == BIG_SIZE
    assert by_name["ffmpeg"].entries == 0
    assert zipped == tiny_zip.stat().st_size
    assert (BIG, BIG_SIZE) in files


def test_missing_zip_raises_artifact_error(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="no zip"):
        run_size_gate(
            tmp_path / "absent.zip", gate_mib=None, layers_bytes=0, out=io.StringIO(), reporter=SilentReporter()
        )


def test_zip_without_manifest_raises_artifact_error(tiny_zip: Path) -> None:
    manifest_path_for(tiny_zip).unlink()
    with pytest.raises(ArtifactError, match="no manifest"):
        run_size_gate(tiny_zip, gate_mib=None, layers_bytes=0, out=io.StringIO(), reporter=SilentReporter())


def test_zero_gate_fails_the_gate_instead_of_crashing(tiny_zip: Path) -> None:
    out = io.StringIO()
    assert run_size_gate(tiny_zip, gate_mib=0, layers_bytes=0, out=out, reporter=SilentReporter()) == 1
    assert "FAILED" in out.getvalue()
