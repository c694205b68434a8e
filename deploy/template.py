"""The CloudFormation template: bucket, function, log group, roles and the state machine.

`template()` builds it as a dict; `deploy/template.json` is its committed form
(with the default ``MaxConcurrency``), kept in sync by a test. Regenerate it
with ``python -m deploy template -o deploy/template.json``.

The runtime comes from the runtime lock (``lockfiles/runtime-<runtime>-x86_64.toml``)
and is pinned to one runtime version (``RuntimeVersionArn``, updated only by
hand). The function's code is the zip in S3 (``CodeBucket``/``CodeKey``); its
IAM role may read and write only the render bucket and write only its own log
group; the state machine's role may invoke only that function.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from deploy.retry import DEFAULT_POLICY, RetryPolicy
from deploy.statemachine import DEFAULT_MAX_CONCURRENCY, definition

ROOT = Path(__file__).resolve().parents[1]
RUNTIME_LOCK = ROOT / "lockfiles" / "runtime-python3.13-x86_64.toml"
TEMPLATE_JSON = Path(__file__).with_name("template.json")
RENDER_PREFIX = "renders/"
MEMORY_MB = 10240
TIMEOUT_SECONDS = 900
EPHEMERAL_MB = 10240
HANDLER = "handler.app.handler"
LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)


def lock_runtime(lock: Path = RUNTIME_LOCK) -> str:
    """The Lambda runtime the zip was locked for (``python3.13``)."""
    with lock.open("rb") as handle:
        data = tomllib.load(handle)
    if data.get("arch") != "x86_64":
        raise ValueError(f"{lock.name}: arch {data.get('arch')!r} is not x86_64")
    return str(data["runtime"])


def _sub(text: str) -> dict[str, str]:
    return {"Fn::Sub": text}


def _parameters() -> dict[str, Any]:
    return {
        "CodeBucket": {"Type": "String", "Description": "Bucket holding the function's zip", "MinLength": 3},
        "CodeKey": {
            "Type": "String",
            "Description": "Key of the zip: renderzip/<sha256 of the zip>.zip",
            "AllowedPattern": "^renderzip/[0-9a-f]{64}\\.zip$",
        },
        "RuntimeVersionArn": {
            "Type": "String",
            "Description": "Pinned runtime version (from a function's INIT_START log line, or "
            "`aws lambda get-runtime-management-config`)",
            "AllowedPattern": "^arn:aws[a-z-]*:lambda:[a-z0-9-]+::runtime:[0-9a-f]{64}$",
        },
        "RenderExpiryDays": {
            "Type": "Number",
            "Description": f"Days before files under {RENDER_PREFIX} are deleted",
            "Default": 7,
            "MinValue": 1,
        },
        "LogRetentionDays": {
            "Type": "Number",
            "Description": "Days the function's logs are kept",
            "Default": "30",
            "AllowedValues": [str(days) for days in LOG_RETENTION_DAYS],
        },
    }


def _bucket() -> dict[str, Any]:
    return {
        "Type": "AWS::S3::Bucket",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
            "LifecycleConfiguration": {
                "Rules": [
                    {
                        "Id": "ExpireRenders",
                        "Status": "Enabled",
                        "Prefix": RENDER_PREFIX,
                        "ExpirationInDays": {"Ref": "RenderExpiryDays"},
                        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
                    }
                ]
            },
        },
    }


def _assume(service: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
    }


def _function_role() -> dict[str, Any]:
    statements = [
        {
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
            "Resource": _sub("${RenderBucket.Arn}/*"),
        },
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": {"Fn::GetAtt": ["RenderBucket", "Arn"]}},
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": {"Fn::GetAtt": ["FunctionLogGroup", "Arn"]},
        },
    ]
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": _assume("lambda.amazonaws.com"),
            "Policies": [
                {
                    "PolicyName": "render-bucket-and-logs",
                    "PolicyDocument": {"Version": "2012-10-17", "Statement": statements},
                }
            ],
        },
    }


def _function(runtime: str) -> dict[str, Any]:
    return {
        "Type": "AWS::Lambda::Function",
        "DependsOn": ["FunctionLogGroup"],
        "Properties": {
            "FunctionName": _sub("${AWS::StackName}-render"),
            "Description": "renderzip: plan, renderChunk and assemble",
            "Code": {"S3Bucket": {"Ref": "CodeBucket"}, "S3Key": {"Ref": "CodeKey"}},
            "Handler": HANDLER,
            "Runtime": runtime,
            "Architectures": ["x86_64"],
            "MemorySize": MEMORY_MB,
            "Timeout": TIMEOUT_SECONDS,
            "EphemeralStorage": {"Size": EPHEMERAL_MB},
            "RuntimeManagementConfig": {"UpdateRuntimeOn": "Manual", "RuntimeVersionArn": {"Ref": "RuntimeVersionArn"}},
            "Role": {"Fn::GetAtt": ["FunctionRole", "Arn"]},
            "Environment": {"Variables": {"RENDERZIP_BUCKET_ALLOWLIST": {"Ref": "RenderBucket"}}},
        },
    }


def _state_machine(max_concurrency: int, retry: RetryPolicy) -> dict[str, Any]:
    machine = definition("${RenderFunction.Arn}", max_concurrency=max_concurrency, retry=retry)
    text = json.dumps(machine, indent=1, sort_keys=True)
    if text.count("${") != text.count("${RenderFunction.Arn}"):
        raise ValueError("the definition holds a ${...} other than the function's ARN")
    return {
        "Type": "AWS::StepFunctions::StateMachine",
        "Properties": {
            "StateMachineType": "STANDARD",
            "DefinitionString": _sub(text),
            "RoleArn": {"Fn::GetAtt": ["StateMachineRole", "Arn"]},
        },
    }


def _state_machine_role() -> dict[str, Any]:
    invoke = {
        "Effect": "Allow",
        "Action": "lambda:InvokeFunction",
        "Resource": {"Fn::GetAtt": ["RenderFunction", "Arn"]},
    }
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": _assume("states.amazonaws.com"),
            "Policies": [
                {
                    "PolicyName": "invoke-render-function",
                    "PolicyDocument": {"Version": "2012-10-17", "Statement": [invoke]},
                }
            ],
        },
    }


def template(*, max_concurrency: int = DEFAULT_MAX_CONCURRENCY, retry: RetryPolicy | None = None) -> dict[str, Any]:
    runtime = lock_runtime()
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"renderzip: distributed HTML-to-video rendering on Lambda ({runtime}, x86_64)",
        "Parameters": _parameters(),
        "Resources": {
            "RenderBucket": _bucket(),
            "FunctionLogGroup": {
                "Type": "AWS::Logs::LogGroup",
                "DeletionPolicy": "Delete",
                "UpdateReplacePolicy": "Delete",
                "Properties": {
                    "LogGroupName": _sub("/aws/lambda/${AWS::StackName}-render"),
                    "RetentionInDays": {"Ref": "LogRetentionDays"},
                },
            },
            "FunctionRole": _function_role(),
            "RenderFunction": _function(runtime),
            "StateMachineRole": _state_machine_role(),
            "RenderStateMachine": _state_machine(max_concurrency, retry or DEFAULT_POLICY),
        },
        "Outputs": {
            "BucketName": {"Description": "Render bucket", "Value": {"Ref": "RenderBucket"}},
            "FunctionArn": {"Description": "The function", "Value": {"Fn::GetAtt": ["RenderFunction", "Arn"]}},
            "StateMachineArn": {"Description": "The state machine", "Value": {"Ref": "RenderStateMachine"}},
            "MaxConcurrency": {"Description": "The Map's MaxConcurrency", "Value": str(max_concurrency)},
        },
    }


def template_text(**kwargs: Any) -> str:
    """The template as committed: sorted keys, two-space indent, one trailing newline."""
    return json.dumps(template(**kwargs), indent=2, sort_keys=True) + "\n"
