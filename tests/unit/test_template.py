"""The CloudFormation template: cfn-lint clean, in sync with deploy/template.json, and what the function needs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from deploy.retry import RetryPolicy
from deploy.statemachine import definition
from deploy.template import TEMPLATE_JSON, lock_runtime, template, template_text

ROOT = Path(__file__).resolve().parents[2]


def _cfn_lint(path: Path) -> subprocess.CompletedProcess[str]:
    code = "import sys, cfnlint.runner; sys.exit(cfnlint.runner.main())"
    return subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=False)


def test_committed_template_is_the_generated_one() -> None:
    assert TEMPLATE_JSON.read_text(encoding="utf-8") == template_text(), "run: python -m deploy template"


def test_cfn_lint_reports_nothing() -> None:
    result = _cfn_lint(TEMPLATE_JSON)
    assert result.returncode == 0, result.stdout + result.stderr


def test_cfn_lint_checks_the_state_machine_against_the_states_language(tmp_path: Path) -> None:
    """cfn-lint reads a definition only as an object, so lint the same definition in that form too."""
    data = template()
    properties = data["Resources"]["RenderStateMachine"]["Properties"]
    del properties["DefinitionString"]
    properties["Definition"] = definition("${FunctionArn}", max_concurrency=50, retry=RetryPolicy())
    properties["DefinitionSubstitutions"] = {"FunctionArn": {"Fn::GetAtt": ["RenderFunction", "Arn"]}}
    good = tmp_path / "object.json"
    good.write_text(json.dumps(data), encoding="utf-8")
    assert _cfn_lint(good).returncode == 0, _cfn_lint(good).stdout
    properties["Definition"]["States"]["Plan"]["Retry"][1]["MaxAttempts"] = "three"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    assert "E3601" in _cfn_lint(bad).stdout


def test_function_matches_the_runtime_lock_and_the_limits() -> None:
    function: dict[str, Any] = template()["Resources"]["RenderFunction"]["Properties"]
    assert function["Runtime"] == lock_runtime() == "python3.13"
    assert function["Architectures"] == ["x86_64"]
    assert (function["MemorySize"], function["Timeout"], function["EphemeralStorage"]) == (10240, 900, {"Size": 10240})
    assert function["RuntimeManagementConfig"] == {
        "UpdateRuntimeOn": "Manual",
        "RuntimeVersionArn": {"Ref": "RuntimeVersionArn"},
    }
    assert function["Handler"] == "handler.app.handler"
    assert function["Code"] == {"S3Bucket": {"Ref": "CodeBucket"}, "S3Key": {"Ref": "CodeKey"}}


def test_roles_reach_only_the_render_bucket_its_log_group_and_the_function() -> None:
    resources = template()["Resources"]
    statements = resources["FunctionRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    actions = sorted(a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]))
    s3 = ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListBucket"]
    assert actions == sorted([*s3, "logs:CreateLogStream", "logs:PutLogEvents"])
    assert all("*" not in json.dumps(s["Resource"]).replace("${RenderBucket.Arn}/*", "") for s in statements)
    invoke = resources["StateMachineRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    assert invoke == [
        {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": {"Fn::GetAtt": ["RenderFunction", "Arn"]}}
    ]


def test_bucket_expires_renders_blocks_public_access_and_encrypts() -> None:
    bucket = template()["Resources"]["RenderBucket"]["Properties"]
    (rule,) = bucket["LifecycleConfiguration"]["Rules"]
    assert (rule["Prefix"], rule["Status"], rule["ExpirationInDays"]) == (
        "renders/",
        "Enabled",
        {"Ref": "RenderExpiryDays"},
    )
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
