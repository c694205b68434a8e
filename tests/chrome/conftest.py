"""The pinned Chromium, prepared from the built zip, and helpers to read captured frames."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

from bundler.cache import Cache, default_cache_root
from bundler.errors import FetchError
from bundler.fetch import fetch_npm_tarball
from bundler.progress import SilentReporter
from handler.errors import RuntimeUnavailable
from handler.render.chrome.browser import Browser
from handler.render.framesfile import FramesManifest, first_difference, manifest_path
from handler.render.runtime import Runtime, prepare
from tests.conftest import in_ci

ROOT = Path(__file__).resolve().parents[2]
COMPOSITIONS = ROOT / "tests" / "compositions"
BUILT_ZIP = ROOT / "dist" / "handler.zip"


@dataclass(frozen=True)
class NpmScript:
    """One file of an npm package a test composition loads: fetched with npm, checked against its integrity."""

    package: str
    version: str
    integrity: str
    member: str  # inside the tarball
    name: str  # beside the composition's index.html


GSAP = NpmScript(
    "gsap",
    "3.15.0",
    "sha512-dMW4CWBTUK1AEEDeZc1g4xpPGIrSf9fJF960qbTZmN/QwZIWY5wgliS6JWl9/25fpTGJrMRtSjGtOmPnfjZB+A==",
    "package/dist/gsap.min.js",
    "gsap.min.js",
)
ANIME = NpmScript(
    "animejs",
    "4.5.0",
    "sha512-NQimYX+lz8WaXonGS9zVVoviCIAjONeJayxacUditaivYLqyXgGjFKjuyl0aUUhFKm5MriX9ty1TGovNzoJQWA==",
    "package/dist/bundles/anime.umd.min.js",
    "anime.umd.min.js",
)
LOTTIE = NpmScript(
    "lottie-web",
    "5.13.0",
    "sha512-+gfBXl6sxXMPe8tKQm7qzLnUy5DUPJPKIyRHwtpCpyUEYjHYRJC/5gjUvdkuO2c3JllrPtHXH5UJJK8LRYl5yQ==",
    "package/build/player/lottie_light.min.js",
    "lottie_light.min.js",
)


def _unavailable(message: str) -> None:
    if in_ci():
        pytest.fail(f"{message}; CI must provide it (see .ci/run)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def runtime() -> Runtime:
    """Chromium and ffmpeg decoded from dist/handler.zip, built from the lockfiles if missing."""
    if not BUILT_ZIP.is_file():
        result = subprocess.run(
            [sys.executable, "-m", "bundler", "build", "-o", str(BUILT_ZIP)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
            timeout=1800,
        )
        if result.returncode != 0:
            _unavailable(f"cannot build {BUILT_ZIP}: {result.stderr.strip()[-2000:]}")
    try:
        return prepare(BUILT_ZIP)
    except RuntimeUnavailable as error:
        _unavailable(str(error))
        raise


@pytest.fixture
def browser(runtime: Runtime, tmp_path: Path) -> Iterator[Browser]:
    with Browser.launch(runtime, tmp_path) as launched:
        yield launched


def composition(name: str) -> Path:
    return COMPOSITIONS / name


def browser_processes(browser: Browser) -> list[int]:
    """Every live process of ``browser``: its process group, the browser and its helpers."""
    group = browser.connection.process.pid
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):  # gone meanwhile
                if os.getpgid(int(entry.name)) == group:
                    found.append(int(entry.name))
    return found


def with_scripts(name: str, factory: pytest.TempPathFactory, scripts: tuple[NpmScript, ...], as_name: str = "") -> Path:
    """A copy of tests/compositions/NAME (named AS_NAME) with the pinned ``scripts`` beside its index.html."""
    project = factory.mktemp("compositions") / (as_name or name)
    shutil.copytree(composition(name), project)
    for script in scripts:
        try:
            tarball = fetch_npm_tarball(
                Cache(default_cache_root()),
                SilentReporter(),
                item=f"{script.package} {script.version}",
                package=script.package,
                version=script.version,
                integrity=script.integrity,
            )
        except FetchError as error:
            _unavailable(f"cannot fetch {script.package} {script.version}: {error}")
            raise
        # Only the one regular member is read, and written under a name chosen here: nothing in
        # the archive decides where bytes land.
        with tarfile.open(tarball, "r:gz") as archive:
            member = archive.getmember(script.member)
            source = archive.extractfile(member) if member.isfile() else None
            if source is None:
                pytest.fail(f"{tarball.name}: {script.member} is not a regular file")
            with source:
                (project / script.name).write_bytes(source.read())
    return project


@pytest.fixture(scope="session")
def gsap_composition(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return with_scripts("gsap", tmp_path_factory, (GSAP,))


@pytest.fixture(scope="session")
def timeline_duration_composition(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The gsap composition without data-duration on its root: its registered 2 s timeline gives the length."""
    project = with_scripts("gsap", tmp_path_factory, (GSAP,), as_name="timeline-duration")
    entry = project / "index.html"
    html = entry.read_text(encoding="utf-8")
    root = '<div id="root" data-composition-id="gsap" data-width="320" data-height="96" data-duration="2">'
    assert root in html
    entry.write_text(html.replace(root, root.replace(' data-duration="2"', "")), encoding="utf-8")
    return project


WIDTH = 320  # the test compositions' width, in pixels


def left_edge(frame: bytes, row: int) -> int | None:
    """The first dark pixel of ``row`` in a decoded RGB frame ``WIDTH`` wide: where a moving box begins."""
    for x in range(WIDTH):
        offset = (row * WIDTH + x) * 3
        if sum(frame[offset : offset + 3]) < 3 * 128:
            return x
    return None


def decode(png: bytes) -> Image.Image:
    assert png.startswith(b"\x89PNG\r\n\x1a\n"), "not a PNG"
    return Image.open(io.BytesIO(png)).convert("RGB")


def dark(image: Image.Image, x: int, y: int) -> bool:
    red, green, blue = image.getpixel((x, y))
    return red + green + blue < 3 * 128


def read_barcode(png: bytes) -> int:
    """16 blocks of 20 px, most significant bit first, black is 1."""
    image = decode(png)
    value = 0
    for bit in range(16):
        value = (value << 1) | int(dark(image, bit * 20 + 10, 20))
    return value


def assert_same_frames(a: Path, b: Path) -> None:
    """The two renders' frame-hash manifests list the same decoded frames; otherwise name the first that differs."""
    left, right = (FramesManifest.from_bytes(manifest_path(p).read_bytes(), where=str(p)).frames for p in (a, b))
    first = first_difference(left, right)
    assert first is None, f"{a.name} and {b.name} first differ at frame {first} ({len(left)} vs {len(right)} frames)"
