"""Check that ELF files fit a Lambda runtime: architecture and glibc symbol versions.

Only the parts of an ELF file the check needs are parsed (header, program and
section headers, the dynamic section and the GNU version-requirement table),
with ``struct`` alone, so the gate needs no binutils on the build machine.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

from bundler.errors import BundlerError

ELF_MAGIC = b"\x7fELF"

_MACHINES = {3: "i386", 40: "arm", 62: "x86_64", 183: "aarch64"}
# Lambda names its architectures x86_64 and arm64; accept Debian-style names too.
_ARCH_ALIASES = {"amd64": "x86_64", "arm64": "aarch64"}
# Both Lambda architectures are 64-bit; a 32-bit x86_64 (x32) ELF would not run.
_ARCH_BITS = {"x86_64": 64, "aarch64": 64, "i386": 32, "arm": 32}

_PT_LOAD = 1
_PT_DYNAMIC = 2
_SHT_DYNAMIC = 6
_SHT_GNU_VERNEED = 0x6FFFFFFE
_DT_NULL = 0
_DT_NEEDED = 1
_DT_STRTAB = 5
_DT_STRSZ = 10
_DT_SONAME = 14
_DT_RPATH = 15
_DT_RUNPATH = 29
_DT_VERNEED = 0x6FFFFFFE
_DT_VERNEEDNUM = 0x6FFFFFFF

_GLIBC_VERSION = re.compile(r"GLIBC_([0-9]+(?:\.[0-9]+)*)")
# Marker versions carry no number but still need a minimum glibc: ld.so before
# 2.36 cannot apply DT_RELR relocations, and this node makes it refuse the file.
_GLIBC_MARKERS = {"GLIBC_ABI_DT_RELR": (2, 36)}


class ElfParseError(BundlerError):
    """A file that should be ELF is truncated or malformed."""

    hint = "the file is truncated or not a valid ELF; remove it from the cache and fetch it again"


def is_elf(head: bytes) -> bool:
    """Return True when ``head`` starts with the ELF magic."""
    return head.startswith(ELF_MAGIC)


@dataclass(frozen=True)
class ElfInfo:
    """What the fit check needs to know about one ELF file."""

    machine: str
    bits: int
    glibc_required: tuple[int, ...] | None
    needed: tuple[str, ...]
    soname: str | None = None
    # DT_RUNPATH (or the older DT_RPATH) directories, in order
    runpath: tuple[str, ...] = ()


# A string table as a (file offset, size) range.
_StrTab = tuple[int, int]


class _Reader:
    """Bounds-checked access to the file, so bad offsets become ElfParseError."""

    def __init__(self, data: bytes, is64: bool, endian: str) -> None:
        self.data = data
        self.is64 = is64
        self.endian = endian

    def unpack(self, fmt: str, offset: int, what: str) -> tuple[int, ...]:
        fmt = self.endian + fmt
        size = struct.calcsize(fmt)
        if offset < 0 or offset + size > len(self.data):
            raise ElfParseError(
                f"truncated or malformed: {what} at offset {offset} "
                f"runs past the end of the file ({len(self.data)} bytes)"
            )
        return struct.unpack_from(fmt, self.data, offset)

    def string(self, table: _StrTab, index: int) -> str:
        start, size = table
        end = self.data.find(b"\0", start + index, start + size) if 0 <= index < size else -1
        if end < 0:
            raise ElfParseError(f"string index {index} is outside its string table")
        return self.data[start + index : end].decode("utf-8", "replace")


def read_elf_info(data: bytes) -> ElfInfo:
    """Parse ``data`` as an ELF file; raise ElfParseError when it is not one."""
    if not is_elf(data):
        raise ElfParseError("not an ELF file (no \\x7fELF magic)")
    if len(data) < 16:
        raise ElfParseError(f"truncated: {len(data)} bytes is shorter than the ELF identification")
    bits = {1: 32, 2: 64}.get(data[4])
    endian = {1: "<", 2: ">"}.get(data[5])
    if bits is None:
        raise ElfParseError(f"unknown ELF class {data[4]}")
    if endian is None:
        raise ElfParseError(f"unknown ELF data encoding {data[5]}")
    r = _Reader(data, bits == 64, endian)

    header = r.unpack("HHIQQQIHHHHHH" if r.is64 else "HHIIIIIHHHHHH", 16, "ELF header")
    e_machine, phoff, shoff = header[1], header[4], header[5]
    phentsize, phnum, shentsize, shnum = header[8], header[9], header[10], header[11]

    segments = _program_headers(r, phoff, phentsize, phnum)
    sections = _section_headers(r, shoff, shentsize, shnum)
    loads = [(vaddr, off, size) for ptype, off, vaddr, size in segments if ptype == _PT_LOAD]

    dynamic = _dynamic_entries(r, segments, sections)
    values = dict(dynamic)
    dynstr: _StrTab | None = None
    if _DT_STRTAB in values:
        start = _file_offset(loads, values[_DT_STRTAB])
        dynstr = (start, min(values.get(_DT_STRSZ, len(data)), len(data) - start))

    needed_idx = [val for tag, val in dynamic if tag == _DT_NEEDED]
    if needed_idx and dynstr is None:
        raise ElfParseError("DT_NEEDED entries without a DT_STRTAB string table")
    needed = tuple(r.string(dynstr, i) for i in needed_idx) if dynstr is not None else ()
    soname = r.string(dynstr, values[_DT_SONAME]) if dynstr is not None and _DT_SONAME in values else None
    path_tag = _DT_RUNPATH if _DT_RUNPATH in values else _DT_RPATH
    runpath = r.string(dynstr, values[path_tag]) if dynstr is not None and path_tag in values else ""

    # Prefer .gnu.version_r; fall back to the dynamic section when section
    # headers were stripped, which is all the dynamic loader itself relies on.
    names: list[str] = []
    verneed = [s for s in sections if s[0] == _SHT_GNU_VERNEED]
    if verneed:
        _, offset, _, link, count = verneed[0]
        if link >= len(sections):
            raise ElfParseError(f"version requirements link to missing section {link}")
        names = _verneed_names(r, offset, count, (sections[link][1], sections[link][2]))
    elif _DT_VERNEED in values:
        if dynstr is None:
            raise ElfParseError("DT_VERNEED without a DT_STRTAB string table")
        offset = _file_offset(loads, values[_DT_VERNEED])
        names = _verneed_names(r, offset, values.get(_DT_VERNEEDNUM, 0), dynstr)

    versions = [v for v in map(_glibc_version, names) if v is not None]
    return ElfInfo(
        machine=_MACHINES.get(e_machine, f"e_machine={e_machine}"),
        bits=bits,
        glibc_required=max(versions) if versions else None,
        needed=needed,
        soname=soname,
        runpath=tuple(p for p in runpath.split(":") if p),
    )


def check_elf(path: str, data: bytes, *, arch: str, max_glibc: tuple[int, int]) -> list[tuple[str, str]]:
    """Return problems as (path, reason) pairs; empty when the file fits.

    reason examples: "built for aarch64, target is x86_64",
    "needs GLIBC_2.35, target runtime has glibc 2.34".
    A file that cannot be parsed is a problem too ("unreadable ELF: ...").
    """
    try:
        info = read_elf_info(data)
    except ElfParseError as exc:
        return [(path, f"unreadable ELF: {exc}")]
    problems: list[tuple[str, str]] = []
    target = _ARCH_ALIASES.get(arch, arch)
    if info.machine != target:
        problems.append((path, f"built for {info.machine}, target is {arch}"))
    elif info.bits != _ARCH_BITS.get(target, info.bits):
        problems.append((path, f"built as {info.bits}-bit {info.machine}, target is {arch}"))
    if info.glibc_required is not None and info.glibc_required > max_glibc:
        needs = ".".join(map(str, info.glibc_required))
        has = ".".join(map(str, max_glibc))
        problems.append((path, f"needs GLIBC_{needs}, target runtime has glibc {has}"))
    return problems


def _program_headers(r: _Reader, phoff: int, phentsize: int, phnum: int) -> list[tuple[int, int, int, int]]:
    """Return (p_type, p_offset, p_vaddr, p_filesz) for each program header."""
    fmt = "IIQQQQQQ" if r.is64 else "IIIIIIII"
    if phnum and phentsize < struct.calcsize(r.endian + fmt):
        raise ElfParseError(f"program header entry size {phentsize} is too small")
    out = []
    for i in range(phnum):
        ph = r.unpack(fmt, phoff + i * phentsize, f"program header {i}")
        # The 64-bit layout moves p_flags up to second place.
        if r.is64:
            out.append((ph[0], ph[2], ph[3], ph[5]))
        else:
            out.append((ph[0], ph[1], ph[2], ph[4]))
    return out


def _section_headers(r: _Reader, shoff: int, shentsize: int, shnum: int) -> list[tuple[int, int, int, int, int]]:
    """Return (sh_type, sh_offset, sh_size, sh_link, sh_info) for each section."""
    if shoff == 0:
        return []
    fmt = "IIQQQQIIQQ" if r.is64 else "IIIIIIIIII"
    if shnum and shentsize < struct.calcsize(r.endian + fmt):
        raise ElfParseError(f"section header entry size {shentsize} is too small")
    out = []
    for i in range(shnum):
        sh = r.unpack(fmt, shoff + i * shentsize, f"section header {i}")
        out.append((sh[1], sh[4], sh[5], sh[6], sh[7]))
    return out


def _dynamic_entries(
    r: _Reader,
    segments: list[tuple[int, int, int, int]],
    sections: list[tuple[int, int, int, int, int]],
) -> list[tuple[int, int]]:
    """Return (d_tag, d_val) pairs up to DT_NULL; empty for static files."""
    ranges = [(off, size) for stype, off, size, _, _ in sections if stype == _SHT_DYNAMIC]
    ranges += [(off, size) for ptype, off, _, size in segments if ptype == _PT_DYNAMIC]
    if not ranges:
        return []
    start, size = ranges[0]
    fmt, step = ("qQ", 16) if r.is64 else ("iI", 8)
    entries = []
    for pos in range(start, start + size - step + 1, step):
        tag, val = r.unpack(fmt, pos, "dynamic entry")
        if tag == _DT_NULL:
            break
        entries.append((tag, val))
    return entries


def _file_offset(loads: list[tuple[int, int, int]], addr: int) -> int:
    """Map a virtual address to a file offset through the PT_LOAD segments."""
    for vaddr, offset, filesz in loads:
        if vaddr <= addr < vaddr + filesz:
            return offset + addr - vaddr
    raise ElfParseError(f"address {addr:#x} is not inside any loadable segment")


def _verneed_names(r: _Reader, offset: int, count: int, strtab: _StrTab) -> list[str]:
    """Return every version name (vna_name) in a verneed chain."""
    names = []
    for _ in range(count):
        _, cnt, _, aux, next_need = r.unpack("HHIII", offset, "version requirement")
        pos = offset + aux
        for _ in range(cnt):
            _, _, _, name, next_aux = r.unpack("IHHII", pos, "version requirement entry")
            names.append(r.string(strtab, name))
            if next_aux == 0:
                break
            pos += next_aux
        if next_need == 0:
            break
        offset += next_need
    return names


def _glibc_version(name: str) -> tuple[int, ...] | None:
    """Parse "GLIBC_2.3.4" as (2, 3, 4); None for GLIBC_PRIVATE, GCC_*, etc."""
    if name in _GLIBC_MARKERS:
        return _GLIBC_MARKERS[name]
    match = _GLIBC_VERSION.fullmatch(name)
    return tuple(int(p) for p in match.group(1).split(".")) if match else None
