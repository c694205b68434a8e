"""`build --chrome-source headless-shell`: Debian's build, refused for Lambda's glibc, and the override."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest

from bundler.apt import served_versions
from bundler.cache import default_cache_root
from bundler.lockfiles import LOCK_DIR, HeadlessShellPin, load_artifacts_lock
from probes.probe import run_probe, unzip_artifact
from tests.conftest import require_tool
from tests.integration.conftest import StandinImage, run_bundler

pytestmark = pytest.mark.slow

OVERRIDE = "2.36"


def _pin_in(lock_dir: Path) -> HeadlessShellPin:
    found = load_artifacts_lock(lock_dir).chromium_for("headless-shell")
    assert isinstance(found, HeadlessShellPin)
    return found


@pytest.fixture(scope="module")
def lock_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The committed lockfiles while apt serves every pinned .deb; else a copy re-pinned to what it serves today.

    Debian replaces Chromium's version every few weeks and keeps no old ones, so the suite locks today's
    version the way a user would (`lock --only artifacts --repin-debian`) and tests the real mechanism on it.
    """
    require_tool("apt-get")  # a cold cache fetches the .deb files with it
    pin = _pin_in(LOCK_DIR)
    if all(deb.version in served_versions(deb.name) for deb in pin.debs):
        return LOCK_DIR
    copy = tmp_path_factory.mktemp("repinned") / "lockfiles"
    shutil.copytree(LOCK_DIR, copy)
    result = run_bundler(
        "--cache-dir",
        str(default_cache_root()),
        "--lock-dir",
        str(copy),
        "lock",
        "--only",
        "artifacts",
        "--repin-debian",
    )
    assert result.returncode == 0, result.stderr
    return copy


@pytest.fixture(scope="module")
def pin(lock_dir: Path) -> HeadlessShellPin:
    return _pin_in(lock_dir)


@pytest.fixture(scope="module")
def overridden(pin: HeadlessShellPin, lock_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("headless") / "handler.zip"
    cache = str(default_cache_root())
    result = run_bundler(
        "--cache-dir",
        cache,
        "--lock-dir",
        str(lock_dir),
        "build",
        "--chrome-source",
        "headless-shell",
        "--glibc",
        OVERRIDE,
        "-o",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    assert f"WARNING --glibc {OVERRIDE}" in result.stderr
    assert "will NOT run on AWS Lambda's managed runtime" in result.stderr
    return out


def test_default_target_refuses_it_naming_the_binary_and_glibc(
    pin: HeadlessShellPin, lock_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "handler.zip"
    result = run_bundler(
        "--cache-dir",
        str(default_cache_root()),
        "--lock-dir",
        str(lock_dir),
        "build",
        "--chrome-source",
        "headless-shell",
        "-o",
        str(out),
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


def test_lock_diff_passes_with_the_same_override_and_fails_without(overridden: Path, lock_dir: Path) -> None:
    result = run_bundler("--lock-dir", str(lock_dir), "lock-diff", "--zip", str(overridden), "--glibc", OVERRIDE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"matches the lockfiles for python3.13 on x86_64 (ELF files checked against glibc {OVERRIDE})" in (
        result.stdout
    )
    strict = run_bundler("--lock-dir", str(lock_dir), "lock-diff", "--zip", str(overridden))
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


GONE = "156.0.0.0-0~gone"


def test_a_pin_debian_no_longer_serves_is_one_error_with_both_ways_out(lock_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "lockfiles"
    shutil.copytree(lock_dir, copy)
    pin = _pin_in(lock_dir)
    lock = copy / "artifacts.toml"
    text = lock.read_text(encoding="utf-8")
    lock.write_text(
        text.replace(
            f'"chromium-headless-shell" = {{ "version" = "{pin.version}"',
            f'"chromium-headless-shell" = {{ "version" = "{GONE}"',
        ),
        encoding="utf-8",
    )
    assert lock.read_text(encoding="utf-8") != text
    result = run_bundler(
        "--cache-dir",
        str(tmp_path / "cache"),
        "--lock-dir",
        str(copy),
        "build",
        "--chrome-source",
        "headless-shell",
        "--glibc",
        OVERRIDE,
        "-o",
        str(tmp_path / "handler.zip"),
    )
    assert result.returncode == 2, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR ")]
    served = ", ".join(served_versions("chromium-headless-shell"))
    assert errors == [f"ERROR apt no longer serves chromium-headless-shell={GONE} (the lock's pin); it serves {served}"]
    hint = next(line for line in result.stderr.splitlines() if line.startswith("hint: "))
    assert "`nox -s lock -- --only artifacts --repin-debian`" in hint
    assert "RENDERZIP_DEBIAN_MIRROR=" in hint
