"""Which modules of a package its entry point imports, read from the source without running it.

The zip ships the ``handler`` package and Lambda runs ``handler.app``; a module of the package
that ``handler.app`` never reaches would ship without ever running. The build refuses such a
module instead of carrying it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

from bundler.errors import HandlerLayoutError


def module_files(source_root: Path, package: str, relatives: Iterable[str]) -> dict[str, str]:
    """Dotted module name -> relative path, for the ``.py`` files among ``relatives``."""
    modules = {}
    for relative in relatives:
        if not relative.endswith(".py") or not relative.startswith(package + "/"):
            continue
        dotted = relative[: -len(".py")].replace("/", ".")
        modules[dotted.removesuffix(".__init__")] = relative
    return modules


def _imported(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    """Names a module imports: ``import a.b`` gives a.b; ``from a import b`` gives a and a.b."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = module.split(".") if is_package else module.split(".")[:-1]
                base = ".".join(parts[: len(parts) - node.level + 1])
                source = f"{base}.{node.module}" if node.module else base
            else:
                source = node.module or ""
            names.add(source)
            names.update(f"{source}.{alias.name}" for alias in node.names)
    return names


def import_closure(source_root: Path, entry: str, modules: dict[str, str]) -> set[str]:
    """The modules of ``modules`` that ``entry`` reaches, with every package on the way."""
    reached: set[str] = set()
    pending = [entry]
    while pending:
        name = pending.pop()
        if name in reached or name not in modules:
            continue
        reached.add(name)
        parent = name.rpartition(".")[0]
        if parent:
            pending.append(parent)  # importing a.b runs a/__init__.py first
        path = source_root / modules[name]
        tree = ast.parse(path.read_bytes(), filename=str(path))
        pending.extend(_imported(tree, name, path.name == "__init__.py") & set(modules))
    return reached


def check_closure(source_root: Path, entry: str, relatives: Iterable[str]) -> None:
    """Refuse modules of the package that ``entry`` never imports: they would ship and never run."""
    package = entry.split(".", 1)[0]
    modules = module_files(source_root, package, relatives)
    unreached = sorted(modules[name] for name in set(modules) - import_closure(source_root, entry, modules))
    if unreached:
        raise HandlerLayoutError(
            f"{len(unreached)} module(s) of {package}/ are never imported by {entry}: {', '.join(unreached)}; "
            f"the zip ships exactly what {entry} runs"
        )
