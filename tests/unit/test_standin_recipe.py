"""The stand-in image's tag is a pure function of its inputs."""

from __future__ import annotations

import dataclasses

import pytest

from probes import layout, standin
from probes.errors import NoStandinRelease
from probes.standin import StandinRecipe


def test_same_inputs_give_the_same_tag() -> None:
    assert StandinRecipe.for_runtime("python3.13").tag == StandinRecipe.for_runtime("python3.13").tag


def test_tag_names_the_repository_and_runtime() -> None:
    tag = StandinRecipe.for_runtime("python3.13").tag
    repository, _, version = tag.partition(":")
    assert repository == "renderzip-standin"
    assert version.startswith("python3.13-")
    assert len(version.removeprefix("python3.13-")) == 16


def test_runtime_picks_the_debian_release_with_that_python3() -> None:
    assert StandinRecipe.for_runtime("python3.13").suite == "trixie"
    assert StandinRecipe.for_runtime("python3.11").suite == "bookworm"


@pytest.mark.parametrize(
    "change",
    [
        {"suite": "sid"},
        {"packages": ("python3", "ca-certificates", "tzdata")},
        {"arch": "arm64"},
        {"layout": layout.lambda_layout("3.12")},
    ],
    ids=lambda change: next(iter(change)),
)
def test_changing_an_input_changes_the_tag(change: dict[str, object]) -> None:
    recipe = StandinRecipe.for_runtime("python3.13")
    assert dataclasses.replace(recipe, **change).tag != recipe.tag  # type: ignore[arg-type]


def test_recipe_and_layout_versions_are_inputs(monkeypatch: pytest.MonkeyPatch) -> None:
    before = StandinRecipe.for_runtime("python3.13").tag
    monkeypatch.setattr(standin, "RECIPE_VERSION", standin.RECIPE_VERSION + 1)
    after_recipe = StandinRecipe.for_runtime("python3.13").tag
    monkeypatch.setattr(layout, "LAYOUT_VERSION", layout.LAYOUT_VERSION + 1)
    after_layout = StandinRecipe.for_runtime("python3.13").tag
    assert len({before, after_recipe, after_layout}) == 3


def test_the_image_environment_is_an_input(monkeypatch: pytest.MonkeyPatch) -> None:
    before = StandinRecipe.for_runtime("python3.13").tag
    monkeypatch.setattr(standin, "image_changes", lambda: ["ENV LANG=C.UTF-8"])
    assert StandinRecipe.for_runtime("python3.13").tag != before


def test_runtime_without_a_debian_python3_is_refused_with_the_choices() -> None:
    with pytest.raises(NoStandinRelease) as caught:
        StandinRecipe.for_runtime("python3.12")
    assert str(caught.value) == (
        "no Debian release has 3.12 as its python3, so no stand-in image can be built for python3.12"
    )
    assert "python3.11, python3.13" in caught.value.hint
