"""`python -m deploy` against the moto server: the lines users read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from deploy.cli import main
from deploy.stack import ZipArtifact
from tests.integration.deploy.conftest import RUNTIME_VERSION_ARN


def test_up_twice_prints_the_outputs_and_then_changes_nothing(
    aws: Any, small_zip: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["up", "--stack", "cli", "--zip", str(small_zip), "--runtime-version-arn", RUNTIME_VERSION_ARN]
    assert main(argv) == 0
    first = capsys.readouterr()
    artifact = ZipArtifact.read(small_zip)
    assert f"uploaded s3://renderzip-artifacts-123456789012-us-east-1/{artifact.key}" in first.err
    assert "stack cli: created" in first.err
    assert [line.split("\t")[0] for line in first.out.splitlines()] == [
        "BucketName",
        "FunctionArn",
        "MaxConcurrency",
        "StateMachineArn",
    ]

    assert main(argv[:-2]) == 0
    second = capsys.readouterr()
    assert f"unchanged s3://renderzip-artifacts-123456789012-us-east-1/{artifact.key}" in second.err
    assert "stack cli: unchanged" in second.err
    assert second.out == first.out


def test_render_refused_over_budget_prints_error_and_hint(
    aws: Any, small_zip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    up = ["up", "--stack", "cli", "--zip", str(small_zip), "--runtime-version-arn", RUNTIME_VERSION_ARN]
    assert main([*up, "--max-concurrency", "1"]) == 0
    capsys.readouterr()
    project = tmp_path / "comp"
    project.mkdir()
    (project / "index.html").write_text('<div data-width="8" data-height="8" data-duration="10"></div>', "utf-8")
    argv = ["render", str(project), "-o", str(tmp_path / "out.mp4"), "--stack", "cli"]
    assert main([*argv, "--config", '{"FramesPerChunk": 30}']) == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "ERROR chunk count: 10 is over the limit of 4 (turn FramesPerChunk)"
    assert lines[1].startswith("hint: raise Config.FramesPerChunk or lower Config.Chunks; the cap is min(1000,")


def test_render_on_a_missing_stack_says_to_deploy(aws: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "index.html").write_text('<div data-width="8" data-height="8" data-duration="1"></div>', "utf-8")
    assert main(["render", str(tmp_path), "-o", str(tmp_path / "o.mp4"), "--stack", "nope"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "ERROR stack nope does not exist",
        "hint: deploy it first: nox -s deploy -- --stack nope",
    ]
