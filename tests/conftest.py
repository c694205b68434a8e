"""Shared test helpers: locating tools, and failing instead of skipping under CI."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_tool(name: str) -> str:
    """The tool's path; skips locally, fails under CI=true, when it is missing."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed"
        if in_ci():
            pytest.fail(f"{message}; CI must provide it (see .ci/run)")
        pytest.skip(message)
    return path


def require_docker() -> None:
    """Skips locally, fails under CI=true, when the Docker engine is not reachable."""
    from probes.engine import connect  # noqa: PLC0415 - only the Docker tests need the SDK
    from probes.errors import DockerUnavailable  # noqa: PLC0415

    try:
        connect(timeout_s=10)
    except DockerUnavailable as error:
        if in_ci():
            pytest.fail(f"{error}; CI must provide a running engine (see .ci/run)")
        pytest.skip(str(error))


@pytest.fixture(autouse=True)
def _no_browser_outlives_its_test() -> Iterator[None]:
    """The handler keeps Chrome between invocations, as a warm container does; each test starts without."""
    yield
    app = sys.modules.get("handler.app")
    if app is not None:
        app.BROWSERS.close()
