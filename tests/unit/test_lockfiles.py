"""Tests for bundler.lockfiles: the committed locks, and malformed ones written to tmp_path."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bundler.errors import LockfileError
from bundler.lockfiles import (
    LOCK_DIR,
    ArtifactsLock,
    HeadlessShellPin,
    load_artifacts_lock,
    load_runtime_lock,
)
from bundler.targets import Target

HEX64 = re.compile(r"^[0-9a-f]{64}$")
RUNTIME_LOCK_NAME = "runtime-python3.13-x86_64.toml"
SHA_A = "a" * 64
SHA_B = "b" * 64

VALID_RUNTIME = f"""\
runtime = "python3.13"
arch = "x86_64"
glibc = "2.34"

[[wheel]]
name = "demo"
version = "1.0"
filename = "demo-1.0-py3-none-any.whl"
sha256 = "{SHA_A}"
record_sha256 = "{SHA_B}"
"""

FFMPEG_TABLE = f"""\
[ffmpeg]
package = "imageio-ffmpeg"
version = "0.7.0"
filename = "imageio_ffmpeg-0.7.0-py3-none-manylinux2014_x86_64.whl"
sha256 = "{SHA_A}"
binary = "imageio_ffmpeg/binaries/ffmpeg"
binary_sha256 = "{SHA_B}"
ffmpeg_version = "7.0.2-static"
"""

SPARTICUZ_TABLE = f"""\
[chromium.sparticuz]
package = "@sparticuz/chromium"
version = "1.0.0"
chromium_version = "1.0.0.0"
integrity = "sha512-AAAA"

[chromium.sparticuz.package_files]
"bin/chromium.br" = "{SHA_A}"

[chromium.sparticuz.contents]
"chromium" = "{SHA_B}"
"""

IMAGE_TABLE = """\
[image."python3.13"]
reference = "public.ecr.aws/lambda/python:3.13"
digest = ""
"""


def _runtime_lock_in(tmp_path: Path, text: str) -> Path:
    (tmp_path / RUNTIME_LOCK_NAME).write_text(text, encoding="utf-8")
    return tmp_path


def _artifacts_lock_in(tmp_path: Path, text: str) -> Path:
    (tmp_path / "artifacts.toml").write_text(text, encoding="utf-8")
    return tmp_path


# --- the committed lockfiles -------------------------------------------------------------------------------------


def test_committed_runtime_lock_pins_boto3_and_backports_zstd_by_sha256() -> None:
    lock = load_runtime_lock(Target.parse())
    assert lock.target == Target.parse()
    wheels = {w.name: w for w in lock.wheels}
    for name in ("boto3", "backports-zstd"):
        assert name in wheels, f"{name} is not pinned"
        wheel = wheels[name]
        assert wheel.version
        assert HEX64.match(wheel.sha256), wheel.sha256
        assert HEX64.match(wheel.record_sha256), wheel.record_sha256
        assert wheel.filename.endswith(".whl")


def test_committed_runtime_lock_lists_wheels_sorted_by_name() -> None:
    names = [w.name for w in load_runtime_lock(Target.parse()).wheels]
    assert names == sorted(names)


def test_committed_botocore_prunes_service_data_but_keeps_s3_and_endpoints() -> None:
    botocore = {w.name: w for w in load_runtime_lock(Target.parse()).wheels}["botocore"]
    assert botocore.prune
    assert botocore.is_pruned("botocore/data/ec2/2016-11-15/service-2.json.gz")
    assert not botocore.is_pruned("botocore/data/s3/2006-03-01/service-2.json.gz")
    assert not botocore.is_pruned("botocore/data/endpoints.json")
    assert not botocore.is_pruned("botocore/client.py")


def test_committed_artifacts_lock_loads_with_hashes() -> None:
    lock = load_artifacts_lock()
    assert HEX64.match(lock.ffmpeg.sha256)
    assert HEX64.match(lock.ffmpeg.binary_sha256)
    assert lock.chromium, "no chromium source is pinned"
    for pin in lock.chromium.values():
        if isinstance(pin, HeadlessShellPin):
            assert all(HEX64.match(deb.sha256) for deb in pin.debs)
            assert set(pin.origins) == set(pin.contents)
        else:
            assert pin.integrity.startswith("sha512-")
            assert all(HEX64.match(h) for h in pin.package_files.values())
        assert all(HEX64.match(h) for h in pin.contents.values())


def test_committed_headless_shell_pin_takes_the_binary_and_no_glibc_library() -> None:
    pin = load_artifacts_lock().chromium_for("headless-shell")
    assert isinstance(pin, HeadlessShellPin)
    assert pin.item == f"chromium:chromium-headless-shell={pin.version}"
    assert pin.origins["chromium"].startswith("chromium-headless-shell:")
    assert "libc6" not in {deb.name for deb in pin.debs}
    assert not [p for p in pin.contents if p.startswith(("lib/libc.so", "lib/libm.so", "lib/ld-linux"))]
    assert {"chromium-headless-shell", "chromium-common", "libnss3"} <= {deb.name for deb in pin.debs}


def test_committed_lockfiles_hold_no_urls() -> None:
    files = sorted(p for p in LOCK_DIR.iterdir() if p.is_file())
    assert files, f"no lockfiles under {LOCK_DIR}"
    for path in files:
        text = path.read_text(encoding="utf-8")
        for scheme in ("http://", "https://", "://"):
            assert scheme not in text, f"{path.name} contains {scheme!r}"


def test_image_references_name_a_repository_without_a_scheme() -> None:
    text = (LOCK_DIR / "artifacts.toml").read_text(encoding="utf-8")
    references = [line for line in text.splitlines() if line.startswith("reference")]
    assert references, "artifacts.toml names no container image"
    for line in references:
        assert "://" not in line, line
    for image in load_artifacts_lock().images.values():
        assert "://" not in image.pinned
        assert "/" in image.reference


# --- malformed runtime locks -------------------------------------------------------------------------------------


def test_valid_runtime_lock_in_another_directory_loads(tmp_path: Path) -> None:
    lock = load_runtime_lock(Target.parse(), _runtime_lock_in(tmp_path, VALID_RUNTIME))
    (wheel,) = lock.wheels
    assert (wheel.name, wheel.version, wheel.sha256, wheel.record_sha256) == ("demo", "1.0", SHA_A, SHA_B)
    assert wheel.item == "wheel:demo==1.0"
    assert (wheel.prune, wheel.keep) == ((), ())


def test_runtime_lock_missing_a_field_names_the_file_and_field(tmp_path: Path) -> None:
    text = VALID_RUNTIME.replace(f'record_sha256 = "{SHA_B}"\n', "")
    with pytest.raises(LockfileError) as caught:
        load_runtime_lock(Target.parse(), _runtime_lock_in(tmp_path, text))
    message = str(caught.value)
    assert RUNTIME_LOCK_NAME in message
    assert "wheel #1" in message
    assert "record_sha256" in message


@pytest.mark.parametrize("bad", ["abc", SHA_A.upper(), SHA_A + "0", "sha256:" + SHA_A])
def test_runtime_lock_with_a_bad_hash_names_the_file_and_field(tmp_path: Path, bad: str) -> None:
    text = VALID_RUNTIME.replace(f'sha256 = "{SHA_A}"', f'sha256 = "{bad}"')
    with pytest.raises(LockfileError) as caught:
        load_runtime_lock(Target.parse(), _runtime_lock_in(tmp_path, text))
    message = str(caught.value)
    assert RUNTIME_LOCK_NAME in message
    assert "`sha256`" in message
    assert bad in message


def test_runtime_lock_for_another_runtime_is_refused(tmp_path: Path) -> None:
    text = VALID_RUNTIME.replace('runtime = "python3.13"', 'runtime = "python3.12"')
    with pytest.raises(LockfileError) as caught:
        load_runtime_lock(Target.parse(), _runtime_lock_in(tmp_path, text))
    message = str(caught.value)
    assert RUNTIME_LOCK_NAME in message
    assert "python3.12" in message
    assert "python3.13" in message


def test_runtime_lock_for_another_arch_is_refused(tmp_path: Path) -> None:
    text = VALID_RUNTIME.replace('arch = "x86_64"', 'arch = "aarch64"')
    with pytest.raises(LockfileError, match="aarch64"):
        load_runtime_lock(Target.parse(), _runtime_lock_in(tmp_path, text))


def test_runtime_lock_that_is_not_toml_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(LockfileError) as caught:
        load_runtime_lock(Target.parse(), _runtime_lock_in(tmp_path, VALID_RUNTIME + "[[wheel]\nname = \n"))
    message = str(caught.value)
    assert RUNTIME_LOCK_NAME in message
    assert "not valid TOML" in message


def test_missing_runtime_lock_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(LockfileError) as caught:
        load_runtime_lock(Target.parse("python3.11"), tmp_path)
    assert "runtime-python3.11-x86_64.toml" in str(caught.value)
    assert "does not exist" in str(caught.value)


def test_runtime_lock_without_wheels_is_refused(tmp_path: Path) -> None:
    text = VALID_RUNTIME.split("[[wheel]]", maxsplit=1)[0]
    with pytest.raises(LockfileError, match="pins no wheels"):
        load_runtime_lock(Target.parse(), _runtime_lock_in(tmp_path, text))


def test_runtime_lock_with_non_string_globs_is_refused(tmp_path: Path) -> None:
    text = VALID_RUNTIME + "prune = [1]\n"
    with pytest.raises(LockfileError) as caught:
        load_runtime_lock(Target.parse(), _runtime_lock_in(tmp_path, text))
    assert "`prune`" in str(caught.value)


def test_keep_wins_over_prune(tmp_path: Path) -> None:
    text = VALID_RUNTIME + 'prune = ["demo/data/*"]\nkeep = ["demo/data/keep*"]\n'
    (wheel,) = load_runtime_lock(Target.parse(), _runtime_lock_in(tmp_path, text)).wheels
    assert wheel.is_pruned("demo/data/big.json")
    assert not wheel.is_pruned("demo/data/keep.json")
    assert not wheel.is_pruned("demo/__init__.py")


# --- malformed artifacts locks -----------------------------------------------------------------------------------


def test_valid_artifacts_lock_in_another_directory_loads(tmp_path: Path) -> None:
    lock = load_artifacts_lock(_artifacts_lock_in(tmp_path, SPARTICUZ_TABLE + FFMPEG_TABLE + IMAGE_TABLE))
    assert lock.chromium_for("sparticuz").contents == {"chromium": SHA_B}
    assert lock.ffmpeg.item == "ffmpeg:imageio-ffmpeg==0.7.0"
    assert lock.images["python3.13"].pinned == "public.ecr.aws/lambda/python:3.13"


def test_artifacts_lock_with_unknown_chromium_source_is_refused(tmp_path: Path) -> None:
    text = SPARTICUZ_TABLE + SPARTICUZ_TABLE.replace("chromium.sparticuz", "chromium.firefox") + FFMPEG_TABLE
    with pytest.raises(LockfileError) as caught:
        load_artifacts_lock(_artifacts_lock_in(tmp_path, text))
    message = str(caught.value)
    assert "artifacts.toml" in message
    assert "firefox" in message


def test_artifacts_lock_without_ffmpeg_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LockfileError) as caught:
        load_artifacts_lock(_artifacts_lock_in(tmp_path, SPARTICUZ_TABLE))
    assert "artifacts.toml" in str(caught.value)
    assert "[ffmpeg]" in str(caught.value)


def test_artifacts_lock_missing_an_ffmpeg_field_names_it(tmp_path: Path) -> None:
    text = SPARTICUZ_TABLE + FFMPEG_TABLE.replace('ffmpeg_version = "7.0.2-static"\n', "")
    with pytest.raises(LockfileError) as caught:
        load_artifacts_lock(_artifacts_lock_in(tmp_path, text))
    message = str(caught.value)
    assert "artifacts.toml [ffmpeg]" in message
    assert "ffmpeg_version" in message


def test_artifacts_lock_with_a_bad_content_hash_names_the_table(tmp_path: Path) -> None:
    text = SPARTICUZ_TABLE.replace(f'"chromium" = "{SHA_B}"', '"chromium" = "nothex"') + FFMPEG_TABLE
    with pytest.raises(LockfileError) as caught:
        load_artifacts_lock(_artifacts_lock_in(tmp_path, text))
    message = str(caught.value)
    assert "artifacts.toml [chromium.sparticuz].contents" in message
    assert "nothex" in message


def test_artifacts_lock_with_empty_package_files_is_refused(tmp_path: Path) -> None:
    text = SPARTICUZ_TABLE.replace(f'"bin/chromium.br" = "{SHA_A}"\n', "") + FFMPEG_TABLE
    with pytest.raises(LockfileError, match="package_files"):
        load_artifacts_lock(_artifacts_lock_in(tmp_path, text))


def test_artifacts_lock_that_is_not_toml_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(LockfileError) as caught:
        load_artifacts_lock(_artifacts_lock_in(tmp_path, "[ffmpeg\n"))
    assert "artifacts.toml" in str(caught.value)
    assert "not valid TOML" in str(caught.value)


def test_chromium_for_an_unpinned_source_tells_to_run_nox_lock(tmp_path: Path) -> None:
    lock = load_artifacts_lock(_artifacts_lock_in(tmp_path, SPARTICUZ_TABLE + FFMPEG_TABLE))
    assert isinstance(lock, ArtifactsLock)
    with pytest.raises(LockfileError) as caught:
        lock.chromium_for("headless-shell")
    message = str(caught.value)
    assert "nox -s lock" in message
    assert "headless-shell" in message


def test_chromium_for_an_unknown_source_is_refused(tmp_path: Path) -> None:
    lock = load_artifacts_lock(_artifacts_lock_in(tmp_path, SPARTICUZ_TABLE + FFMPEG_TABLE))
    with pytest.raises(LockfileError, match="unknown chrome source"):
        lock.chromium_for("firefox")
