"""The Debian mirror is read from the machine's apt configuration, or from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from probes.aptsources import MIRROR_ENV, apt_sources, debian_mirror
from probes.errors import MirrorNotFound

DEB822 = """\
Types: deb
URIs: http://mirror.invalid/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.invalid/debian-security
Suites: bookworm-security
Components: main
"""


def _apt_dir(tmp_path: Path, files: dict[str, str]) -> Path:
    apt = tmp_path / "apt"
    (apt / "sources.list.d").mkdir(parents=True)
    for name, text in files.items():
        (apt / name).write_text(text)
    return apt


def _os_release(tmp_path: Path, codename: str) -> Path:
    path = tmp_path / "os-release"
    path.write_text(f'NAME="Debian GNU/Linux"\nVERSION_CODENAME={codename}\n')
    return path


def test_reads_deb822_sources(tmp_path: Path) -> None:
    apt = _apt_dir(tmp_path, {"sources.list.d/debian.sources": DEB822})
    assert debian_mirror({}, apt, _os_release(tmp_path, "bookworm")) == "http://mirror.invalid/debian"


def test_reads_one_line_sources_with_options(tmp_path: Path) -> None:
    text = (
        "# comment\n"
        "deb [arch=amd64 signed-by=/k.gpg] http://other.invalid/apt nodistro main\n"
        "deb http://mirror.invalid/debian trixie main contrib\n"
        "deb-src http://mirror.invalid/debian trixie main\n"
    )
    apt = _apt_dir(tmp_path, {"sources.list": text})
    sources = apt_sources(apt)
    assert [source.uri for source in sources] == ["http://other.invalid/apt", "http://mirror.invalid/debian"]
    assert debian_mirror({}, apt, _os_release(tmp_path, "trixie")) == "http://mirror.invalid/debian"


def test_ignores_disabled_files_and_stanzas(tmp_path: Path) -> None:
    disabled = DEB822.replace("Types: deb\nURIs: http://mirror.invalid/debian\n", "Types: deb\nEnabled: no\nURIs: x\n")
    apt = _apt_dir(
        tmp_path,
        {"sources.list.d/debian.sources": disabled, "sources.list.d/old.sources.disabled": DEB822},
    )
    with pytest.raises(MirrorNotFound):
        debian_mirror({}, apt, _os_release(tmp_path, "bookworm"))


def test_environment_wins(tmp_path: Path) -> None:
    apt = _apt_dir(tmp_path, {"sources.list.d/debian.sources": DEB822})
    environ = {MIRROR_ENV: "http://chosen.invalid/debian"}
    assert debian_mirror(environ, apt, _os_release(tmp_path, "bookworm")) == "http://chosen.invalid/debian"


def test_no_source_is_a_clear_error(tmp_path: Path) -> None:
    apt = _apt_dir(tmp_path, {})
    with pytest.raises(MirrorNotFound) as caught:
        debian_mirror({}, apt, _os_release(tmp_path, "bookworm"))
    assert MIRROR_ENV in caught.value.hint
