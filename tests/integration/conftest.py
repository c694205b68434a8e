"""Shared integration fixtures: a real artifact built once per session, a local S3 server, a reference render."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bundler.cache import default_cache_root
from bundler.progress import SilentReporter
from handler.errors import RuntimeUnavailable
from handler.render.runtime import Runtime, prepare
from runner import local
from runner.local import LocalRender
from tests.conftest import in_ci, require_docker
from tests.moto_server import moto_server
from tooling.media import decode_frames

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


# --- a real S3 API: moto in server mode on loopback ------------------------------------


@dataclass(frozen=True)
class S3Server:
    endpoint: str


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """The moto server for the whole session, stopped at the end."""
    with moto_server(tmp_path_factory.mktemp("moto")) as endpoint:
        yield S3Server(endpoint)


def use_s3_server(monkeypatch: pytest.MonkeyPatch, server: S3Server, scratch: Path) -> None:
    """Point botocore at ``server`` with dummy credentials; nothing of the user's AWS set-up applies."""
    for name in list(os.environ):
        if name.startswith("AWS_") or name == "RENDERZIP_BUCKET_ALLOWLIST":
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ENDPOINT_URL", server.endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(scratch / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(scratch / "no-aws-credentials"))


@pytest.fixture
def s3_env(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> S3Server:
    """The local S3 server for one test (see `use_s3_server`)."""
    use_s3_server(monkeypatch, s3_server, tmp_path)
    return s3_server


def default_zip() -> Path:
    """dist/handler.zip, as the sessions use it; built from the lockfiles first when missing."""
    zip_path = ROOT / "dist" / "handler.zip"
    if not zip_path.is_file():
        result = run_bundler("build", "-o", str(zip_path))
        if result.returncode != 0:
            message = f"cannot build {zip_path}:\n{result.stderr[-2000:]}"
            if in_ci():
                pytest.fail(message)
            pytest.skip(message)
    return zip_path


@pytest.fixture(scope="session")
def packaged_runtime() -> Runtime:
    """The packaged Chromium and ffmpeg, prepared from dist/handler.zip; the zip is built first when missing.

    It is the runtime `handler.render.runtime.prepare()` finds by itself, so the handler's own renders use it too.
    """
    try:
        return prepare(default_zip())
    except RuntimeUnavailable as error:
        if in_ci():
            pytest.fail(str(error))
        pytest.skip(str(error))
        raise


@pytest.fixture(scope="session")
def ffmpeg(packaged_runtime: Runtime) -> Path:
    """The packaged ffmpeg (see `packaged_runtime`)."""
    return packaged_runtime.ffmpeg


# --- a reference render ---------------------------------------------------------------

BARCODE = ROOT / "tests" / "compositions" / "barcode"
"""320x64, 2 s at 30 fps: 60 frames, each painting its own index as 16 black-or-white blocks."""


@pytest.fixture(scope="session")
def barcode_local_render(packaged_runtime: Runtime, tmp_path_factory: pytest.TempPathFactory) -> LocalRender:
    """The barcode composition rendered by the local runner in 3 chunks, with nothing going wrong."""
    out = tmp_path_factory.mktemp("barcode-local") / "local.mp4"
    return local.render(BARCODE, out, chunks=3, workers=2, stream=io.StringIO())


def barcode_values(ffmpeg: Path, video: Path) -> list[int]:
    """The index each frame of a barcode render paints: 16 blocks of 20 px, most significant first."""
    values = []
    for frame in decode_frames(ffmpeg, video, width=320, height=64):
        value = 0
        for bit in range(16):
            offset = (20 * 320 + bit * 20 + 10) * 3
            value = (value << 1) | int(sum(frame[offset : offset + 3]) < 3 * 128)
        values.append(value)
    return values
