"""The shared libraries a set of ELF files needs, followed transitively through DT_NEEDED.

Only what the dynamic loader would really load is taken: each soname is looked
up once, breadth first from the roots, and libraries the target system
provides itself (glibc's own) are left out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bundler.elf import read_elf_info

# glibc's own libraries: every Lambda image has them, and they must match its ld.so.
GLIBC_SONAMES = frozenset(
    {
        "libc.so.6",
        "libm.so.6",
        "libdl.so.2",
        "libpthread.so.0",
        "librt.so.1",
        "libresolv.so.2",
        "ld-linux-x86-64.so.2",
        "ld-linux-aarch64.so.1",
    }
)

# soname, and the name of the file that asked for it -> that library's bytes, or None
Finder = Callable[[str, str], bytes | None]


@dataclass(frozen=True)
class Closure:
    """Every soname needed, in the order found, with the first file that needed it."""

    found: Mapping[str, str]
    # soname -> files that need it but for which no library was found
    missing: Mapping[str, tuple[str, ...]]


def needed_closure(
    roots: Mapping[str, bytes], find: Finder, provided: frozenset[str] = GLIBC_SONAMES, extra: tuple[str, ...] = ()
) -> Closure:
    """Follow DT_NEEDED from ``roots`` (name -> ELF bytes); ``extra`` sonames are taken too (dlopen).

    ``find`` is asked for each soname once, with the name of the file that
    first needed it, so a caller can search that file's own dependencies.
    """
    queue: list[tuple[str, str]] = []
    for name, data in roots.items():
        queue += [(soname, name) for soname in read_elf_info(data).needed]
    queue += [(soname, "(loaded with dlopen)") for soname in extra]
    found: dict[str, str] = {}
    missing: dict[str, list[str]] = {}
    while queue:
        soname, wanted_by = queue.pop(0)
        if soname in provided or soname in found:
            continue
        if soname in missing:
            missing[soname].append(wanted_by)
            continue
        library = find(soname, wanted_by)
        if library is None:
            missing[soname] = [wanted_by]
            continue
        found[soname] = wanted_by
        queue += [(needed, soname) for needed in read_elf_info(library).needed]
    return Closure(found, {soname: tuple(by) for soname, by in missing.items()})
