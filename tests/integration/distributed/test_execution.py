"""The deployed state machine runs a render end to end: plan, N chunks through the Map, assemble."""

from __future__ import annotations

import http.client
import io
import json
import os
import re
import signal
import subprocess
import sys
import tarfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from deploy.budgets import history_events
from deploy.history import retried_tasks
from deploy.retry import DEFAULT_POLICY
from probes import lambda_env
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


RENDER = ("-m", "runner", "render", str(EXAMPLE), "--chunks", str(CHUNKS))


@pytest.fixture(scope="module")
def local_render(deployed: Deployed, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The same composition rendered on this machine, chunked the same way."""
    output = tmp_path_factory.mktemp("local") / "local.mp4"
    alone = deployed.aws.run(*RENDER, "-o", str(output))
    assert alone.returncode == 0, alone.stderr
    return output.read_bytes()


def _start_remote(deployed: Deployed, output: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, *RENDER, "-o", str(output), "--remote", STACK, "--poll-seconds", "1"],
        cwd=ROOT,
        env=deployed.aws.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _latest_execution(deployed: Deployed) -> dict[str, Any]:
    return max(_executions(deployed), key=lambda execution: execution["startDate"])


def test_a_remote_render_runs_every_state_and_equals_the_local_render_byte_for_byte(
    deployed: Deployed, local_render: bytes, tmp_path: Path
) -> None:
    remote = tmp_path / "remote.mp4"
    ran = deployed.aws.run(*RENDER, "-o", str(remote), "--remote", STACK, "--poll-seconds", "1")
    assert ran.returncode == 0, ran.stderr
    assert re.search(rf"succeeded: chunks {CHUNKS}/{CHUNKS} \([0-9]+ s, \$[0-9.]+ so far\)", ran.stderr), ran.stderr
    assert re.search(rf"cost: \$[0-9.]+ \({CHUNKS + 2} invocations, [0-9.]+ s of Lambda, ", ran.stderr), ran.stderr
    assert remote.read_bytes() == local_render

    execution = _latest_execution(deployed)
    assert execution["status"] == "SUCCEEDED"
    events = _history(deployed, execution["executionArn"])
    scheduled = [e for e in events if e["type"] == "TaskScheduled"]
    actions = [json.loads(e["taskScheduledEventDetails"]["parameters"])["Payload"]["Action"] for e in scheduled]
    assert actions.count("plan") == 1 and actions.count("assemble") == 1
    assert actions.count("renderChunk") == CHUNKS
    assert sum(e["type"] == "LambdaFunctionFailed" or e["type"] == "TaskFailed" for e in events) == 0
    # Without retries the history is the budget's worst case less its retry events.
    assert len(events) <= history_events(CHUNKS, DEFAULT_POLICY.max_attempts)
    assert len(events) == history_events(CHUNKS, 0), [e["type"] for e in events]


def _wait_for_new_object(deployed: Deployed, suffix: str, known: set[str], timeout: float = 120) -> str:
    """The first key ending ``suffix`` that is not in ``known``, polled every 20 ms."""
    s3, bucket = deployed.aws.client("s3"), deployed.outputs["BucketName"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        keys = [item["Key"] for item in s3.list_objects_v2(Bucket=bucket, Prefix="renders/").get("Contents", [])]
        fresh = [key for key in keys if key.endswith(suffix) and key not in known]
        if fresh:
            return fresh[0]
        time.sleep(0.02)
    raise AssertionError(f"no new object ending {suffix} within {timeout} s")


def _tampered(archive: bytes) -> bytes:
    """The plan archive with one file more: a valid archive whose hash is not the plan's."""
    out = io.BytesIO()
    with (
        tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as source,
        tarfile.open(fileobj=out, mode="w:gz") as tar,
    ):
        for member in source:
            tar.addfile(member, source.extractfile(member) if member.isfile() else None)
        extra = tarfile.TarInfo("extra.txt")
        extra.size = 1
        tar.addfile(extra, io.BytesIO(b"x"))
    return out.getvalue()


def test_a_plan_changed_after_planning_fails_the_execution_with_plan_hash_mismatch_and_no_retry(
    deployed: Deployed, tmp_path: Path
) -> None:
    s3, bucket = deployed.aws.client("s3"), deployed.outputs["BucketName"]
    known = {item["Key"] for item in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}
    child = _start_remote(deployed, tmp_path / "out.mp4")
    try:
        key = _wait_for_new_object(deployed, "/plan.tar.gz", known)
        s3.put_object(Bucket=bucket, Key=key, Body=_tampered(s3.get_object(Bucket=bucket, Key=key)["Body"].read()))
        _, err = child.communicate(timeout=300)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 2, err
    (error_line,) = [line for line in err.splitlines() if line.startswith("ERROR ")]
    assert re.search(r"ended FAILED in state RenderChunk, chunk [0-9]: PlanHashMismatch: ", error_line), err
    assert not (tmp_path / "out.mp4").exists()

    execution = _latest_execution(deployed)
    described = deployed.aws.client("stepfunctions").describe_execution(executionArn=execution["executionArn"])
    assert (described["status"], described["error"]) == ("FAILED", "PlanHashMismatch")
    events = _history(deployed, execution["executionArn"])
    chunks = [index for action, index in retried_tasks(events) if action == "renderChunk"]
    assert chunks and len(chunks) == len(set(chunks)), chunks  # a permanent error: no chunk ran twice
    failed = [e["taskFailedEventDetails"]["error"] for e in events if e["type"] == "TaskFailed"]
    assert failed and set(failed) == {"PlanHashMismatch"}, failed


def test_a_function_killed_mid_render_is_retried_and_the_output_is_still_identical(
    deployed: Deployed, local_render: bytes, docker_client: Any, tmp_path: Path
) -> None:
    output = tmp_path / "out.mp4"
    child = _start_remote(deployed, output)
    try:
        killed = _kill_function_of_chunk(docker_client, deployed.aws.image, chunk_index=1)
        _, err = child.communicate(timeout=300)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 0, err
    assert output.read_bytes() == local_render

    events = _history(deployed, _latest_execution(deployed)["executionArn"])
    failed = [e["taskFailedEventDetails"] for e in events if e["type"] == "TaskFailed"]
    assert [f["error"] for f in failed] == ["Runtime.ExitError"], failed
    assert "signal: SIGKILL" in failed[0]["cause"], killed
    chunks = [index for action, index in retried_tasks(events) if action == "renderChunk"]
    assert sorted(chunks) == [0, 1, 1, 2, 3], chunks


def _kill_function_of_chunk(client: Any, image: str, *, chunk_index: int, timeout: float = 120) -> str:
    """Kill the function's process in the container rendering ``chunk_index`` once its Chrome runs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for container in client.containers.list(filters={"ancestor": image, "status": "running"}):
            args = container.attrs.get("Args") or []
            try:
                event = json.loads(args[-1])
            except (IndexError, json.JSONDecodeError):
                continue
            if event.get("Action") != "renderChunk" or event.get("ChunkIndex") != chunk_index:
                continue
            processes = container.top(ps_args="-eo pid,ppid,uid,args")["Processes"] or []
            if not any("headless" in command or "chrom" in command for _, _, _, command in processes):
                continue
            # Every process of the function runs as Lambda's user, not root.
            assert {uid for _, _, uid, _ in processes} == {str(lambda_env.USER_ID)}, processes
            # The function's process, not a child caught between fork and exec, which shows its command line.
            invoking = {pid: ppid for pid, ppid, _, command in processes if "--invoke" in command}
            (function_pid,) = [int(pid) for pid, ppid in invoking.items() if ppid not in invoking]
            os.kill(function_pid, signal.SIGKILL)
            return f"{container.name}: killed pid {function_pid} with {len(processes)} processes running"
        time.sleep(0.05)
    raise AssertionError(f"chunk {chunk_index} never ran Chrome within {timeout} s")


class ThrottlingProxy(BaseHTTPRequestHandler):
    """Forwards every S3 request to moto, but answers the first PUT of one chunk with 503 SlowDown."""

    protocol_version = "HTTP/1.1"
    upstream = ""
    throttle_path = ""
    throttled: ClassVar[list[str]] = []
    forwarded: ClassVar[list[str]] = []
    BODY = (
        b"<?xml version='1.0'?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
    )

    def _throttles(self) -> bool:
        return self.command == "PUT" and self.path.startswith(self.throttle_path) and not type(self).throttled

    def handle_expect_100(self) -> bool:
        # A throttled request is refused before its body, as S3 does: no 100 Continue for it.
        return True if self._throttles() else super().handle_expect_100()

    def _forward(self) -> None:
        if self._throttles():
            type(self).throttled.append(self.path)
            self.send_response(503)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(self.BODY)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(self.BODY)
            return
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {key: value for key, value in self.headers.items() if key.lower() != "expect"}
        upstream = http.client.HTTPConnection(self.upstream, timeout=60)
        try:
            upstream.request(self.command, self.path, body=body or None, headers=headers)
            answer = upstream.getresponse()
            data = answer.read()
        finally:
            upstream.close()
        type(self).forwarded.append(f"{self.command} {self.path.split('?')[0]} {answer.status}")
        self.send_response(answer.status)
        for key, value in answer.getheaders():
            if key.lower() not in ("content-length", "transfer-encoding", "connection", "server", "date"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_PUT = do_HEAD = do_POST = do_DELETE = _forward

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_throttled_s3_request_of_a_chunk_is_retried_and_the_render_succeeds(
    deployed: Deployed, local_render: bytes, tmp_path: Path
) -> None:
    lam = deployed.aws.client("lambda")
    function = deployed.outputs["FunctionArn"]
    variables = dict(lam.get_function_configuration(FunctionName=function)["Environment"]["Variables"])
    ThrottlingProxy.upstream = deployed.aws.endpoint.removeprefix("http://")
    ThrottlingProxy.throttle_path = f"/{deployed.outputs['BucketName']}/renders/"
    ThrottlingProxy.throttled.clear()
    ThrottlingProxy.forwarded.clear()
    output = tmp_path / "out.mp4"
    with ThreadingHTTPServer(("127.0.0.1", 0), ThrottlingProxy) as proxy:
        thread = threading.Thread(target=proxy.serve_forever, daemon=True)
        thread.start()
        # The S3 endpoint of the function alone; the Step Functions and Lambda calls still go to moto.
        endpoint = f"http://127.0.0.1:{proxy.server_address[1]}"
        lam.update_function_configuration(
            FunctionName=function, Environment={"Variables": {**variables, "AWS_ENDPOINT_URL_S3": endpoint}}
        )
        try:
            ran = deployed.aws.run(*RENDER, "-o", str(output), "--remote", STACK, "--poll-seconds", "1")
        finally:
            lam.update_function_configuration(FunctionName=function, Environment={"Variables": variables})
            proxy.shutdown()
    assert ran.returncode == 0, ran.stderr
    assert output.read_bytes() == local_render
    (throttled,) = ThrottlingProxy.throttled
    assert f"PUT {throttled.split('?')[0]} 200" in ThrottlingProxy.forwarded, ThrottlingProxy.forwarded
    events = _history(deployed, _latest_execution(deployed)["executionArn"])
    assert [e for e in events if e["type"] == "TaskFailed"] == []


def test_estimate_prints_the_cost_from_a_sample_chunk_and_starts_nothing(deployed: Deployed, tmp_path: Path) -> None:
    before = len(_executions(deployed))
    ran = deployed.aws.run(
        *RENDER, "-o", str(tmp_path / "out.mp4"), "--remote", STACK, "--estimate", "--image", "standin"
    )
    assert ran.returncode == 0, ran.stderr
    assert "rendering a sample chunk in renderzip-standin:" in ran.stderr
    assert re.search(rf"estimate: 90 frames in {CHUNKS} chunks, [0-9.]+ s per frame", ran.stderr), ran.stderr
    band = re.search(r"cost: \$([0-9.]+)-\$([0-9.]+) \(prices of us-east-1, read ", ran.stderr)
    assert band is not None, ran.stderr
    assert 0 < float(band[1]) < float(band[2])
    assert len(_executions(deployed)) == before
    assert not (tmp_path / "out.mp4").exists()


def test_max_cost_refuses_a_render_whose_high_estimate_is_over_it(deployed: Deployed, tmp_path: Path) -> None:
    before = len(_executions(deployed))
    args = ("-o", str(tmp_path / "out.mp4"), "--remote", STACK, "--max-cost", "0.000001", "--image", "standin")
    ran = deployed.aws.run(*RENDER, *args)
    assert ran.returncode == 2, ran.stderr
    assert re.search(r"ERROR the render may cost up to \$[0-9.]+, over --max-cost \$0\.0000", ran.stderr), ran.stderr
    assert len(_executions(deployed)) == before
