"""A real artifact, built once per test session from the committed lockfiles."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from bundler.cache import default_cache_root
from handler.runtime import prepare
from tests.conftest import in_ci

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


@pytest.fixture(scope="session")
def ffmpeg() -> Path:
    """The packaged ffmpeg, prepared from dist/handler.zip; the zip is built first when missing."""
    zip_path = ROOT / "dist" / "handler.zip"
    if not zip_path.is_file():
        result = run_bundler("build", "-o", str(zip_path))
        if result.returncode != 0:
            message = f"cannot build {zip_path} for the packaged ffmpeg:\n{result.stderr[-2000:]}"
            if in_ci():
                pytest.fail(message)
            pytest.skip(message)
    return prepare(zip_path).ffmpeg
