"""Tests for bundler.sonames on a small program and two shared libraries compiled here."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bundler.elf import read_elf_info
from bundler.sonames import GLIBC_SONAMES, needed_closure
from tests.conftest import require_tool

pytestmark = pytest.mark.needs_gcc

LIB_B = "int b(void) { return 2; }\n"
LIB_A = "int b(void);\nint a(void) { return b() + 1; }\n"
PROG = "#include <math.h>\nint a(void);\nint main(int c, char **v) { (void)v; return a() + (int)sqrt((double)c); }\n"


def _gcc(tmp_path: Path, name: str, source: str, *flags: str) -> Path:
    gcc = require_tool("gcc")
    src = tmp_path / f"{name}.c"
    src.write_text(source)
    out = tmp_path / name
    result = subprocess.run([gcc, "-O0", "-o", str(out), str(src), *flags], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture
def libraries(tmp_path: Path) -> dict[str, bytes]:
    """prog -> liba.so.1 (RUNPATH $ORIGIN/sub) -> libb.so.1, and prog -> libm, libc."""
    lib_b = _gcc(tmp_path, "libb.so.1", LIB_B, "-shared", "-fPIC", "-Wl,-soname,libb.so.1")
    lib_a = _gcc(
        tmp_path,
        "liba.so.1",
        LIB_A,
        "-shared",
        "-fPIC",
        "-Wl,-soname,liba.so.1",
        "-Wl,--enable-new-dtags,-rpath,$ORIGIN/sub",
        str(lib_b),
    )
    prog = _gcc(tmp_path, "prog", PROG, str(lib_a), f"-Wl,-rpath-link,{tmp_path}", "-lm")
    return {"prog": prog.read_bytes(), "liba.so.1": lib_a.read_bytes(), "libb.so.1": lib_b.read_bytes()}


def test_elf_reports_soname_and_runpath(libraries: dict[str, bytes]) -> None:
    info = read_elf_info(libraries["liba.so.1"])
    assert info.soname == "liba.so.1"
    assert info.runpath == ("$ORIGIN/sub",)
    assert info.needed[0] == "libb.so.1"
    assert read_elf_info(libraries["prog"]).soname is None


def test_closure_follows_needed_transitively_and_leaves_glibc_out(libraries: dict[str, bytes]) -> None:
    asked: list[tuple[str, str]] = []

    def find(soname: str, wanted_by: str) -> bytes | None:
        asked.append((soname, wanted_by))
        return libraries.get(soname)

    closure = needed_closure({"prog": libraries["prog"]}, find)
    assert dict(closure.found) == {"liba.so.1": "prog", "libb.so.1": "liba.so.1"}
    assert closure.missing == {}
    assert ("libb.so.1", "liba.so.1") in asked, "the finder learns who needs each soname"
    assert not {soname for soname, _ in asked} & GLIBC_SONAMES, "glibc's libraries are never looked up"


def test_closure_names_what_is_missing_and_who_needs_it(libraries: dict[str, bytes]) -> None:
    closure = needed_closure(
        {"prog": libraries["prog"]}, lambda soname, _by: libraries["liba.so.1"] if soname == "liba.so.1" else None
    )
    assert dict(closure.found) == {"liba.so.1": "prog"}
    assert closure.missing == {"libb.so.1": ("liba.so.1",)}


def test_closure_takes_dlopen_libraries_and_their_needs(libraries: dict[str, bytes]) -> None:
    closure = needed_closure({}, lambda soname, _by: libraries.get(soname), extra=("liba.so.1",))
    assert list(closure.found) == ["liba.so.1", "libb.so.1"]
