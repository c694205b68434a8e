"""`deploy.remote` against the moto server.

moto records executions but does not run Lambda tasks, so these tests play the
function's part: they write the plan and chunk objects a real execution would
write, and check that progress is read from them. Completion is checked with
an execution stopped on purpose (moto cannot make one succeed).
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import tarfile
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from deploy.errors import BudgetExceeded, RemoteRenderFailed
from deploy.progress import Progress
from deploy.remote import download, follow, submit
from deploy.stack import deploy
from handler.render.planfile import PlanDoc, canonical_json
from handler.render.settings import FrameRate
from tests.integration.deploy.conftest import RUNTIME_VERSION_ARN

ROOT = Path(__file__).resolve().parents[3]
STACK = "renderzip-remote"
PLAN_HASH = "v1-" + "ab" * 32
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture
def stack(aws: Any, small_zip: Path) -> dict[str, str]:
    result = deploy(
        aws, stack=STACK, zip_path=small_zip, runtime_version_arn=RUNTIME_VERSION_ARN, max_concurrency=2, wait_delay=1
    )
    return result.outputs


def _composition(root: Path, seconds: int = 4, fps: int = 30) -> Path:
    root.mkdir()
    (root / "index.html").write_text(
        f'<div data-width="64" data-height="64" data-fps="{fps}" data-duration="{seconds}"></div>', encoding="utf-8"
    )
    (root / "style.css").write_text("div { color: red }", encoding="utf-8")
    return root


def _plan_archive(chunks: int) -> bytes:
    doc = PlanDoc(
        width=64,
        height=64,
        fps=FrameRate(30),
        total_frames=30 * chunks,
        chunks=tuple((30 * i, 30 * (i + 1)) for i in range(chunks)),
        encoder={},
        runtime={},
        has_audio=False,
    )
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in (("audio.m4a", b"\0" * 2048), ("plan.json", canonical_json(doc.to_json()))):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_submit_uploads_the_composition_and_starts_the_execution_with_the_plan_input(
    aws: Any, stack: dict[str, str], tmp_path: Path
) -> None:
    project = _composition(tmp_path / "comp")
    submitted = submit(aws, project, stack=STACK, config={"FramesPerChunk": 30}, now=NOW)

    base = f"s3://{stack['BucketName']}/renders/{submitted.render_id}"
    assert submitted.render_id.startswith("20260102T030405Z-")
    execution = aws.client("stepfunctions").describe_execution(executionArn=submitted.execution_arn)
    assert execution["stateMachineArn"] == stack["StateMachineArn"]
    assert execution["name"] == submitted.render_id
    assert json.loads(execution["input"]) == {
        "ProjectUri": f"{base}/project.tar.gz",
        "OutputPrefix": base,
        "OutputUri": f"{base}/output.mp4",
        "Config": {"FramesPerChunk": 30},
    }
    body = aws.client("s3").get_object(Bucket=stack["BucketName"], Key=f"renders/{submitted.render_id}/project.tar.gz")
    with tarfile.open(fileobj=io.BytesIO(body["Body"].read()), mode="r:gz") as tar:
        assert sorted(tar.getnames()) == ["index.html", "style.css"]
    assert submitted.budget.chunks == 4 and submitted.budget.chunk_cap == 8


def test_progress_counts_the_chunk_objects_of_the_plan(aws: Any, stack: dict[str, str], tmp_path: Path) -> None:
    submitted = submit(aws, _composition(tmp_path / "comp"), stack=STACK, config={"FramesPerChunk": 30})
    s3 = aws.client("s3")
    bucket = stack["BucketName"]
    plan_dir = f"{submitted.prefix_key}/{PLAN_HASH}"
    seen: list[Progress] = []
    polls = iter(range(10))

    def step(_: float) -> None:
        """Between polls, do what the function would: plan, then chunks, then the execution ends."""
        poll = next(polls)
        if poll == 0:
            s3.put_object(Bucket=bucket, Key=f"{plan_dir}/plan.tar.gz", Body=_plan_archive(4))
        elif poll in (1, 2):
            for index in (2 * poll - 2, 2 * poll - 1):
                s3.put_object(Bucket=bucket, Key=f"{plan_dir}/chunks/{index:04d}.mp4", Body=b"chunk")
            s3.put_object(Bucket=bucket, Key=f"{plan_dir}/chunks/0001.mp4.partial", Body=b"not a chunk")
        else:
            aws.client("stepfunctions").stop_execution(
                executionArn=submitted.execution_arn, error="Stopped", cause="test"
            )

    description = follow(aws, submitted, progress=seen.append, poll_seconds=0, sleep=step)

    assert [(p.status, p.done, p.total) for p in seen] == [
        ("RUNNING", 0, None),
        ("RUNNING", 0, 4),
        ("RUNNING", 2, 4),
        ("RUNNING", 4, 4),
        ("ABORTED", 4, 4),
    ]
    assert seen[1].plan_hash == PLAN_HASH
    assert [p.line() for p in seen[:2]] == [
        "running: planning (0 s, $0.0000 so far)",
        "running: chunks 0/4 (0 s, $0.0000 so far)",
    ]
    with pytest.raises(RemoteRenderFailed, match="ended ABORTED"):
        download(aws, submitted, description, tmp_path / "out.mp4")
    assert not (tmp_path / "out.mp4").exists()


def test_download_writes_the_output_once_its_hash_matches(aws: Any, stack: dict[str, str], tmp_path: Path) -> None:
    submitted = submit(aws, _composition(tmp_path / "comp"), stack=STACK)
    video = b"\0\0\0\x18ftypmp42 video bytes"
    key = f"{submitted.prefix_key}/output.mp4"
    aws.client("s3").put_object(Bucket=stack["BucketName"], Key=key, Body=video)
    import hashlib  # noqa: PLC0415

    result = {
        "OutputUri": submitted.output_uri,
        "Sha256": hashlib.sha256(video).hexdigest(),
        "Bytes": len(video),
        "Frames": 120,
        "DurationMs": 4000,
    }
    out = tmp_path / "out" / "video.mp4"
    done = download(aws, submitted, {"status": "SUCCEEDED", "output": json.dumps(result)}, out)
    assert out.read_bytes() == video
    assert (done.sha256, done.bytes, done.frames) == (result["Sha256"], len(video), 120)
    assert list(out.parent.iterdir()) == [out]


def test_over_budget_renders_are_refused_before_anything_is_uploaded(
    aws: Any, stack: dict[str, str], tmp_path: Path
) -> None:
    project = _composition(tmp_path / "comp", seconds=10)
    with pytest.raises(BudgetExceeded) as refused:
        submit(aws, project, stack=STACK, config={"FramesPerChunk": 30})
    assert (refused.value.what, refused.value.actual, refused.value.limit) == ("chunk count", 10, 8)
    assert "FramesPerChunk" in str(refused.value) and "--max-concurrency" in refused.value.hint
    with pytest.raises(BudgetExceeded, match="execution input"):
        submit(aws, project, stack=STACK, config={"Chunks": 1, "Padding": "x" * 262_144})
    s3 = aws.client("s3")
    assert s3.list_objects_v2(Bucket=stack["BucketName"]).get("KeyCount") == 0
    assert aws.client("stepfunctions").list_executions(stateMachineArn=stack["StateMachineArn"])["executions"] == []


class Lines:
    """The lines a child process writes to a pipe, collected as they come."""

    def __init__(self, stream: Any) -> None:
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: Any) -> None:
        for line in stream:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()

    def wait_for(self, line: str, timeout: float = 60) -> None:
        with self._changed:
            if not self._changed.wait_for(
                lambda: line in [seen.split(" (")[0] for seen in self.lines], timeout=timeout
            ):
                raise AssertionError(f"{line!r} never came; got {self.lines}")

    def join(self) -> list[str]:
        self._thread.join(timeout=30)
        return self.lines


def test_handler_render_remote_starts_the_execution_and_shows_chunks_done_of_total(
    aws: Any, stack: dict[str, str], tmp_path: Path
) -> None:
    """``python -m runner render --remote`` as users run it; the test writes what the function would."""
    project = _composition(tmp_path / "comp")
    command = [sys.executable, "-m", "runner", "render", str(project), "-o", str(tmp_path / "out.mp4")]
    command += ["--remote", STACK, "--region", "us-east-1", "--chunks", "4", "--crf", "20", "--poll-seconds", "0.1"]
    child = subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        err = Lines(child.stderr)
        err.wait_for("running: planning")
        sfn, s3, bucket = aws.client("stepfunctions"), aws.client("s3"), stack["BucketName"]
        (execution,) = sfn.list_executions(stateMachineArn=stack["StateMachineArn"])["executions"]
        started = json.loads(sfn.describe_execution(executionArn=execution["executionArn"])["input"])
        base = f"s3://{bucket}/renders/{execution['name']}"
        assert started == {
            "ProjectUri": f"{base}/project.tar.gz",
            "OutputPrefix": base,
            "OutputUri": f"{base}/output.mp4",
            "Config": {"Crf": 20, "Chunks": 4},
        }
        plan_dir = f"renders/{execution['name']}/{PLAN_HASH}"
        s3.put_object(Bucket=bucket, Key=f"{plan_dir}/plan.tar.gz", Body=_plan_archive(4))
        err.wait_for("running: chunks 0/4")
        for index in range(3):
            s3.put_object(Bucket=bucket, Key=f"{plan_dir}/chunks/{index:04d}.mp4", Body=b"chunk")
        err.wait_for("running: chunks 3/4")
        sfn.stop_execution(executionArn=execution["executionArn"], error="States.TaskFailed", cause="test")
        assert child.wait(timeout=60) == 2
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    lines = err.join()
    assert re.fullmatch(r"aborted: chunks 3/4 \([0-9]+ s, \$0\.0000 so far\)", lines[-3]), lines
    assert lines[-2].startswith(f"ERROR execution {execution['executionArn']} ended ABORTED"), lines
    assert lines[-1].startswith("hint: see the execution's history"), lines
    assert not (tmp_path / "out.mp4").exists()
