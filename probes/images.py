"""Which image the probes run in: the pinned Lambda base image, one the user names, or the stand-in.

Order: ``--image``, then ``RENDERZIP_IMAGE``, then the lock's
``[image."<runtime>"]`` (by digest when one is pinned, else by tag). The
keyword ``standin`` means the stand-in image, built here when missing.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import docker.errors

from bundler.lockfiles import LOCK_DIR, ImagePin, load_artifacts_lock
from bundler.progress import Reporter
from probes import engine
from probes.errors import ImageUnavailable, ProbeError
from probes.standin import StandinRecipe, ensure_standin

IMAGE_ENV = "RENDERZIP_IMAGE"
STANDIN = "standin"


class NoImagePinned(ProbeError):
    """The artifacts lock names no base image for the runtime."""

    hint = "add the runtime to lockfiles/inputs.toml and run `nox -s lock`, or pass --image"

    def __init__(self, runtime: str, lock: Path) -> None:
        self.runtime = runtime
        super().__init__(f"{lock} has no [image.{runtime!r}] entry")


def _without_tag(reference: str) -> str:
    name, _, tag = reference.rpartition(":")
    return name if name and "/" not in tag else reference


def docker_reference(pin: ImagePin) -> str:
    """``repo@sha256:...`` when a digest is pinned (the tag is then only a label), else ``repo:tag``."""
    return f"{_without_tag(pin.reference)}@{pin.digest}" if pin.digest else pin.reference


def default_image(runtime: str, lock_dir: Path = LOCK_DIR) -> str:
    images = load_artifacts_lock(lock_dir).images
    if runtime not in images:
        raise NoImagePinned(runtime, lock_dir / "artifacts.toml")
    return docker_reference(images[runtime])


def requested_image(option: str | None, environ: Mapping[str, str] = os.environ) -> str:
    """What the user asked for (option, then environment), or "" for the default."""
    return (option or environ.get(IMAGE_ENV, "")).strip()


def resolve_image(
    runtime: str,
    option: str | None,
    reporter: Reporter,
    *,
    client: Any = None,
    environ: Mapping[str, str] = os.environ,
    lock_dir: Path = LOCK_DIR,
) -> str:
    """A reference to an image present in the local engine, pulling or building it if needed."""
    choice = requested_image(option, environ)
    if choice == STANDIN:
        # The recipe is checked first: a runtime with no stand-in is an error whether or not an engine runs.
        StandinRecipe.for_runtime(runtime)
        return ensure_standin(runtime, reporter, client=client or engine.connect()).tag
    client = client or engine.connect()
    image = choice or default_image(runtime, lock_dir)
    if engine.image_id(client, image) is not None:
        return image
    reporter.step(f"pulling {image}")
    try:
        client.images.pull(image)
    except docker.errors.DockerException as error:
        cause = str(getattr(error, "explanation", None) or error).strip()
        raise ImageUnavailable(image, cause) from error
    if engine.image_id(client, image) is None:
        raise ImageUnavailable(image, "the pull finished but the engine has no such image")
    return image
