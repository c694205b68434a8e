"""Log lines: valid JSON, a fixed key order, the Lambda context once per invocation, no secrets."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from handler.edge.logs import KEY_ORDER, Logger, scrub
from handler.errors import PlanHashMismatch, TransportThrottled


@dataclass
class Context:
    """The attributes Lambda's Python runtime gives its context object."""

    function_name: str = "renderzip"
    aws_request_id: str = "8f5e2b1c-0000-4000-8000-000000000001"
    memory_limit_in_mb: str = "3008"


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_start_and_end_lines_carry_the_context_in_order() -> None:
    stream = io.StringIO()
    log = Logger(stream)
    with log.invocation(Context(), "renderChunk", chunk_index=3, plan_uri="s3://b/p/plan.tar.gz") as inv:
        inv.add(bytes_out=1234, frames=30)
    start, end = lines(stream)
    assert list(start) == [
        "ts",
        "level",
        "event",
        "action",
        "request_id",
        "function",
        "cold_start",
        "memory_mb",
        "chunk_index",
        "plan_uri",
    ]
    assert start["event"] == "start"
    assert (start["action"], start["request_id"], start["function"]) == (
        "renderChunk",
        "8f5e2b1c-0000-4000-8000-000000000001",
        "renderzip",
    )
    assert (start["cold_start"], start["memory_mb"]) == (True, 3008)
    assert end["event"] == "end"
    assert list(end)[:9] == [*KEY_ORDER[:9]]
    assert isinstance(end["duration_ms"], int)
    assert (end["bytes_out"], end["frames"]) == (1234, 30)
    assert str(start["ts"]).endswith("Z")


def test_only_the_first_invocation_is_a_cold_start() -> None:
    stream = io.StringIO()
    log = Logger(stream)
    for _ in range(3):
        with log.invocation(Context(), "plan"):
            pass
    assert [line["cold_start"] for line in lines(stream) if line["event"] == "start"] == [True, False, False]


def test_error_line_has_the_code_and_is_reraised() -> None:
    stream = io.StringIO()
    log = Logger(stream)
    with pytest.raises(PlanHashMismatch), log.invocation(Context(), "renderChunk"):
        raise PlanHashMismatch("before unpacking", "v1-" + "a" * 64, "v1-" + "b" * 64)
    _, error = lines(stream)
    assert error["event"] == "error"
    assert error["level"] == "ERROR"
    assert (error["error_code"], error["retryable"]) == ("PlanHashMismatch", False)
    assert error["request_id"] == "8f5e2b1c-0000-4000-8000-000000000001"
    assert "duration_ms" in error
    assert list(error)[:12] == list(KEY_ORDER)


def test_unexpected_exceptions_are_logged_by_class_name() -> None:
    stream = io.StringIO()
    log = Logger(stream)
    with pytest.raises(KeyError), log.invocation(None, "plan"):
        raise KeyError("x")
    error = lines(stream)[-1]
    assert error["error_code"] == "KeyError"
    assert "retryable" not in error
    assert "request_id" not in error


def test_retryable_error_says_so() -> None:
    stream = io.StringIO()
    Logger(stream).error(TransportThrottled("upload s3://b/k: S3 kept throttling"))
    assert lines(stream)[0]["retryable"] is True


def test_none_values_are_dropped_and_lines_are_single() -> None:
    stream = io.StringIO()
    Logger(stream).info("note", empty=None, text="two\nlines")
    (line,) = lines(stream)
    assert "empty" not in line
    assert line["text"] == "two\nlines"
    assert stream.getvalue().count("\n") == 1


def test_no_secret_reaches_the_log(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    token = "IQoJb3JpZ2luX2VjEXAMPLETOKEN"
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    monkeypatch.setenv("AWS_SESSION_TOKEN", token)
    presigned = (
        "https://renders.s3.amazonaws.com/out.mp4?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20250101&X-Amz-Signature=abcdef0123"
    )
    stream = io.StringIO()
    log = Logger(stream)
    with (
        pytest.raises(RuntimeError),
        log.invocation(Context(), "assemble", output=presigned, aws_secret_access_key=secret),
    ):
        log.info(
            "detail",
            SessionToken=token,
            headers={"Authorization": "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/...", "Range": "bytes=0-1"},
            note=f"key is {secret} and id AKIAIOSFODNN7EXAMPLE",
            urls=[presigned],
        )
        raise RuntimeError(f"failed with token {token} at {presigned}")
    text = stream.getvalue()
    for forbidden in (secret, token, "AKIAIOSFODNN7EXAMPLE", "X-Amz-Signature", "abcdef0123", "Authorization"):
        assert forbidden not in text
    parsed = lines(stream)
    detail = parsed[1]
    assert detail["headers"] == {"Range": "bytes=0-1"}
    assert detail["urls"] == ["https://renders.s3.amazonaws.com/out.mp4?[redacted]"]
    assert parsed[0]["output"] == "https://renders.s3.amazonaws.com/out.mp4?[redacted]"


def test_scrub_truncates_long_strings() -> None:
    value = scrub({"message": "x" * 10_000})
    assert isinstance(value, dict)
    assert len(str(value["message"])) < 4200


def test_output_goes_to_stdout_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    Logger().info("hello")
    assert json.loads(capsys.readouterr().out)["event"] == "hello"


def test_lines_go_to_the_file_given_and_back_to_stdout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first, second = tmp_path / "first.log", tmp_path / "second.log"
    log = Logger()
    log.use_file(first)
    with log.invocation(Context(), "renderChunk"):
        for index in range(50):
            log.info("frame", index=index)
    log.use_file(second)
    with log.invocation(Context(), "renderChunk"):
        pass
    log.use_file(None)
    log.info("to stdout")
    assert [line["event"] for line in map(json.loads, first.read_text().splitlines())] == [
        "start",
        *["frame"] * 50,
        "end",
    ]
    assert [line["event"] for line in map(json.loads, second.read_text().splitlines())] == ["start", "end"]
    assert json.loads(capsys.readouterr().out)["event"] == "to stdout"


def test_the_stream_can_be_swapped_and_given_back(tmp_path: Path) -> None:
    log = Logger()
    log.use_file(tmp_path / "file.log")
    swapped = io.StringIO()
    log.use(swapped)
    log.info("to the swapped stream")
    log.use(None)
    log.info("to the file")
    assert [line["event"] for line in lines(swapped)] == ["to the swapped stream"]
    assert json.loads((tmp_path / "file.log").read_text())["event"] == "to the file"
