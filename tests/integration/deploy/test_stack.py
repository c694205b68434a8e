"""`deploy.stack` against the moto server: upload by content hash, create, then a no-op second run."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from deploy.errors import CodeDrift, DeployArtifactError, StackError
from deploy.retry import RetryPolicy
from deploy.stack import ZipArtifact, deploy
from deploy.statemachine import definition
from deploy.verify import verify
from tests.integration.deploy.conftest import RUNTIME_VERSION_ARN

STACK = "renderzip-test"


def _deploy(aws: Any, zip_path: Path, **kwargs: Any) -> Any:
    return deploy(aws, stack=STACK, zip_path=zip_path, runtime_version_arn=RUNTIME_VERSION_ARN, wait_delay=1, **kwargs)


def test_first_deploy_uploads_the_zip_under_its_hash_and_creates_the_stack(aws: Any, small_zip: Path) -> None:
    result = _deploy(aws, small_zip)
    artifact = ZipArtifact.read(small_zip)
    assert result.uploaded and result.action == "created"
    assert result.code_key == f"renderzip/{artifact.sha256}.zip"
    s3 = aws.client("s3")
    assert s3.get_object(Bucket=result.artifact_bucket, Key=result.code_key)["Body"].read() == small_zip.read_bytes()
    assert set(result.outputs) == {"BucketName", "FunctionArn", "StateMachineArn", "MaxConcurrency"}
    function = aws.client("lambda").get_function(FunctionName=result.outputs["FunctionArn"])["Configuration"]
    assert function["Runtime"] == "python3.13"
    assert function["Handler"] == "handler.app.handler"
    assert function["MemorySize"] == 10240 and function["Timeout"] == 900
    assert function["CodeSha256"] == artifact.code_sha256
    assert function["Environment"]["Variables"]["RENDERZIP_BUCKET_ALLOWLIST"] == result.outputs["BucketName"]


def test_the_deployed_state_machine_is_ours_with_the_function_substituted(aws: Any, small_zip: Path) -> None:
    result = _deploy(aws, small_zip)
    machine = aws.client("stepfunctions").describe_state_machine(stateMachineArn=result.outputs["StateMachineArn"])
    expected = definition(result.outputs["FunctionArn"], max_concurrency=50, retry=RetryPolicy())
    assert json.loads(machine["definition"]) == expected


def test_second_deploy_uploads_nothing_and_changes_nothing(aws: Any, small_zip: Path) -> None:
    first = _deploy(aws, small_zip)
    cfn = aws.client("cloudformation")
    s3 = aws.client("s3")
    before_stack = cfn.describe_stacks(StackName=STACK)["Stacks"][0]
    before_events = cfn.describe_stack_events(StackName=STACK)["StackEvents"]
    before_objects = s3.list_objects_v2(Bucket=first.artifact_bucket)["Contents"]

    second = _deploy(aws, small_zip)

    assert (second.uploaded, second.action) == (False, "unchanged")
    assert second.outputs == first.outputs
    after_stack = cfn.describe_stacks(StackName=STACK)["Stacks"][0]
    assert after_stack["StackStatus"] == before_stack["StackStatus"] == "CREATE_COMPLETE"
    assert after_stack.get("LastUpdatedTime") == before_stack.get("LastUpdatedTime")
    assert cfn.describe_stack_events(StackName=STACK)["StackEvents"] == before_events
    assert s3.list_objects_v2(Bucket=first.artifact_bucket)["Contents"] == before_objects


def test_a_new_zip_is_uploaded_beside_the_old_one_and_updates_the_stack(
    aws: Any, small_zip: Path, tmp_path: Path
) -> None:
    first = _deploy(aws, small_zip)
    changed = tmp_path / "other" / "handler.zip"
    changed.parent.mkdir()
    changed.write_bytes(small_zip.read_bytes() + b"\0")
    second = _deploy(aws, changed)
    assert (second.uploaded, second.action) == (True, "updated")
    keys = {item["Key"] for item in aws.client("s3").list_objects_v2(Bucket=first.artifact_bucket)["Contents"]}
    assert keys == {first.code_key, second.code_key}
    function = aws.client("lambda").get_function(FunctionName=second.outputs["FunctionArn"])["Configuration"]
    assert function["CodeSha256"] == ZipArtifact.read(changed).code_sha256


def test_a_new_stack_needs_a_runtime_version(aws: Any, small_zip: Path) -> None:
    with pytest.raises(StackError, match="--runtime-version-arn"):
        deploy(aws, stack=STACK, zip_path=small_zip, wait_delay=1)


def test_a_zip_that_differs_from_its_manifest_is_refused_before_upload(aws: Any, small_zip: Path) -> None:
    manifest = small_zip.with_name("handler.zip.manifest.json")
    manifest.write_text(json.dumps({"zip": {"sha256": "0" * 64}}), encoding="utf-8")
    with pytest.raises(DeployArtifactError, match="differs from its manifest"):
        _deploy(aws, small_zip, artifact_bucket="artifacts")
    assert "Buckets" not in aws.client("s3").list_buckets() or not aws.client("s3").list_buckets()["Buckets"]


def test_verify_passes_for_the_deployed_zip_and_reports_drift_for_another(
    aws: Any, small_zip: Path, tmp_path: Path
) -> None:
    _deploy(aws, small_zip)
    artifact = ZipArtifact.read(small_zip)
    manifest = tmp_path / "handler.zip.manifest.json"
    manifest.write_text(json.dumps({"zip": {"sha256": artifact.sha256, "code_sha256": artifact.code_sha256}}))
    assert verify(aws, stack=STACK, manifest=manifest).code_sha256 == artifact.code_sha256
    manifest.write_text(json.dumps({"zip": {"sha256": "0" * 64, "code_sha256": "rebuilt="}}))
    with pytest.raises(
        CodeDrift, match=re.escape(f"runs code with CodeSha256 {artifact.code_sha256}, not the built zip's rebuilt=")
    ):
        verify(aws, stack=STACK, manifest=manifest)
    with pytest.raises(DeployArtifactError, match="no such file"):
        verify(aws, stack=STACK, manifest=tmp_path / "missing.json")
