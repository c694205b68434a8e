"""``deploy verify``: is the deployed function the built zip? Lambda's ``CodeSha256`` against the manifest's.

Lambda reports the base64 sha256 of the zip it was given; `bundler` records the
same figure as ``code_sha256`` in ``dist/handler.zip.manifest.json``. Equal
means the function runs exactly the artifact that was built, gated and probed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deploy.aws import StackOutputs
from deploy.errors import CodeDrift, DeployArtifactError


@dataclass(frozen=True)
class Verified:
    function_arn: str
    code_sha256: str


def manifest_code_sha256(manifest: Path) -> str:
    if not manifest.is_file():
        raise DeployArtifactError(f"{manifest}: no such file", "build the zip first: nox -s build_zip")
    try:
        value = json.loads(manifest.read_text(encoding="utf-8"))["zip"]["code_sha256"]
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise DeployArtifactError(f"{manifest}: no zip.code_sha256 ({error})", "rebuild it: nox -s build_zip") from None
    return str(value)


def verify(session: Any, *, stack: str, manifest: Path) -> Verified:
    """The function's ``CodeSha256`` when it equals the manifest's; `CodeDrift` when it does not."""
    expected = manifest_code_sha256(manifest)
    target = StackOutputs.read(session.client("cloudformation"), stack)
    deployed = str(session.client("lambda").get_function_configuration(FunctionName=target.function_arn)["CodeSha256"])
    if deployed != expected:
        raise CodeDrift(target.function_arn, deployed, expected, manifest)
    return Verified(target.function_arn, deployed)
