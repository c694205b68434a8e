"""Tests for bundler.elf against ELF files compiled on the spot with gcc."""

from __future__ import annotations

import os
import platform
import shutil
import struct
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from bundler.elf import (
    ELF_MAGIC,
    ElfInfo,
    ElfParseError,
    check_elf,
    is_elf,
    read_elf_info,
)
from bundler.errors import BundlerError
from tests.conftest import require_tool

HOST_ARCH = {"amd64": "x86_64", "arm64": "aarch64"}.get(platform.machine(), platform.machine())
OTHER_ARCH, OTHER_E_MACHINE = ("x86_64", 62) if HOST_ARCH == "aarch64" else ("aarch64", 183)

HELLO = '#include <stdio.h>\nint main(void) { puts("hello"); return 0; }\n'
# arc4random first appeared in glibc 2.36, so it binds to GLIBC_2.36.
ARC4RANDOM = "#include <stdlib.h>\nint main(void) { return (int)(arc4random() & 1u); }\n"
# A pointer initialised to an address gives a relative relocation to pack as DT_RELR.
RELR = '#include <stdio.h>\nstatic int x;\nint *p = &x;\nint main(void) { puts("hi"); return *p; }\n'

Compiler = Callable[..., Path]


def host_glibc() -> tuple[int, ...]:
    try:
        text = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (ValueError, OSError):
        text = ""
    name, _, version = text.partition(" ")
    return tuple(int(p) for p in version.split(".")) if name == "glibc" else ()


needs_glibc_2_36 = pytest.mark.skipif(host_glibc() < (2, 36), reason="arc4random@GLIBC_2.36 needs a host glibc >= 2.36")


@pytest.fixture
def cc(tmp_path: Path) -> Compiler:
    """Compile C source into tmp_path; skip (with the reason given) when gcc fails."""
    gcc = require_tool("gcc")  # fails under CI=true, where .ci/run installs it

    def build(source: str, *flags: str, name: str = "prog", skip_reason: str = "") -> Path:
        src = tmp_path / f"{name}.c"
        out = tmp_path / name
        src.write_text(source)
        proc = subprocess.run(
            [gcc, "-O0", "-o", str(out), str(src), *flags],
            check=False,
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            if skip_reason:
                pytest.skip(f"{skip_reason}: {proc.stderr.strip()[-300:]}")
            pytest.fail(f"gcc failed:\n{proc.stderr}")
        return out

    return build


def set_e_machine(data: bytes, machine: int) -> bytes:
    endian = "<" if data[5] == 1 else ">"
    return data[:18] + struct.pack(endian + "H", machine) + data[20:]


def drop_section_headers(path: Path) -> bytes:
    """Drop section headers with strip, or else zero e_shoff/e_shnum/e_shstrndx."""
    strip = shutil.which("strip")
    if strip is not None:
        stripped = path.with_name(path.name + ".nosh")
        proc = subprocess.run(
            [strip, "--strip-section-headers", "-o", str(stripped), str(path)],
            check=False,
            capture_output=True,
        )
        if proc.returncode == 0:
            return stripped.read_bytes()
    data = bytearray(path.read_bytes())
    assert data[4] == 2, "the fallback patch assumes a 64-bit ELF"
    endian = "<" if data[5] == 1 else ">"
    struct.pack_into(endian + "Q", data, 0x28, 0)  # e_shoff
    struct.pack_into(endian + "HH", data, 0x3C, 0, 0)  # e_shnum, e_shstrndx
    return bytes(data)


def elf32_big_endian_without_sections() -> bytes:
    """A minimal ELF32 MSB MIPS (e_machine 8) executable with program headers only."""
    base = 0x400000
    strtab = b"\0libc.so.6\0libgcc_s.so.1\0GLIBC_2.17\0GLIBC_2.4\0GLIBC_PRIVATE\0GCC_3.0\0"

    def name(s: bytes) -> int:
        return strtab.index(s + b"\0")

    str_off = 52 + 2 * 32
    vn_off = str_off + len(strtab)
    verneed = struct.pack(">HHIII", 1, 3, name(b"libc.so.6"), 16, 16 + 3 * 16)
    for i, v in enumerate((b"GLIBC_2.17", b"GLIBC_2.4", b"GLIBC_PRIVATE")):
        verneed += struct.pack(">IHHII", 0, 0, i + 2, name(v), 16 if i < 2 else 0)
    verneed += struct.pack(">HHIII", 1, 1, name(b"libgcc_s.so.1"), 16, 0)
    verneed += struct.pack(">IHHII", 0, 0, 5, name(b"GCC_3.0"), 0)
    dyn_off = vn_off + len(verneed)
    dynamic = b"".join(
        struct.pack(">iI", tag, val)
        for tag, val in (
            (1, name(b"libc.so.6")),
            (1, name(b"libgcc_s.so.1")),
            (5, base + str_off),
            (10, len(strtab)),
            (0x6FFFFFFE, base + vn_off),
            (0x6FFFFFFF, 2),
            (0, 0),
        )
    )
    size = dyn_off + len(dynamic)
    ident = ELF_MAGIC + bytes([1, 2, 1]) + bytes(9)
    header = ident + struct.pack(">HHIIIIIHHHHHH", 2, 8, 1, base, 52, 0, 0, 52, 32, 2, 40, 0, 0)
    phdrs = struct.pack(">IIIIIIII", 1, 0, base, base, size, size, 5, 0x1000)
    phdrs += struct.pack(">IIIIIIII", 2, dyn_off, base + dyn_off, 0, len(dynamic), 0, 6, 4)
    return header + phdrs + strtab + verneed + dynamic


def test_is_elf_recognises_the_magic_only_at_the_start() -> None:
    assert is_elf(ELF_MAGIC + b"\x02\x01")
    assert not is_elf(b"#!/bin/sh\n")
    assert not is_elf(b"x" + ELF_MAGIC)
    assert not is_elf(b"\x7fEL")


def test_parse_error_is_a_bundler_error_with_a_hint() -> None:
    assert issubclass(ElfParseError, BundlerError)
    assert ElfParseError.hint


def test_reads_machine_and_needed_libraries_of_a_system_binary() -> None:
    binary = Path("/usr/bin/ls")
    if not binary.exists():
        pytest.skip("/usr/bin/ls is not present")
    info = read_elf_info(binary.read_bytes())
    assert info.machine == HOST_ARCH
    assert info.bits == 64
    assert "libc.so.6" in info.needed
    assert info.glibc_required is not None


def test_accepts_hello_world_for_an_older_glibc_target(cc: Compiler) -> None:
    prog = cc(HELLO)
    info = read_elf_info(prog.read_bytes())
    assert info.needed == ("libc.so.6",)
    assert info.glibc_required is not None and info.glibc_required <= (2, 34)
    assert check_elf(str(prog), prog.read_bytes(), arch=HOST_ARCH, max_glibc=(2, 34)) == []


@needs_glibc_2_36
def test_refuses_symbol_version_newer_than_target(cc: Compiler) -> None:
    prog = cc(ARC4RANDOM)
    assert read_elf_info(prog.read_bytes()).glibc_required == (2, 36)
    problems = check_elf("bin/prog", prog.read_bytes(), arch=HOST_ARCH, max_glibc=(2, 34))
    assert problems == [("bin/prog", "needs GLIBC_2.36, target runtime has glibc 2.34")]


@needs_glibc_2_36
def test_accepts_symbol_version_equal_to_target(cc: Compiler) -> None:
    prog = cc(ARC4RANDOM)
    assert check_elf("prog", prog.read_bytes(), arch=HOST_ARCH, max_glibc=(2, 36)) == []


def test_dt_relr_marker_version_counts_as_glibc_2_36(cc: Compiler) -> None:
    prog = cc(
        RELR,
        "-fPIE",
        "-pie",
        "-Wl,-z,pack-relative-relocs",
        skip_reason="linker cannot emit DT_RELR (-z pack-relative-relocs)",
    )
    info = read_elf_info(prog.read_bytes())
    if info.glibc_required is None or info.glibc_required < (2, 36):
        pytest.skip("this toolchain did not add a GLIBC_ABI_DT_RELR requirement")
    problems = check_elf("prog", prog.read_bytes(), arch=HOST_ARCH, max_glibc=(2, 34))
    assert problems == [("prog", "needs GLIBC_2.36, target runtime has glibc 2.34")]


def test_static_binary_has_no_glibc_requirement(cc: Compiler) -> None:
    prog = cc(HELLO, "-static", skip_reason="gcc -static failed (no static libc installed?)")
    info = read_elf_info(prog.read_bytes())
    assert info == ElfInfo(machine=HOST_ARCH, bits=64, glibc_required=None, needed=())
    assert check_elf("prog", prog.read_bytes(), arch=HOST_ARCH, max_glibc=(2, 17)) == []


def test_refuses_binary_built_for_another_architecture(cc: Compiler) -> None:
    data = set_e_machine(cc(HELLO).read_bytes(), OTHER_E_MACHINE)
    assert read_elf_info(data).machine == OTHER_ARCH
    problems = check_elf("prog", data, arch=HOST_ARCH, max_glibc=(2, 34))
    assert problems == [("prog", f"built for {OTHER_ARCH}, target is {HOST_ARCH}")]


def test_accepts_lambda_arm64_as_a_name_for_aarch64(cc: Compiler) -> None:
    data = set_e_machine(cc(HELLO).read_bytes(), 183)
    assert check_elf("prog", data, arch="arm64", max_glibc=(2, 34)) == []
    assert check_elf("prog", data, arch="x86_64", max_glibc=(2, 34)) == [
        ("prog", "built for aarch64, target is x86_64")
    ]


def test_names_unknown_machines_by_number(cc: Compiler) -> None:
    data = set_e_machine(cc(HELLO).read_bytes(), 243)  # RISC-V
    assert read_elf_info(data).machine == "e_machine=243"


def test_reads_glibc_requirement_without_section_headers(cc: Compiler) -> None:
    prog = cc(ARC4RANDOM if host_glibc() >= (2, 36) else HELLO)
    original = read_elf_info(prog.read_bytes())
    stripped = drop_section_headers(prog)
    endian = "<" if stripped[5] == 1 else ">"
    e_shoff, e_shnum = (
        struct.unpack_from(endian + "Q", stripped, 0x28)[0],
        stripped[0x3C],
    )
    assert e_shoff == 0 or e_shnum == 0, "section headers are still present"
    info = read_elf_info(stripped)
    assert info == original
    assert info.glibc_required is not None
    assert "libc.so.6" in info.needed


def test_reads_32_bit_big_endian_elf_through_the_dynamic_section() -> None:
    info = read_elf_info(elf32_big_endian_without_sections())
    assert info == ElfInfo(
        machine="e_machine=8",
        bits=32,
        glibc_required=(2, 17),
        needed=("libc.so.6", "libgcc_s.so.1"),
    )


@pytest.mark.parametrize("keep", [4, 10, 40, 200, -1])
def test_truncated_file_is_a_parse_error_and_a_problem(cc: Compiler, keep: int) -> None:
    data = cc(HELLO).read_bytes()[:keep]
    with pytest.raises(ElfParseError):
        read_elf_info(data)
    [(path, reason)] = check_elf("prog", data, arch=HOST_ARCH, max_glibc=(2, 34))
    assert path == "prog"
    assert reason.startswith("unreadable ELF: ")


def test_non_elf_data_is_a_parse_error_and_a_problem() -> None:
    with pytest.raises(ElfParseError, match="not an ELF file"):
        read_elf_info(b"#!/bin/sh\necho hi\n")
    assert check_elf("run.sh", b"#!/bin/sh\n", arch="x86_64", max_glibc=(2, 34)) == [
        ("run.sh", "unreadable ELF: not an ELF file (no \\x7fELF magic)")
    ]


def test_unknown_elf_class_is_a_parse_error() -> None:
    with pytest.raises(ElfParseError, match="class"):
        read_elf_info(ELF_MAGIC + bytes([9, 1, 1]) + bytes(57))
