"""The S3 transport against a real S3 API (moto in server mode on loopback)."""

from __future__ import annotations

import hashlib
import os
import socketserver
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest

from handler.edge import transport
from handler.edge.transport import Tuning
from handler.errors import BucketNotAllowed, IntegrityError, ObjectNotFound, RenderzipError, TransportThrottled
from tests.integration.conftest import S3Server

pytestmark = pytest.mark.s3
MiB = 1024 * 1024
SMALL_PARTS = Tuning(multipart_threshold=5 * MiB, part_size=5 * MiB, max_attempts=3, retry_mode="standard")


@pytest.fixture
def s3(s3_env: S3Server) -> Any:
    return boto3.client("s3", endpoint_url=s3_env.endpoint)


@pytest.fixture
def bucket(s3: Any) -> str:
    name = f"renderzip-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_upload_then_download_round_trips_with_sha256(tmp_path: Path, s3: Any, bucket: str) -> None:
    source = tmp_path / "chunk.mp4"
    source.write_bytes(os.urandom(200_000))
    expected = hashlib.sha256(source.read_bytes()).hexdigest()
    uri = f"s3://{bucket}/renders/v1-x/chunks/0000.mp4"

    assert transport.upload(source, uri) == expected
    head = s3.head_object(Bucket=bucket, Key="renders/v1-x/chunks/0000.mp4", ChecksumMode="ENABLED")
    assert head["Metadata"]["sha256"] == expected
    assert head.get("ChecksumSHA256")
    assert transport.exists(uri)

    dest = tmp_path / "down" / "chunk.mp4"
    assert transport.download(uri, dest, sha256=expected) == expected
    assert dest.read_bytes() == source.read_bytes()
    assert leftovers(dest.parent) == ["chunk.mp4"]


def test_large_objects_go_up_and_down_in_parts(tmp_path: Path, s3: Any, bucket: str) -> None:
    source = tmp_path / "big.mp4"
    source.write_bytes(os.urandom(11 * MiB + 123))
    expected = hashlib.sha256(source.read_bytes()).hexdigest()
    uri = f"s3://{bucket}/big.mp4"

    assert transport.upload(source, uri, tuning=SMALL_PARTS) == expected
    etag = s3.head_object(Bucket=bucket, Key="big.mp4")["ETag"].strip('"')
    assert etag.endswith("-3"), etag  # three parts of at most 5 MiB

    dest = tmp_path / "big-copy.mp4"
    assert transport.download(uri, dest, sha256=expected, tuning=SMALL_PARTS) == expected
    assert dest.stat().st_size == source.stat().st_size


def test_tampered_object_fails_verification_and_leaves_nothing(tmp_path: Path, s3: Any, bucket: str) -> None:
    source = tmp_path / "plan.tar.gz"
    source.write_bytes(b"the real plan")
    expected = transport.upload(source, f"s3://{bucket}/plan.tar.gz")
    s3.put_object(Bucket=bucket, Key="plan.tar.gz", Body=b"a tampered plan")

    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(IntegrityError) as caught:
        transport.download(f"s3://{bucket}/plan.tar.gz", out / "plan.tar.gz", sha256=expected)
    assert expected in str(caught.value)
    assert caught.value.retryable
    assert leftovers(out) == []


def test_missing_object_and_bucket_are_object_not_found(tmp_path: Path, bucket: str) -> None:
    with pytest.raises(ObjectNotFound) as caught:
        transport.download(f"s3://{bucket}/nope.tar.gz", tmp_path / "nope.tar.gz")
    assert not caught.value.retryable
    assert caught.value.__cause__ is not None
    with pytest.raises(ObjectNotFound):
        transport.download("s3://renderzip-no-such-bucket/x", tmp_path / "x")
    assert not transport.exists(f"s3://{bucket}/nope.tar.gz")
    assert leftovers(tmp_path) == []


def test_errors_carry_no_credentials(tmp_path: Path, bucket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "a-very-secret-value-0123456789")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    with pytest.raises(ObjectNotFound) as caught:
        transport.download(f"s3://{bucket}/nope", tmp_path / "nope")
    assert "secret" not in str(caught.value)
    assert "AKIA" not in str(caught.value)


def test_a_secret_in_botocore_s_own_error_does_not_reach_the_message(
    tmp_path: Path, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "a-very-secret-value-0123456789"
    with socketserver.TCPServer(("127.0.0.1", 0), socketserver.BaseRequestHandler) as closed:
        port = closed.server_address[1]  # bound, then closed below: connections are refused
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}/{secret}")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    with pytest.raises(RenderzipError) as caught:
        transport.download(f"s3://{bucket}/object", tmp_path / "object")
    causes = []
    cause: BaseException | None = caught.value.__cause__
    while cause is not None:
        causes.append(str(cause))
        cause = cause.__cause__ or cause.__context__
    assert any(secret in text for text in causes), causes  # botocore's own message carries it
    assert secret not in str(caught.value)
    assert str(caught.value) == f"download s3://{bucket}/object failed: EndpointConnectionError"


class CountingHandler(socketserver.BaseRequestHandler):
    connections = 0

    def handle(self) -> None:
        type(self).connections += 1


@pytest.fixture
def counting_endpoint(monkeypatch: pytest.MonkeyPatch, s3_env: S3Server) -> Iterator[type[CountingHandler]]:
    CountingHandler.connections = 0
    with socketserver.TCPServer(("127.0.0.1", 0), CountingHandler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{server.server_address[1]}")
        yield CountingHandler
        server.shutdown()


def test_allowlist_refuses_before_any_network_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, counting_endpoint: type[CountingHandler]
) -> None:
    monkeypatch.setenv("RENDERZIP_BUCKET_ALLOWLIST", "renders-only")
    source = tmp_path / "a"
    source.write_bytes(b"x")
    with pytest.raises(BucketNotAllowed):
        transport.upload(source, "s3://someone-elses-bucket/a")
    with pytest.raises(BucketNotAllowed):
        transport.download("s3://someone-elses-bucket/a", tmp_path / "b")
    with pytest.raises(BucketNotAllowed):
        transport.exists("s3://someone-elses-bucket/a")
    with pytest.raises(BucketNotAllowed):
        transport.download(f"file://{source}", tmp_path / "c")
    assert counting_endpoint.connections == 0
    assert leftovers(tmp_path) == ["a"]


class SlowDown(BaseHTTPRequestHandler):
    """An S3 endpoint that always answers 503 SlowDown (before the body, as S3 does with 100-continue)."""

    protocol_version = "HTTP/1.1"
    requests = 0
    BODY = (
        b"<?xml version='1.0'?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
    )

    def _answer(self) -> None:
        type(self).requests += 1
        if "100-continue" not in self.headers.get("Expect", ""):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(503)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(self.BODY)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(self.BODY)

    do_GET = do_PUT = do_HEAD = do_POST = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_throttling_is_retried_then_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, s3_env: S3Server) -> None:
    SlowDown.requests = 0
    with HTTPServer(("127.0.0.1", 0), SlowDown) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{server.server_address[1]}")
        source = tmp_path / "a"
        source.write_bytes(b"x" * 1000)
        tuning = Tuning(max_attempts=3, retry_mode="standard")
        try:
            with pytest.raises(TransportThrottled) as caught:
                transport.upload(source, "s3://renderzip-busy/a", tuning=tuning)
        finally:
            server.shutdown()
    assert caught.value.retryable
    assert SlowDown.requests == 3
