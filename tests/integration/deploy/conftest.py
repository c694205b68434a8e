"""A moto server on 127.0.0.1 (a free port) for the deploy tests; boto3 reaches it through AWS_ENDPOINT_URL.

Every test gets dummy credentials, region us-east-1, no profile or config
file, and a freshly reset server, so no request can leave the loopback.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.integration.conftest import S3Server, use_s3_server
from tests.moto_server import moto_server

REGION = "us-east-1"
RUNTIME_VERSION_ARN = "arn:aws:lambda:us-east-1::runtime:" + "0" * 64


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server of their own: the deploy tests reset it before each test."""
    with moto_server(tmp_path_factory.mktemp("moto")) as endpoint:
        yield endpoint


@pytest.fixture
def aws(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """A boto3 session bound to the freshly reset moto server."""
    request = urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10):
        pass
    use_s3_server(monkeypatch, S3Server(moto_endpoint), tmp_path)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return boto3.session.Session(region_name=REGION)


@pytest.fixture
def small_zip(tmp_path: Path) -> Path:
    """A stand-in for dist/handler.zip: deploying does not look inside it."""
    import zipfile  # noqa: PLC0415

    path = tmp_path / "handler.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("handler/app.py", "def handler(event, context):\n    return event\n")
    return path
