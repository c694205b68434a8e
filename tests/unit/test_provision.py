"""What `python -m probes provision` finds missing, and what it says when it may not install."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from probes.provision import PARTS, apt_lists_fresh, missing_parts, provision


def test_a_docker_client_without_dockerd_counts_as_missing(tmp_path: Path) -> None:
    present = {"docker", "debootstrap", "faketime", "gcc", "npm"}
    found = missing_parts(lambda name: f"/usr/bin/{name}" if name in present else None)
    assert [part.command for part in found] == ["dockerd"]
    assert found[0].packages == ("docker.io",)


def test_apt_lists_are_stale_when_absent_or_older_than_a_day(tmp_path: Path) -> None:
    assert not apt_lists_fresh(tmp_path)
    lists = tmp_path / "deb_dists_bookworm_main_binary-amd64_Packages.lz4"
    lists.write_bytes(b"")
    assert apt_lists_fresh(tmp_path)
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(lists, (two_days_ago, two_days_ago))
    assert not apt_lists_fresh(tmp_path)


def test_without_root_it_names_each_missing_part_and_installs_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    said: list[str] = []
    missing = provision(said.append, as_root=False)
    assert missing == list(PARTS)
    assert said[0] == (
        "missing: dockerd (Debian: docker.io), needed by the probe, the stand-in image and the regression suite"
    )
    assert said[-1] == "the tests that need these skip (and fail under CI=true); run as root to install them"
    assert len(said) == len(PARTS) + 1
