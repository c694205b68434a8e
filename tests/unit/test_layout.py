"""The Lambda layout written into a root filesystem."""

from __future__ import annotations

from pathlib import Path

import pytest

from probes.layout import apply_layout, lambda_layout


def _fake_root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "usr/bin").mkdir(parents=True)
    (root / "usr/bin/python3.13").write_text("")
    (root / "etc").mkdir()
    (root / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
    (root / "etc/group").write_text("root:x:0:\n")
    (root / "var/cache/apt/archives/partial").mkdir(parents=True)
    (root / "var/cache/apt/archives/python3.deb").write_text("deb")
    (root / "var/lib/apt/lists").mkdir(parents=True)
    (root / "var/lib/apt/lists/InRelease").write_text("index")
    return root


def test_adds_the_lambda_paths_and_python_links(tmp_path: Path) -> None:
    root = _fake_root(tmp_path)
    apply_layout(root, lambda_layout("3.13"))
    for directory in ("var/task", "var/runtime", "var/lang/bin", "var/lang/lib", "opt"):
        assert (root / directory).is_dir()
    assert (root / "tmp").stat().st_mode & 0o7777 == 0o1777
    for name in ("python3", "python", "python3.13"):
        assert (root / "var/lang/bin" / name).readlink() == Path("/usr/bin/python3.13")


def test_adds_the_unprivileged_user_once(tmp_path: Path) -> None:
    root = _fake_root(tmp_path)
    apply_layout(root, lambda_layout("3.13"))
    apply_layout(root, lambda_layout("3.13"))
    passwd = (root / "etc/passwd").read_text().splitlines()
    assert passwd == ["root:x:0:0:root:/root:/bin/bash", "sbx_user1051:x:993:993::/home/sbx_user1051:/usr/sbin/nologin"]
    assert (root / "etc/group").read_text().splitlines() == ["root:x:0:", "sbx_user1051:x:993:"]


def test_drops_apt_downloads_and_indexes(tmp_path: Path) -> None:
    root = _fake_root(tmp_path)
    apply_layout(root, lambda_layout("3.13"))
    assert list((root / "var/cache/apt/archives").iterdir()) == []
    assert list((root / "var/lib/apt/lists").iterdir()) == []


def test_refuses_to_link_python_the_root_lacks(tmp_path: Path) -> None:
    root = _fake_root(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"/usr/bin/python3\.11"):
        apply_layout(root, lambda_layout("3.11"))
