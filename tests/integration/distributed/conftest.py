"""The distributed path for real: moto's Step Functions interpreter runs the deployed state machine and
its Lambda backend runs every task as a container of the Lambda image with the built zip.

The moto server (on 127.0.0.1) is started with ``MOTO_DOCKER_LAMBDA_IMAGE`` naming the variant of the
stand-in image that `probes.motoimage` builds, and ``MOTO_DOCKER_NETWORK_MODE=host``, so a function
container reaches the server on the loopback and nothing else is addressed. The stack is deployed with
``python -m deploy up`` (what ``nox -s deploy`` runs), then the state machine is handed to moto's
executing backend (see `enable_execution`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from bundler.progress import SilentReporter
from probes.motoimage import ensure_moto_lambda_image
from tests.integration.conftest import ROOT, StandinImage, default_zip
from tests.integration.deploy.conftest import REGION, RUNTIME_VERSION_ARN
from tests.moto_server import moto_server

STACK = "renderzip-distributed"
MAX_CONCURRENCY = 2  # two cores: two function containers at a time


@dataclass(frozen=True)
class LocalAws:
    endpoint: str
    env: dict[str, str]
    """The environment a command line needs to reach the server and nothing else."""
    image: str
    zip_path: Path

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def run(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def _client_env(endpoint: str, scratch: Path) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    return {
        **env,
        "PYTHONPATH": str(ROOT),
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": str(scratch / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(scratch / "no-aws-credentials"),
    }


def enable_execution(endpoint: str, sfn: Any, state_machine_arn: str) -> None:
    """Let moto run the stack's state machine.

    moto executes state machines only in its parser backend (``stepfunctions.execute_state_machine``,
    set through ``/moto-api/config``), while its CloudFormation creates them in the recording
    backend (``moto/stepfunctions/models.py``, ``stepfunctions_backends`` in the resource's
    ``create_from_cloudformation_json``). So the definition the stack deployed is read back and created
    again under the same name, which gives the same ARN: the stack's output then names a machine
    moto runs, with the deployed definition unchanged."""
    deployed = sfn.describe_state_machine(stateMachineArn=state_machine_arn)
    body = json.dumps({"stepfunctions": {"execute_state_machine": True}}).encode()
    request = urllib.request.Request(f"{endpoint}/moto-api/config", data=body, method="POST")
    with urllib.request.urlopen(request, timeout=10):
        pass
    created = sfn.create_state_machine(
        name=deployed["name"], definition=deployed["definition"], roleArn=deployed["roleArn"]
    )
    assert created["stateMachineArn"] == state_machine_arn


@pytest.fixture(scope="session")
def local_aws(
    docker_client: Any, standin_image: StandinImage, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalAws]:
    image = ensure_moto_lambda_image(docker_client, standin_image.tag, SilentReporter())
    zip_path = default_zip()
    logs = tmp_path_factory.mktemp("moto-lambda")
    server_env = {"MOTO_DOCKER_LAMBDA_IMAGE": image, "MOTO_DOCKER_NETWORK_MODE": "host"}
    with moto_server(logs, env=server_env) as endpoint:
        yield LocalAws(endpoint, _client_env(endpoint, logs), image, zip_path)


@dataclass(frozen=True)
class Deployed:
    aws: LocalAws
    outputs: dict[str, str]
    deploy_output: str


@pytest.fixture(scope="session")
def deployed(local_aws: LocalAws) -> Deployed:
    """The stack, deployed once by the command line ``nox -s deploy`` runs, then made executable."""
    result = local_aws.run(
        "-m",
        "deploy",
        "up",
        "--stack",
        STACK,
        "--zip",
        str(local_aws.zip_path),
        "--runtime-version-arn",
        RUNTIME_VERSION_ARN,
        "--max-concurrency",
        str(MAX_CONCURRENCY),
    )
    assert result.returncode == 0, result.stderr
    outputs = dict(line.split("\t", 1) for line in result.stdout.splitlines() if "\t" in line)
    enable_execution(local_aws.endpoint, local_aws.client("stepfunctions"), outputs["StateMachineArn"])
    return Deployed(local_aws, outputs, result.stderr)
