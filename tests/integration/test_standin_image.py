"""The stand-in image: built once, reused while its inputs are unchanged, Lambda's layout, no Chrome dependencies."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bundler.progress import SilentReporter
from probes.runner import RunSpec, run_in_image
from probes.standin import INPUTS_LABEL, StandinRecipe, ensure_standin
from tests.integration.conftest import ROOT, StandinImage

pytestmark = pytest.mark.docker


class Recorder(SilentReporter):
    def __init__(self) -> None:
        self.steps: list[str] = []

    def step(self, message: str) -> None:
        self.steps.append(message)


def _run_json(image: StandinImage, tmp_path: Path, code: str) -> dict[str, Any]:
    task = tmp_path / "task"
    task.mkdir(mode=0o755, exist_ok=True)
    outcome = run_in_image(RunSpec(image.tag, task, ("-c", code), timeout_s=60))
    assert outcome.ok, outcome.stderr_tail
    assert outcome.result is not None
    return outcome.result


def test_second_ensure_reuses_the_image_without_building(standin_image: StandinImage, docker_client: Any) -> None:
    created = docker_client.images.get(standin_image.tag).attrs["Created"]
    recorder = Recorder()
    again = ensure_standin(standin_image.runtime, recorder, client=docker_client)
    assert again.built is False
    assert again.image_id == standin_image.image_id
    assert docker_client.images.get(standin_image.tag).attrs["Created"] == created
    assert recorder.steps == [f"stand-in image {standin_image.tag} is present (cached, not rebuilt)"]


def test_image_is_labelled_with_its_inputs_hash(standin_image: StandinImage, docker_client: Any) -> None:
    recipe = StandinRecipe.for_runtime(standin_image.runtime)
    assert standin_image.tag == recipe.tag
    labels = docker_client.images.get(standin_image.tag).labels
    assert labels[INPUTS_LABEL] == recipe.inputs_hash


def test_has_the_lambda_layout_and_python(standin_image: StandinImage, tmp_path: Path) -> None:
    found = _run_json(
        standin_image,
        tmp_path,
        "import json, os, sys, ssl, hashlib, sqlite3, concurrent.futures, subprocess;"
        "print(json.dumps({'exe': sys.executable, 'python': '%d.%d' % sys.version_info[:2],"
        " 'dirs': [p for p in ('/var/task', '/var/runtime', '/var/lang/bin', '/opt') if os.path.isdir(p)],"
        " 'cwd': os.getcwd(), 'encoding': sys.getfilesystemencoding()}))",
    )
    assert found == {
        "exe": "/var/lang/bin/python3",
        "python": "3.13",
        "dirs": ["/var/task", "/var/runtime", "/var/lang/bin", "/opt"],
        "cwd": "/var/task",
        "encoding": "utf-8",
    }


def test_has_none_of_chromes_dependencies(standin_image: StandinImage, tmp_path: Path) -> None:
    found = _run_json(
        standin_image,
        tmp_path,
        "import ctypes.util, glob, json;"
        "libs = ['nss3', 'nspr4', 'fontconfig', 'freetype', 'X11', 'xcb', 'gbm', 'drm', 'asound', 'atk-1.0', 'cups'];"
        "print(json.dumps({'libs': [l for l in libs if ctypes.util.find_library(l)],"
        " 'fonts': glob.glob('/usr/share/fonts/**/*.ttf', recursive=True)}))",
    )
    assert found == {"libs": [], "fonts": []}


def test_cli_prints_the_standin_tag(standin_image: StandinImage) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "probes", "image", "--image", "standin"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{standin_image.tag}\n"
    assert "(cached, not rebuilt)" in result.stderr


def test_runtime_without_a_stand_in_is_a_one_line_error() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "probes", "image", "--runtime", "python3.12", "--image", "standin"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert lines[0] == (
        "ERROR no Debian release has 3.12 as its python3, so no stand-in image can be built for python3.12"
    )
    assert lines[1].startswith("hint: build the stand-in for one of python3.11, python3.13")
    assert result.stdout == ""
