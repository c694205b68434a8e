"""`build --chrome-source headless-shell`: Debian's build, refused for Lambda's glibc, and the override."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from bundler.cache import default_cache_root
from bundler.lockfiles import HeadlessShellPin, load_artifacts_lock
from probes.probe import run_probe, unzip_artifact
from tests.conftest import require_tool
from tests.integration.conftest import StandinImage, run_bundler

pytestmark = pytest.mark.slow

OVERRIDE = "2.36"


@pytest.fixture(scope="module")
def pin() -> HeadlessShellPin:
    found = load_artifacts_lock().chromium_for("headless-shell")
    assert isinstance(found, HeadlessShellPin)
    require_tool("apt-get")  # a cold cache fetches the .deb files with it
    return found


@pytest.fixture(scope="module")
def overridden(pin: HeadlessShellPin, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("headless") / "handler.zip"
    cache = str(default_cache_root())
    result = run_bundler(
        "--cache-dir", cache, "build", "--chrome-source", "headless-shell", "--glibc", OVERRIDE, "-o", str(out)
    )
    assert result.returncode == 0, result.stderr
    assert f"WARNING --glibc {OVERRIDE}" in result.stderr
    assert "will NOT run on AWS Lambda's managed runtime" in result.stderr
    return out


def test_default_target_refuses_it_naming_the_binary_and_glibc(pin: HeadlessShellPin, tmp_path: Path) -> None:
    out = tmp_path / "handler.zip"
    result = run_bundler(
        "--cache-dir", str(default_cache_root()), "build", "--chrome-source", "headless-shell", "-o", str(out)
    )
    assert result.returncode == 2, result.stderr
    assert "ELF file(s) do not fit the target" in result.stderr
    assert (
        "  bin/chromium/chromium.zst (decompressed): needs GLIBC_2.35, target runtime has glibc 2.34" in result.stderr
    )
    hint = next(line for line in result.stderr.splitlines() if line.startswith("hint: "))
    assert "require glibc up to 2.36" in hint
    assert "python3.13 has glibc 2.34" in hint
    assert "--chrome-source sparticuz" in hint
    assert not out.exists()


def test_override_builds_a_zip_that_records_source_resources_and_override(
    pin: HeadlessShellPin, overridden: Path
) -> None:
    manifest = json.loads(overridden.with_name(overridden.name + ".manifest.json").read_text())
    assert manifest["chrome_source"] == "headless-shell"
    assert manifest["target"]["glibc"] == "2.34"
    assert manifest["target"]["glibc_override"] == OVERRIDE
    with zipfile.ZipFile(overridden) as archive:
        identity = json.loads(archive.read("bin/artifacts.json"))["chromium"]
        names = set(archive.namelist())
    assert identity["source"] == "headless-shell"
    assert identity["item"] == pin.item
    assert identity["version"] == pin.chromium_version
    assert "bin/chromium/resources/icudtl.dat" in identity["resources"]
    assert set(identity["resources"]) <= names
    assert {"bin/chromium/chromium.zst", "bin/chromium/lib/libnss3.so"} <= names
    assert not {n for n in names if n.startswith("bin/chromium/lib/") and n.rpartition("/")[2].startswith("libc.so")}
    assert any(n.startswith("bin/chromium/fonts/") and n.endswith(".ttf") for n in names)


def test_lock_diff_passes_with_the_same_override_and_fails_without(overridden: Path) -> None:
    result = run_bundler("lock-diff", "--zip", str(overridden), "--glibc", OVERRIDE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"matches the lockfiles for python3.13 on x86_64 (ELF files checked against glibc {OVERRIDE})" in (
        result.stdout
    )
    strict = run_bundler("lock-diff", "--zip", str(overridden))
    assert strict.returncode == 1
    assert "bin/chromium/chromium.zst (decompressed)" in strict.stdout
    assert "needs GLIBC_2.35" in strict.stdout


@pytest.mark.docker
def test_probe_passes_on_the_overridden_zip_in_the_standin_image(
    pin: HeadlessShellPin, overridden: Path, standin_image: StandinImage, tmp_path: Path
) -> None:
    # The stand-in for python3.13 is Debian trixie (glibc 2.41): newer than the override, so the binary can load.
    tmp_path.chmod(0o755)
    task_dir = tmp_path / "task"
    unzip_artifact(overridden, task_dir)
    outcome = run_probe(task_dir, standin_image.tag)
    assert outcome.exit_code == 0, outcome.stderr_tail
    result = outcome.result
    assert result is not None and result["ok"] is True, result
    assert result["chrome_version"] == f"HeadlessChrome/{pin.chromium_version}"
    assert all(check["ok"] for check in result["checks"])
