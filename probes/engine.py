"""The Docker engine, through the ``docker`` SDK: connecting, and looking images up.

The SDK ships no type information, so every value taken from it is given a
type here, at the edge.
"""

from __future__ import annotations

from typing import Any, cast

import docker
import docker.errors

from probes.errors import DockerUnavailable

# Every container the runner makes carries this label, so leftovers can be found.
PROBE_LABEL = "renderzip.probe"


def connect(timeout_s: int = 120) -> Any:
    """A connected ``docker.DockerClient`` (from DOCKER_HOST etc.), or DockerUnavailable."""
    try:
        client = docker.from_env(timeout=timeout_s)
        client.ping()
    except docker.errors.DockerException as error:
        raise DockerUnavailable(str(error)) from error
    return client


def image_id(client: Any, reference: str) -> str | None:
    """The local image's id, or None when no image by that reference is present."""
    try:
        image = client.images.get(reference)
    except docker.errors.ImageNotFound:
        return None
    return cast(str, image.id)


def image_labels(client: Any, reference: str) -> dict[str, str]:
    image = client.images.get(reference)
    labels = image.labels or {}
    return {str(key): str(value) for key, value in labels.items()}


def image_size(client: Any, reference: str) -> int:
    """Bytes the image takes, as the engine reports it."""
    return int(client.images.get(reference).attrs.get("Size", 0))


def probe_containers(client: Any, label: str = PROBE_LABEL) -> list[str]:
    """Ids of every container, running or not, that carries ``label`` (``key`` or ``key=value``)."""
    containers = client.containers.list(all=True, filters={"label": label})
    return [cast(str, container.id) for container in containers]
