"""Check that ELF files fit a Lambda runtime: architecture and glibc symbol versions.

pyelftools reads the parts the check needs (the header, the dynamic table and the
GNU version requirements), so the gate needs no binutils on the build machine.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

from elftools.common.exceptions import ELFError
from elftools.common.utils import parse_cstring_from_stream, struct_parse
from elftools.construct import ConstructError
from elftools.elf.dynamic import DynamicSection, DynamicSegment, DynamicTag
from elftools.elf.elffile import ELFFile
from elftools.elf.enums import ENUM_E_MACHINE
from elftools.elf.gnuversions import GNUVerNeedSection

from bundler.errors import BundlerError

ELF_MAGIC = b"\x7fELF"

_MACHINES = {3: "i386", 40: "arm", 62: "x86_64", 183: "aarch64"}
# Lambda names its architectures x86_64 and arm64; accept Debian-style names too.
_ARCH_ALIASES = {"amd64": "x86_64", "arm64": "aarch64"}
# Both Lambda architectures are 64-bit; a 32-bit x86_64 (x32) ELF would not run.
_ARCH_BITS = {"x86_64": 64, "aarch64": 64, "i386": 32, "arm": 32}

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


def read_elf_info(data: bytes) -> ElfInfo:
    """Parse ``data`` as an ELF file with pyelftools; raise ElfParseError when it is not one."""
    if not is_elf(data):
        raise ElfParseError("not an ELF file (no \\x7fELF magic)")
    if len(data) < 16:
        raise ElfParseError(f"truncated: {len(data)} bytes is shorter than the ELF identification")
    if data[4] not in (1, 2):
        raise ElfParseError(f"unknown ELF class {data[4]}")
    if data[5] not in (1, 2):
        raise ElfParseError(f"unknown ELF data encoding {data[5]}")
    try:
        return _read(ELFFile(io.BytesIO(data)))
    except ElfParseError:
        raise
    except (ELFError, ConstructError, ValueError, KeyError, IndexError, AttributeError, TypeError) as error:
        # pyelftools reads lazily: a bad offset or a cut-off table surfaces as any of these.
        raise ElfParseError(f"truncated or malformed ({len(data)} bytes): {type(error).__name__}: {error}") from error


def _read(elf: ELFFile) -> ElfInfo:
    e_machine = elf.header["e_machine"]
    number = e_machine if isinstance(e_machine, int) else ENUM_E_MACHINE.get(e_machine, -1)
    dynamic = _dynamic(elf)
    tags = list(dynamic.iter_tags()) if dynamic is not None else []
    needed = tuple(_strings(tags, "DT_NEEDED"))
    soname = next(iter(_strings(tags, "DT_SONAME")), None)
    runpath = next(iter(_strings(tags, "DT_RUNPATH") or _strings(tags, "DT_RPATH")), "")
    versions = [v for v in map(_glibc_version, _version_needs(elf, dynamic, tags)) if v is not None]
    return ElfInfo(
        machine=_MACHINES.get(number, f"e_machine={number}"),
        bits=elf.elfclass,
        glibc_required=max(versions) if versions else None,
        needed=needed,
        soname=soname,
        runpath=tuple(p for p in runpath.split(":") if p),
    )


def _strings(tags: list[DynamicTag], kind: str) -> list[str]:
    """The strings of the tags of one kind; pyelftools resolves them as attributes named after the tag."""
    attribute = kind.removeprefix("DT_").lower()
    return [str(vars(tag)[attribute]) for tag in tags if tag.entry.d_tag == kind]


def _dynamic(elf: ELFFile) -> DynamicSection | DynamicSegment | None:
    """The dynamic table: its section, or the PT_DYNAMIC segment when section headers were stripped."""
    for section in elf.iter_sections():
        if isinstance(section, DynamicSection):
            return section
    for segment in elf.iter_segments():
        if isinstance(segment, DynamicSegment):
            return segment
    return None


def _version_needs(elf: ELFFile, dynamic: DynamicSection | DynamicSegment | None, tags: list[DynamicTag]) -> list[str]:
    """Every version name required (vna_name): from .gnu.version_r, else through DT_VERNEED.

    The dynamic loader relies on DT_VERNEED alone, so a file without section headers still
    says which glibc it needs.
    """
    for section in elf.iter_sections():
        if isinstance(section, GNUVerNeedSection):
            return [str(aux.name) for _, auxes in section.iter_versions() for aux in auxes]
    values = {tag.entry.d_tag: tag.entry.d_val for tag in tags}
    if "DT_VERNEED" not in values or dynamic is None:
        return []
    offset = _table_offset(dynamic, "DT_VERNEED")
    strings = _table_offset(dynamic, "DT_STRTAB")
    names = []
    for _ in range(int(values.get("DT_VERNEEDNUM", 0))):
        need = struct_parse(elf.structs.Elf_Verneed, elf.stream, offset)
        position = offset + need["vn_aux"]
        for _ in range(need["vn_cnt"]):
            aux = struct_parse(elf.structs.Elf_Vernaux, elf.stream, position)
            name = parse_cstring_from_stream(elf.stream, strings + aux["vna_name"])
            if name is None:
                raise ElfParseError(f"version name at string {aux['vna_name']} runs past the end of the file")
            names.append(name.decode("utf-8", "replace"))
            if aux["vna_next"] == 0:
                break
            position += aux["vna_next"]
        if need["vn_next"] == 0:
            break
        offset += need["vn_next"]
    return names


def _table_offset(dynamic: DynamicSection | DynamicSegment, tag: str) -> int:
    """The file offset of the table a dynamic tag points at, through the PT_LOAD segments."""
    address, offset = dynamic.get_table_offset(tag)
    if offset is None:
        raise ElfParseError(f"{tag} at {address} is not inside any loadable segment")
    return int(offset)


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


def _glibc_version(name: str) -> tuple[int, ...] | None:
    """Parse "GLIBC_2.3.4" as (2, 3, 4); None for GLIBC_PRIVATE, GCC_*, etc."""
    if name in _GLIBC_MARKERS:
        return _GLIBC_MARKERS[name]
    match = _GLIBC_VERSION.fullmatch(name)
    return tuple(int(p) for p in match.group(1).split(".")) if match else None
