"""The Lambda image as moto's Lambda backend runs it: the base image plus a one-invocation entry point.

moto (``MOTO_DOCKER_LAMBDA_IMAGE``) starts one container per invocation with
``[handler, event-json]`` as the command and the function's code in a volume at
``/var/task``. The variant built here adds `probes.lambda_bootstrap` as the
entry point and runs it as Lambda's user (uid 993): the code in the volume is
root's, so it is read-only to the function, as ``/var/task`` is on Lambda.

moto fills that volume through a container of the image ``busybox`` that only
runs ``sleep``. No registry is reachable here, so when the engine has no such
image the base image, which has ``sleep``, is tagged ``busybox:latest``.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path
from typing import Any

from bundler.progress import Reporter
from probes import engine, lambda_env

REPOSITORY = "renderzip-moto-lambda"
BOOTSTRAP = Path(__file__).with_name("lambda_bootstrap.py")
BOOTSTRAP_IN_IMAGE = f"{lambda_env.RUNTIME_DIR}/renderzip_bootstrap.py"
VOLUME_FILLER = "busybox:latest"
# Bump when the build steps change in a way the inputs below do not show.
RECIPE_VERSION = 1


def variant_tag(base_image_id: str, bootstrap: bytes) -> str:
    """The variant's tag: a hash of the base image's id, the entry point and the recipe."""
    inputs = json.dumps(
        {"base": base_image_id, "bootstrap": hashlib.sha256(bootstrap).hexdigest(), "recipe": RECIPE_VERSION},
        sort_keys=True,
    )
    return f"{REPOSITORY}:{hashlib.sha256(inputs.encode()).hexdigest()[:16]}"


def image_changes() -> list[str]:
    """What the variant changes in the base image's configuration."""
    return [
        f'ENTRYPOINT ["{lambda_env.PYTHON}", "{BOOTSTRAP_IN_IMAGE}"]',
        f"USER {lambda_env.USER_ID}:{lambda_env.GROUP_ID}",
        f"WORKDIR {lambda_env.TASK_ROOT}",
    ]


def _bootstrap_archive(bootstrap: bytes) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo(BOOTSTRAP_IN_IMAGE.lstrip("/"))
        info.size, info.mode = len(bootstrap), 0o444
        tar.addfile(info, io.BytesIO(bootstrap))
    return buffer.getvalue()


def ensure_volume_filler(client: Any, base_image: str, reporter: Reporter) -> None:
    if engine.image_id(client, VOLUME_FILLER) is not None:
        return
    reporter.step(f"tagging {base_image} as {VOLUME_FILLER}: moto fills the code volume through it with `sleep`")
    repository, tag = VOLUME_FILLER.split(":")
    client.images.get(base_image).tag(repository, tag)


def ensure_moto_lambda_image(client: Any, base_image: str, reporter: Reporter) -> str:
    """The variant of ``base_image`` for moto's Lambda backend, built when its tag is missing."""
    base_id = engine.image_id(client, base_image)
    if base_id is None:
        raise ValueError(f"no image {base_image} in the engine")
    bootstrap = BOOTSTRAP.read_bytes()
    tag = variant_tag(base_id, bootstrap)
    ensure_volume_filler(client, base_image, reporter)
    if engine.image_id(client, tag) is not None:
        return tag
    reporter.step(f"building {tag} from {base_image}: the one-invocation entry point, uid {lambda_env.USER_ID}")
    container = client.containers.create(base_image, entrypoint=["/bin/true"], network_mode="none")
    try:
        container.put_archive("/", _bootstrap_archive(bootstrap))
        repository, name = tag.split(":")
        container.commit(repository=repository, tag=name, changes=image_changes())
    finally:
        container.remove(force=True)
    return tag
