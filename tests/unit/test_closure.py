"""The zip ships exactly what handler.app imports: a module it never reaches is refused."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bundler.build import HANDLER_ENTRY, belongs
from bundler.closure import check_closure, import_closure, module_files
from bundler.errors import HandlerLayoutError

ROOT = Path(__file__).resolve().parents[2]


def _package(root: Path, files: dict[str, str]) -> list[str]:
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text, encoding="utf-8")
    return sorted(files)


def test_every_module_of_the_real_handler_is_reached_from_the_entry_point() -> None:
    listed = subprocess.run(["git", "-C", str(ROOT), "ls-files", "handler"], capture_output=True, text=True, check=True)
    shipped = [name for name in listed.stdout.split() if belongs(name, None)]
    modules = module_files(ROOT, "handler", shipped)
    assert import_closure(ROOT, HANDLER_ENTRY, modules) == set(modules)
    assert "handler.render.chrome.page.netguard" in modules and "handler.edge.plancheck" in modules


def test_imports_of_every_form_are_followed(tmp_path: Path) -> None:
    files = _package(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/app.py": "from pkg import a\nimport pkg.b\nfrom .c import thing\nfrom pkg.sub import d\n",
            "pkg/a.py": "",
            "pkg/b.py": "",
            "pkg/c.py": "thing = 1\n",
            "pkg/sub/__init__.py": "from . import e\n",
            "pkg/sub/d.py": "",
            "pkg/sub/e.py": "",
        },
    )
    check_closure(tmp_path, "pkg.app", files)


def test_a_module_the_entry_point_never_imports_is_refused_by_name(tmp_path: Path) -> None:
    files = _package(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/app.py": "from pkg import used\n",
            "pkg/used.py": "",
            "pkg/tool/__init__.py": "",
            "pkg/tool/__main__.py": "import argparse\n",
        },
    )
    with pytest.raises(HandlerLayoutError) as raised:
        check_closure(tmp_path, "pkg.app", files)
    assert "2 module(s) of pkg/ are never imported by pkg.app: pkg/tool/__init__.py, pkg/tool/__main__.py" in str(
        raised.value
    )
    assert "runner/" in raised.value.hint
