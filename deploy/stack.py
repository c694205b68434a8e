"""``deploy up``: upload the zip under its content hash, create or update the stack, wait, report.

The zip goes to ``s3://<artifact bucket>/renderzip/<sha256 hex>.zip``. The key
names the content, so an unchanged zip is found by ``head_object`` and not
uploaded again, and the stack's ``CodeKey`` parameter changes exactly when the
code does. The artifact bucket must exist before the stack (the function's
code is read from it at creation), so it is not part of the stack: by default
it is ``renderzip-artifacts-<account>-<region>``, created on first use with
public access blocked and default encryption.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from botocore.exceptions import ClientError, WaiterError

from deploy.aws import describe_stack, error_code, error_message, outputs_of
from deploy.errors import DeployArtifactError, StackError
from deploy.template import template_text

NO_UPDATES = "No updates are to be performed"
CODE_PREFIX = "renderzip/"

Action = Literal["created", "updated", "unchanged"]


@dataclass(frozen=True)
class ZipArtifact:
    path: Path
    sha256: str
    code_sha256: str
    """base64 of the sha256: what Lambda reports as ``CodeSha256``."""

    @property
    def key(self) -> str:
        return f"{CODE_PREFIX}{self.sha256}.zip"

    @classmethod
    def read(cls, path: Path) -> ZipArtifact:
        if not path.is_file():
            raise DeployArtifactError(f"{path}: no such file", "build it first: nox -s build_zip")
        with path.open("rb") as handle:
            digest = hashlib.file_digest(handle, "sha256").digest()
        artifact = cls(path, digest.hex(), base64.b64encode(digest).decode("ascii"))
        manifest = path.with_name(path.name + ".manifest.json")
        if manifest.is_file():
            recorded = json.loads(manifest.read_text(encoding="utf-8")).get("zip", {}).get("sha256")
            if recorded != artifact.sha256:
                raise DeployArtifactError(
                    f"{path}: sha256 {artifact.sha256} differs from its manifest's {recorded}",
                    "the zip changed after it was built: rebuild it with nox -s build_zip",
                )
        return artifact


@dataclass(frozen=True)
class DeployResult:
    stack: str
    artifact_bucket: str
    code_key: str
    uploaded: bool
    action: Action
    outputs: dict[str, str]


def default_artifact_bucket(session: Any) -> str:
    account = session.client("sts").get_caller_identity()["Account"]
    return f"renderzip-artifacts-{account}-{session.region_name}"


def ensure_bucket(s3: Any, bucket: str, region: str) -> None:
    try:
        s3.head_bucket(Bucket=bucket)
        return
    except ClientError as error:
        if error_code(error) not in ("404", "NoSuchBucket", "NotFound"):
            raise
    options: dict[str, Any] = {}
    if region != "us-east-1":
        options["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3.create_bucket(Bucket=bucket, **options)
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )


def upload_if_absent(s3: Any, bucket: str, artifact: ZipArtifact) -> bool:
    """Upload the zip unless its key already exists; True when it was uploaded."""
    try:
        s3.head_object(Bucket=bucket, Key=artifact.key)
        return False
    except ClientError as error:
        if error_code(error) not in ("404", "NoSuchKey", "NotFound"):
            raise
    s3.upload_file(
        str(artifact.path),
        bucket,
        artifact.key,
        ExtraArgs={"ChecksumAlgorithm": "SHA256", "ContentType": "application/zip"},
    )
    return True


def _parameters(
    artifact_bucket: str, code_key: str, runtime_version_arn: str | None, existing: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """Ours, and every other parameter of an existing stack at its previous value (not reset to its default)."""
    given = {"CodeBucket": artifact_bucket, "CodeKey": code_key}
    if runtime_version_arn:
        given["RuntimeVersionArn"] = runtime_version_arn
    elif existing is None:
        raise StackError(
            "a new stack needs --runtime-version-arn",
            "the pinned runtime version ARN appears in a function's INIT_START log line, or run "
            "`aws lambda get-runtime-management-config --function-name F` on a function of the same runtime",
        )
    # The previous values are passed as values, not with UsePreviousValue: none of the parameters is NoEcho,
    # and moto's UsePreviousValue fails on a parameter that was left at its default at creation.
    previous = {item["ParameterKey"]: item["ParameterValue"] for item in (existing or {}).get("Parameters", [])}
    merged = {**previous, **given}
    return [{"ParameterKey": key, "ParameterValue": merged[key]} for key in sorted(merged)]


def _same_stack(cfn: Any, existing: dict[str, Any], body: str, parameters: list[dict[str, Any]]) -> bool:
    """Whether the stack already runs this template with these parameter values."""
    current = cfn.get_template(StackName=existing["StackName"], TemplateStage="Original")["TemplateBody"]
    if isinstance(current, str):
        try:
            current = json.loads(current)
        except json.JSONDecodeError:
            return False
    before = {item["ParameterKey"]: str(item["ParameterValue"]) for item in existing.get("Parameters", [])}
    after = {item["ParameterKey"]: str(item["ParameterValue"]) for item in parameters}
    return bool(json.loads(body) == json.loads(json.dumps(current)) and before == after)


def deploy(
    session: Any,
    *,
    stack: str,
    zip_path: Path,
    runtime_version_arn: str | None = None,
    artifact_bucket: str | None = None,
    max_concurrency: int | None = None,
    wait_delay: int = 10,
    report: Callable[[str], None] = lambda line: None,
) -> DeployResult:
    artifact = ZipArtifact.read(zip_path)
    s3 = session.client("s3")
    cfn = session.client("cloudformation")
    bucket = artifact_bucket or default_artifact_bucket(session)
    ensure_bucket(s3, bucket, session.region_name)
    uploaded = upload_if_absent(s3, bucket, artifact)
    report(
        f"{'uploaded' if uploaded else 'unchanged'} s3://{bucket}/{artifact.key} (CodeSha256 {artifact.code_sha256})"
    )

    existing = describe_stack(cfn, stack)
    if existing is not None and existing["StackStatus"] == "ROLLBACK_COMPLETE":
        raise StackError(
            f"stack {stack} is in ROLLBACK_COMPLETE: its creation failed and it cannot be updated",
            f"read its events, then delete it: aws cloudformation delete-stack --stack-name {stack}",
        )
    if max_concurrency is None and existing is not None and "MaxConcurrency" in outputs_of(existing):
        max_concurrency = int(outputs_of(existing)["MaxConcurrency"])  # keep what the stack was deployed with
    body = template_text(**({} if max_concurrency is None else {"max_concurrency": max_concurrency}))
    request: dict[str, Any] = {
        "StackName": stack,
        "TemplateBody": body,
        "Parameters": _parameters(bucket, artifact.key, runtime_version_arn, existing),
        "Capabilities": ["CAPABILITY_IAM"],
    }
    action: Action
    if existing is not None and _same_stack(cfn, existing, body, request["Parameters"]):
        report(f"stack {stack}: template and parameters unchanged")
        return DeployResult(stack, bucket, artifact.key, uploaded, "unchanged", outputs_of(existing))
    try:
        if existing is None:
            cfn.create_stack(**request)
            action, waiter = "created", "stack_create_complete"
        else:
            cfn.update_stack(**request)
            action, waiter = "updated", "stack_update_complete"
    except ClientError as error:
        if existing is None or NO_UPDATES not in error_message(error):
            raise StackError(
                f"stack {stack}: {error_message(error)}", "check the parameters and the template"
            ) from error
        action, waiter = "unchanged", ""
    if waiter:
        report(f"waiting for stack {stack} ({action[:-1]}ing)")
        try:
            cfn.get_waiter(waiter).wait(StackName=stack, WaiterConfig={"Delay": wait_delay, "MaxAttempts": 360})
        except WaiterError as error:
            raise StackError(
                f"stack {stack} did not finish: {error}",
                f"read the failed events: aws cloudformation describe-stack-events --stack-name {stack}",
            ) from error
    description = describe_stack(cfn, stack)
    assert description is not None
    return DeployResult(stack, bucket, artifact.key, uploaded, action, outputs_of(description))
