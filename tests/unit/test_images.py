"""Which image reference the probes use."""

from __future__ import annotations

from pathlib import Path

import pytest

from bundler.lockfiles import ImagePin
from probes.images import IMAGE_ENV, NoImagePinned, default_image, docker_reference, requested_image

DIGEST = "sha256:" + "ab" * 32


def test_a_pinned_digest_replaces_the_tag() -> None:
    pin = ImagePin("public.ecr.aws/lambda/python:3.13", DIGEST)
    assert docker_reference(pin) == f"public.ecr.aws/lambda/python@{DIGEST}"


def test_without_a_digest_the_tag_is_used() -> None:
    assert docker_reference(ImagePin("public.ecr.aws/lambda/python:3.13", "")) == "public.ecr.aws/lambda/python:3.13"


def test_a_registry_port_is_not_a_tag() -> None:
    pin = ImagePin("registry.invalid:5000/lambda/python", DIGEST)
    assert docker_reference(pin) == f"registry.invalid:5000/lambda/python@{DIGEST}"


def test_default_comes_from_the_artifacts_lock() -> None:
    assert default_image("python3.13").startswith("public.ecr.aws/lambda/python")


def test_runtime_missing_from_the_lock_is_named(tmp_path: Path) -> None:
    source = Path(__file__).resolve().parents[2] / "lockfiles" / "artifacts.toml"
    text = source.read_text().split('[image."python3.11"]')[0]
    (tmp_path / "artifacts.toml").write_text(text)
    with pytest.raises(NoImagePinned, match=r"python3\.13"):
        default_image("python3.13", tmp_path)


def test_option_then_environment_then_default() -> None:
    assert requested_image("standin", {IMAGE_ENV: "other"}) == "standin"
    assert requested_image(None, {IMAGE_ENV: "other"}) == "other"
    assert requested_image(None, {}) == ""
