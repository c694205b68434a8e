"""RENDERZIP_DEBIAN_MIRROR: apt reads only the given source, through a private list directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from bundler import apt
from bundler.errors import FetchError
from tests.conftest import require_tool

pytestmark = pytest.mark.network


def _security_source() -> str:
    """This machine's own Debian security source, as a mirror entry: the test names no host itself."""
    for path in sorted(Path("/etc/apt/sources.list.d").glob("*.sources")):
        for stanza in path.read_text(encoding="utf-8").split("\n\n"):
            fields = dict(
                line.split(":", 1) for line in stanza.splitlines() if ":" in line and not line.startswith("#")
            )
            suites = fields.get("Suites", "").split()
            security = [suite for suite in suites if suite.endswith("-security")]
            if security:
                return f"{fields['URIs'].split()[0].strip()} {security[0]} main"
    pytest.skip("this machine has no deb822 Debian security source to mirror")
    raise AssertionError


def test_the_mirror_alone_decides_the_versions_apt_serves(monkeypatch: pytest.MonkeyPatch) -> None:
    require_tool("apt-get")
    everything = apt.served_versions("chromium-headless-shell")
    monkeypatch.setenv(apt.MIRROR_ENV, _security_source())
    apt._mirror_options.cache_clear()
    try:
        security_only = apt.served_versions("chromium-headless-shell")
    finally:
        apt._mirror_options.cache_clear()
    assert security_only, "the security suite serves chromium-headless-shell"
    assert set(security_only) < set(everything)  # the main suite's older build is not seen through the mirror


@pytest.mark.parametrize("value", ["bookworm main", "http://example.invalid/debian", "ftp-without-scheme x y"])
def test_a_malformed_mirror_is_a_typed_error_naming_the_variable(value: str) -> None:
    with pytest.raises(FetchError, match="RENDERZIP_DEBIAN_MIRROR"):
        apt.mirror_sources(value)


def test_entries_become_one_line_sources() -> None:
    assert apt.mirror_sources("http://m/debian bookworm main; http://m/sec bookworm-security main contrib") == [
        "deb [check-valid-until=no] http://m/debian bookworm main",
        "deb [check-valid-until=no] http://m/sec bookworm-security main contrib",
    ]
