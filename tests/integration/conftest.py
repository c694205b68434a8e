"""A real artifact, built once per test session from the committed lockfiles."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bundler.cache import default_cache_root
from bundler.progress import SilentReporter
from tests.conftest import in_ci, require_docker

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Built:
    zip_path: Path
    cache_root: Path


def run_bundler(
    *args: str, cwd: Path = ROOT, env: dict[str, str] | None = None, umask: int = -1
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bundler", *args],
        cwd=cwd,
        env=env,
        umask=umask,
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The zip built from the lockfiles with the user's cache (cold: a few minutes)."""
    out = tmp_path_factory.mktemp("dist") / "handler.zip"
    cache_root = default_cache_root()
    result = run_bundler("--cache-dir", str(cache_root), "build", "-o", str(out))
    assert result.returncode == 0, result.stderr
    return Built(out, cache_root)


@dataclass(frozen=True)
class StandinImage:
    tag: str
    image_id: str
    runtime: str


@pytest.fixture(scope="session")
def docker_client() -> Any:
    require_docker()
    from probes.engine import connect  # noqa: PLC0415 - only the Docker tests need the SDK

    return connect()


@pytest.fixture(scope="session")
def standin_image(docker_client: Any) -> StandinImage:
    """The stand-in image for the default runtime: built once (about a minute, as root), then reused."""
    from probes.standin import StandinRecipe, ensure_standin  # noqa: PLC0415

    runtime = "python3.13"
    recipe = StandinRecipe.for_runtime(runtime)
    if docker_client.images.list(name=recipe.tag) == [] and os.geteuid() != 0:
        message = f"{recipe.tag} is not built and building it needs root"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    standin = ensure_standin(runtime, SilentReporter(), client=docker_client)
    return StandinImage(standin.tag, standin.image_id, runtime)
