"""The deployed state machine runs a render end to end: plan, N chunks through the Map, assemble."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from deploy.budgets import history_events
from deploy.retry import DEFAULT_POLICY
from tests.integration.conftest import ROOT
from tests.integration.distributed.conftest import STACK, Deployed

pytestmark = [pytest.mark.distributed, pytest.mark.docker, pytest.mark.s3, pytest.mark.chrome]

EXAMPLE = ROOT / "examples" / "css-animation"
CHUNKS = 4


def _history(deployed: Deployed, execution_arn: str) -> list[dict[str, Any]]:
    sfn = deployed.aws.client("stepfunctions")
    events: list[dict[str, Any]] = []
    token: dict[str, str] = {}
    while True:
        page = sfn.get_execution_history(executionArn=execution_arn, maxResults=1000, **token)
        events += page["events"]
        if "nextToken" not in page:
            return events
        token = {"nextToken": page["nextToken"]}


def _executions(deployed: Deployed) -> list[dict[str, Any]]:
    sfn = deployed.aws.client("stepfunctions")
    return list(sfn.list_executions(stateMachineArn=deployed.outputs["StateMachineArn"])["executions"])


def test_deploy_verifies_that_the_function_runs_the_built_zip(deployed: Deployed) -> None:
    manifest = json.loads(deployed.aws.zip_path.with_name("handler.zip.manifest.json").read_text())
    assert f"runs the built zip (CodeSha256 {manifest['zip']['code_sha256']})" in deployed.deploy_output
    result = deployed.aws.run("-m", "deploy", "verify", "--stack", STACK)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\t")[1] == f"CodeSha256 {manifest['zip']['code_sha256']}"


def test_a_remote_render_runs_every_state_and_equals_the_local_render_byte_for_byte(
    deployed: Deployed, tmp_path: Path
) -> None:
    remote, local = tmp_path / "remote.mp4", tmp_path / "local.mp4"
    args = ("-m", "runner", "render", str(EXAMPLE), "--chunks", str(CHUNKS))
    ran = deployed.aws.run(*args, "-o", str(remote), "--remote", STACK, "--poll-seconds", "1")
    assert ran.returncode == 0, ran.stderr
    assert f"succeeded: chunks {CHUNKS}/{CHUNKS}" in ran.stderr
    alone = deployed.aws.run(*args, "-o", str(local))
    assert alone.returncode == 0, alone.stderr
    assert remote.read_bytes() == local.read_bytes()

    (execution,) = [e for e in _executions(deployed) if e["status"] == "SUCCEEDED"]
    events = _history(deployed, execution["executionArn"])
    scheduled = [e for e in events if e["type"] == "TaskScheduled"]
    actions = [json.loads(e["taskScheduledEventDetails"]["parameters"])["Payload"]["Action"] for e in scheduled]
    assert actions.count("plan") == 1 and actions.count("assemble") == 1
    assert actions.count("renderChunk") == CHUNKS
    assert sum(e["type"] == "LambdaFunctionFailed" or e["type"] == "TaskFailed" for e in events) == 0
    # Without retries the history is the budget's worst case less its retry events.
    assert len(events) <= history_events(CHUNKS, DEFAULT_POLICY.max_attempts)
    assert len(events) == history_events(CHUNKS, 0), [e["type"] for e in events]
