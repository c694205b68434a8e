"""`size_gate` on the real artifact: the table users read, and failure over a gate."""

from __future__ import annotations

import zipfile

import pytest

from tests.integration.conftest import Built, run_bundler

pytestmark = pytest.mark.slow


def test_real_zip_passes_lambda_limits_with_a_component_table(built: Built) -> None:
    result = run_bundler("size-gate", "--zip", str(built.zip_path))
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["component", "files", "unzipped", "bytes", "MiB", "zipped", "bytes", "MiB"]
    assert [line.split()[0] for line in lines[1:7]] == [
        "chromium",
        "ffmpeg",
        "python-deps",
        "handler",
        "other",
        "total",
    ]
    with zipfile.ZipFile(built.zip_path) as archive:
        unzipped = sum(info.file_size for info in archive.infolist())
    total = lines[6].split()
    assert int(total[2].replace(",", "")) == unzipped
    assert any(line.startswith("ok    Lambda unzipped limit") and "of 262,144,000 bytes" in line for line in lines)
    assert " MB" not in result.stdout


def test_gate_below_the_zip_size_fails_naming_the_largest_contributors(built: Built) -> None:
    result = run_bundler("size-gate", "--zip", str(built.zip_path), "--gate-mib", "50")
    assert result.returncode == 1
    assert "FAIL  in-house unzipped gate" in result.stdout
    assert "largest contributors:" in result.stdout
    assert (
        result.stdout.strip()
        .splitlines()[-1]
        .startswith("FAILED: over 1 gate(s); largest contributors: bin/chromium/chromium.zst")
    )


def test_declared_layers_count_toward_lambdas_cap(built: Built) -> None:
    result = run_bundler("size-gate", "--zip", str(built.zip_path), "--layers-bytes", "200000000")
    assert result.returncode == 1
    assert "FAIL  Lambda unzipped limit (function + layers)" in result.stdout


def test_warns_from_ninety_percent_of_a_gate(built: Built) -> None:
    with zipfile.ZipFile(built.zip_path) as archive:
        unzipped = sum(info.file_size for info in archive.infolist())
    gate_mib = unzipped / 0.95 / (1 << 20)
    result = run_bundler("size-gate", "--zip", str(built.zip_path), "--gate-mib", f"{gate_mib:.3f}")
    assert result.returncode == 0
    assert "WARN  in-house unzipped gate" in result.stdout
    assert "WARNING in-house unzipped gate is at 95.0%" in result.stderr
