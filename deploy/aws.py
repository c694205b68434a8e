"""boto3 at the edge: one session per command, and reading a stack's outputs.

boto3 honours ``AWS_ENDPOINT_URL`` (and ``AWS_ENDPOINT_URL_<SERVICE>``), which
is how the tests point everything at a local moto server.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from deploy.errors import DeployError, StackError

REQUIRED_OUTPUTS = ("BucketName", "FunctionArn", "StateMachineArn", "MaxConcurrency")


def make_session(region: str | None = None) -> Any:
    return boto3.session.Session(region_name=region)


@contextlib.contextmanager
def aws_errors() -> Iterator[None]:
    """An error of boto3 or of AWS itself leaves as one `DeployError` with what to check."""
    try:
        yield
    except (ClientError, BotoCoreError) as error:
        raise DeployError(f"AWS: {error}", "check the credentials, the region and AWS_ENDPOINT_URL") from error


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def error_message(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Message", error))


def describe_stack(cfn: Any, stack: str) -> dict[str, Any] | None:
    """The stack's description, or None when there is no such stack."""
    try:
        stacks = cfn.describe_stacks(StackName=stack)["Stacks"]
    except ClientError as error:
        if error_code(error) == "ValidationError" and "does not exist" in error_message(error):
            return None
        raise
    return dict(stacks[0]) if stacks else None


def outputs_of(description: dict[str, Any]) -> dict[str, str]:
    return {item["OutputKey"]: item["OutputValue"] for item in description.get("Outputs", [])}


@dataclass(frozen=True)
class StackOutputs:
    stack: str
    bucket: str
    function_arn: str
    state_machine_arn: str
    max_concurrency: int

    @classmethod
    def read(cls, cfn: Any, stack: str) -> StackOutputs:
        description = describe_stack(cfn, stack)
        if description is None:
            raise StackError(f"stack {stack} does not exist", f"deploy it first: nox -s deploy -- --stack {stack}")
        outputs = outputs_of(description)
        missing = [name for name in REQUIRED_OUTPUTS if name not in outputs]
        if missing:
            raise StackError(
                f"stack {stack} ({description.get('StackStatus')}) has no output {', '.join(missing)}",
                f"is it a renderzip stack? redeploy it: nox -s deploy -- --stack {stack}",
            )
        return cls(
            stack=stack,
            bucket=outputs["BucketName"],
            function_arn=outputs["FunctionArn"],
            state_machine_arn=outputs["StateMachineArn"],
            max_concurrency=int(outputs["MaxConcurrency"]),
        )
