"""The Lambda entry point end to end over a real S3 API (moto in server mode on loopback).

Plan, three chunks and assemble go through `handler.app.handler` with ``s3://``
URIs, exactly the events Step Functions sends, and the video that comes back
is compared with the local render of the same composition. Then the hostile
cases that need a real plan in S3: a bucket outside the allowlist, a plan
whose hash is not the one the event carries, a truncated plan archive.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from handler.app import handler
from handler.edge.archive import pack_tree
from handler.errors import BucketNotAllowed, ChromeCrashed, InvalidPlan, PlanHashMismatch
from handler.render.runtime import ENV_RUNTIME_DIR, Runtime
from runner.local import LocalRender
from tests.integration.conftest import BARCODE, S3Server, barcode_values, use_s3_server
from tooling.media import decode_frames
from tooling.requests import assemble_event, chunk_event, plan_event

pytestmark = [pytest.mark.s3, pytest.mark.chrome]


class Context:
    """What the handler reads of Lambda's context object."""

    aws_request_id = "e2e-0000"
    function_name = "renderzip-e2e"
    memory_limit_in_mb = "10240"


@dataclass(frozen=True)
class S3Render:
    s3: Any
    bucket: str
    prefix: str
    plan: dict[str, Any]
    chunks: list[dict[str, Any]]
    assembled: dict[str, Any]
    output: Path
    other_plan: dict[str, Any]
    """A second, real plan of the same composition (two chunks): its PlanHash is another plan's."""


@pytest.fixture(scope="module")
def s3_module(s3_server: S3Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    with pytest.MonkeyPatch.context() as patch:
        use_s3_server(patch, s3_server, tmp_path_factory.mktemp("aws"))
        yield s3_server


@pytest.fixture(scope="module")
def s3_render(s3_module: S3Server, packaged_runtime: Runtime, tmp_path_factory: pytest.TempPathFactory) -> S3Render:
    work = tmp_path_factory.mktemp("s3-render")
    s3 = boto3.client("s3", endpoint_url=s3_module.endpoint)
    bucket = f"renderzip-e2e-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    archive = work / "project.tar.gz"
    pack_tree(BARCODE, archive)
    s3.upload_file(str(archive), bucket, "in/project.tar.gz")
    prefix = f"s3://{bucket}/renders/e2e"

    def plan(chunks: int) -> dict[str, Any]:
        return handler(plan_event(f"s3://{bucket}/in/project.tar.gz", prefix, {"Chunks": chunks}), Context())

    planned = plan(3)
    chunks = [handler(chunk_event(planned, prefix, index), Context()) for index in range(3)]
    assembled = handler(assemble_event(planned, chunks, f"{prefix}/output.mp4"), Context())
    output = work / "output.mp4"
    s3.download_file(bucket, "renders/e2e/output.mp4", str(output))
    return S3Render(s3, bucket, prefix, planned, chunks, assembled, output, plan(2))


def test_plan_chunks_and_assemble_over_s3_give_the_frames_of_the_local_render(
    s3_render: S3Render, barcode_local_render: LocalRender, packaged_runtime: Runtime
) -> None:
    local = barcode_local_render
    assert s3_render.plan["PlanHash"] == local.plan["PlanHash"]
    assert (s3_render.plan["ChunkCount"], s3_render.plan["TotalFrames"]) == (3, 60)

    ffmpeg = packaged_runtime.ffmpeg
    assert barcode_values(ffmpeg, s3_render.output) == list(range(60))
    size = {"width": 320, "height": 64}
    assert list(decode_frames(ffmpeg, s3_render.output, **size)) == list(decode_frames(ffmpeg, local.output, **size))
    # The engine is deterministic: the same chunk gives the same bytes on S3 and on disk.
    assert [chunk["Sha256"] for chunk in s3_render.chunks] == [chunk["Sha256"] for chunk in local.chunks]
    assert s3_render.assembled["Sha256"] == local.assembled["Sha256"]
    assert hashlib.sha256(s3_render.output.read_bytes()).hexdigest() == s3_render.assembled["Sha256"]

    plan_dir = f"renders/e2e/{s3_render.plan['PlanHash']}"
    for chunk in s3_render.chunks:
        head = s3_render.s3.head_object(Bucket=s3_render.bucket, Key=f"{plan_dir}/{chunk['ChunkUri']}")
        assert head["Metadata"]["sha256"] == chunk["Sha256"]


def test_each_chunk_result_is_under_200_bytes(s3_render: S3Render) -> None:
    for index, chunk in enumerate(s3_render.chunks):
        assert set(chunk) == {"ChunkIndex", "ChunkUri", "Sha256", "Frames", "DurationMs"}
        assert (chunk["ChunkIndex"], chunk["ChunkUri"], chunk["Frames"]) == (index, f"chunks/{index:04d}.mp4", 20)
        assert len(json.dumps(chunk).encode()) < 200, chunk


def test_a_bucket_outside_the_allowlist_is_refused_before_anything_is_read_or_written(
    s3_render: S3Render, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RENDERZIP_BUCKET_ALLOWLIST", "renderzip-elsewhere")
    event = plan_event(f"s3://{s3_render.bucket}/in/project.tar.gz", f"s3://{s3_render.bucket}/refused", {"Chunks": 3})
    with pytest.raises(BucketNotAllowed) as refused:
        handler(event, Context())
    assert (refused.value.field, refused.value.bucket) == ("ProjectUri", s3_render.bucket)
    assert s3_render.s3.list_objects_v2(Bucket=s3_render.bucket, Prefix="refused/")["KeyCount"] == 0


@pytest.fixture
def chromium_that_cannot_start(packaged_runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same prepared runtime under another root, but with a Chromium that cannot be executed.

    Its identity is unchanged, so plans verify as before; launching Chrome fails with ChromeCrashed.
    """
    root = tmp_path / "runtime"
    copy = root / packaged_runtime.root.name
    copy.mkdir(parents=True)
    for entry in packaged_runtime.root.iterdir():
        if entry.name != "chromium":
            (copy / entry.name).symlink_to(entry)
    (copy / "chromium").write_bytes(b"")
    (copy / "chromium").chmod(0o644)
    monkeypatch.setenv(ENV_RUNTIME_DIR, str(root))


def _chunk_keys(s3_render: S3Render, prefix_key: str) -> list[str]:
    listing = s3_render.s3.list_objects_v2(Bucket=s3_render.bucket, Prefix=prefix_key)
    return [item["Key"] for item in listing.get("Contents", []) if "/chunks/" in item["Key"]]


@pytest.mark.usefixtures("chromium_that_cannot_start")
def test_the_plan_hash_of_another_plan_is_refused_before_chrome_starts(s3_render: S3Render) -> None:
    plan, other = s3_render.plan, s3_render.other_plan
    assert other["PlanHash"] != plan["PlanHash"]
    # Control: with its own hash the plan passes, and Chrome is started, which cannot work here.
    with pytest.raises(ChromeCrashed, match="cannot start"):
        handler(chunk_event(plan, s3_render.prefix, 0), Context())

    # The other plan's event, but the object at its PlanUri holds the first plan.
    prefix_key = "swapped"
    other_hash = other["PlanHash"]
    s3_render.s3.copy_object(
        Bucket=s3_render.bucket,
        Key=f"{prefix_key}/{other_hash}/plan.tar.gz",
        CopySource={"Bucket": s3_render.bucket, "Key": f"renders/e2e/{plan['PlanHash']}/plan.tar.gz"},
    )
    swapped = {**other, "PlanUri": f"s3://{s3_render.bucket}/{prefix_key}/{other_hash}/plan.tar.gz"}
    with pytest.raises(PlanHashMismatch) as refused:
        handler(chunk_event(swapped, f"s3://{s3_render.bucket}/{prefix_key}", 0), Context())
    assert (refused.value.expected, refused.value.actual) == (other_hash, plan["PlanHash"])
    assert "before unpacking" in str(refused.value)
    assert not PlanHashMismatch.retryable
    assert _chunk_keys(s3_render, f"{prefix_key}/") == []


@pytest.mark.usefixtures("chromium_that_cannot_start")
def test_a_truncated_plan_archive_is_an_invalid_plan(s3_render: S3Render) -> None:
    plan_hash = s3_render.plan["PlanHash"]
    whole = s3_render.s3.get_object(Bucket=s3_render.bucket, Key=f"renders/e2e/{plan_hash}/plan.tar.gz")["Body"].read()
    key = f"truncated/{plan_hash}/plan.tar.gz"
    s3_render.s3.put_object(Bucket=s3_render.bucket, Key=key, Body=whole[: len(whole) // 2])
    event = {**s3_render.plan, "PlanUri": f"s3://{s3_render.bucket}/{key}"}
    with pytest.raises(InvalidPlan, match="not a readable plan archive"):
        handler(chunk_event(event, f"s3://{s3_render.bucket}/truncated", 0), Context())
    assert not InvalidPlan.retryable
    assert _chunk_keys(s3_render, "truncated/") == []
