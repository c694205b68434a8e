"""Tests for bundler.targets: runtimes, architectures and the platform tags they allow."""

from __future__ import annotations

import re

import pytest

from bundler.errors import BundlerError
from bundler.targets import Target, UnknownTarget

MANYLINUX = re.compile(r"^manylinux_(\d+)_(\d+)_(x86_64|aarch64)$")


@pytest.mark.parametrize(
    ("runtime", "glibc"),
    [("python3.13", (2, 34)), ("python3.12", (2, 34)), ("python3.11", (2, 26))],
)
def test_runtime_maps_to_the_glibc_of_its_image(runtime: str, glibc: tuple[int, int]) -> None:
    assert Target.parse(runtime).glibc == glibc


def test_default_target_is_python313_on_x86_64() -> None:
    target = Target.parse()
    assert (target.runtime, target.arch) == ("python3.13", "x86_64")
    assert target.slug == "python3.13-x86_64"
    assert target.python_version == "3.13"
    assert target.abi == "cp313"


@pytest.mark.parametrize(("alias", "arch"), [("arm64", "aarch64"), ("amd64", "x86_64"), ("aarch64", "aarch64")])
def test_architecture_aliases_are_normalised(alias: str, arch: str) -> None:
    assert Target.parse("python3.13", alias).arch == arch


def test_arm64_target_uses_lambda_name_arm64() -> None:
    target = Target.parse("python3.12", "arm64")
    assert target.lambda_architecture == "arm64"
    assert target.slug == "python3.12-aarch64"
    assert Target.parse().lambda_architecture == "x86_64"


@pytest.mark.parametrize("runtime", ["python2.7", "nodejs20.x", "", "3.13"])
def test_unknown_runtime_is_refused(runtime: str) -> None:
    with pytest.raises(UnknownTarget, match="unknown runtime"):
        Target.parse(runtime)


@pytest.mark.parametrize("runtime", ["python3.10", "python3.9"])
def test_a_runtime_older_than_the_handlers_python_is_refused(runtime: str) -> None:
    with pytest.raises(
        UnknownTarget, match=rf"^runtime '{runtime}' is too old: the handler needs Python 3\.11 or newer$"
    ):
        Target.parse(runtime)
    assert "python3.10" not in UnknownTarget.hint


@pytest.mark.parametrize("arch", ["i386", "armv7l", "", "X86_64"])
def test_unknown_architecture_is_refused(arch: str) -> None:
    with pytest.raises(UnknownTarget, match="unknown architecture"):
        Target.parse("python3.13", arch)


def test_unknown_target_is_a_bundler_error_with_a_hint() -> None:
    assert issubclass(UnknownTarget, BundlerError)
    assert "python3.13" in UnknownTarget.hint
    assert "aarch64" in UnknownTarget.hint


@pytest.mark.parametrize("runtime", ["python3.11", "python3.12", "python3.13"])
@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_pip_platforms_are_newest_first_and_never_above_the_target_glibc(runtime: str, arch: str) -> None:
    target = Target.parse(runtime, arch)
    platforms = target.pip_platforms
    versions = []
    for tag in platforms[:-1]:
        match = MANYLINUX.match(tag)
        assert match, tag
        assert match.group(3) == arch
        versions.append((int(match.group(1)), int(match.group(2))))
    assert versions[0] == target.glibc
    assert versions == sorted(versions, reverse=True)
    assert all(v <= target.glibc for v in versions)
    assert versions[-1] == (2, 17)
    assert platforms[-1] == f"manylinux2014_{arch}"
    assert len(set(platforms)) == len(platforms)


def test_python311_platforms_stop_at_glibc_2_26() -> None:
    platforms = Target.parse("python3.11").pip_platforms
    assert "manylinux_2_26_x86_64" in platforms
    assert "manylinux2014_x86_64" in platforms
    for minor in range(27, 40):
        assert f"manylinux_2_{minor}_x86_64" not in platforms


def test_python313_platforms_include_glibc_2_34() -> None:
    platforms = Target.parse("python3.13").pip_platforms
    assert platforms[0] == "manylinux_2_34_x86_64"
    assert "manylinux_2_35_x86_64" not in platforms


@pytest.mark.parametrize(
    ("runtime", "arch", "platform"),
    [
        ("python3.11", "x86_64", "x86_64-manylinux_2_17"),
        ("python3.11", "arm64", "aarch64-manylinux_2_17"),
        ("python3.12", "x86_64", "x86_64-manylinux_2_34"),
        ("python3.13", "aarch64", "aarch64-manylinux_2_34"),
    ],
)
def test_uv_platform_is_the_newest_tag_not_above_the_glibc(runtime: str, arch: str, platform: str) -> None:
    assert Target.parse(runtime, arch).uv_platform == platform
