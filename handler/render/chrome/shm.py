"""Where Chrome keeps the shared memory every frame passes through.

With ``--disable-dev-shm-usage`` Chrome creates each shared-memory region as a file in
``$TMPDIR``: one per captured frame, the size of its bitmap, allocated, filled, unlinked.
On a disk file system that allocation and release go through the journal and cost a tenth
of a 720p frame's CPU; on a tmpfs they cost next to nothing. Lambda has no ``/dev/shm``, and
Docker's holds 64 MiB, which a few 4K bitmaps in flight can fill: Chrome uses ``/dev/shm`` only
when it is a writable tmpfs with room to spare, else the caller's scratch directory.
"""

from __future__ import annotations

import os
from pathlib import Path

SHM_MOUNT = "/dev/shm"  # noqa: S108 - only handed to Chrome, which creates its files with O_EXCL
# Room for every page's bitmaps in flight, at 4K and six pages, several times over.
MIN_FREE_BYTES = 1 << 30


def is_tmpfs(mounts_text: str, mount_point: str) -> bool:
    """Whether ``/proc/self/mounts`` lists ``mount_point`` last as a tmpfs (a later mount hides an earlier one)."""
    kind = None
    for line in mounts_text.splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[1] == mount_point:
            kind = fields[2]
    return kind == "tmpfs"


def free_bytes(path: str) -> int:
    stats = os.statvfs(path)
    return stats.f_bavail * stats.f_frsize


def shared_memory_dir(scratch: Path, *, mounts: Path = Path("/proc/self/mounts")) -> Path:
    """``/dev/shm`` when it is a writable tmpfs with :data:`MIN_FREE_BYTES` free, else ``scratch``."""
    try:
        roomy = (
            is_tmpfs(mounts.read_text(encoding="utf-8"), SHM_MOUNT)
            and os.access(SHM_MOUNT, os.W_OK | os.X_OK)
            and free_bytes(SHM_MOUNT) >= MIN_FREE_BYTES
        )
    except OSError:
        roomy = False
    return Path(SHM_MOUNT) if roomy else scratch
