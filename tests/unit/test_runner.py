"""The runner's pure parts: output splitting, the JSON result, the failure reason, the mount check."""

from __future__ import annotations

from pathlib import Path

import pytest

from probes import lambda_env
from probes.errors import ArtifactDirError
from probes.runner import Mount, RunResult, RunSpec, _Collector, _create_options, _Lines, check_task_dir


def test_lines_are_split_across_chunks_and_decoded() -> None:
    seen: list[tuple[str, str]] = []
    lines = _Lines("stdout", lambda stream, line: seen.append((stream, line)))
    for chunk in (b"fir", b"st\nsec", b"ond\n\xc3", b"\xa9 last"):
        lines.feed(chunk)
    lines.close()
    assert seen == [("stdout", "first"), ("stdout", "second"), ("stdout", "\u00e9 last")]


def test_result_is_the_last_json_object_on_stdout() -> None:
    collector = _Collector(None)
    for stream, line in [
        ("stdout", '{"a": 1}'),
        ("stdout", "[1, 2]"),
        ("stderr", '{"from": "stderr"}'),
        ("stdout", '{"b": 2}'),
        ("stdout", "{not json}"),
        ("stdout", "done"),
    ]:
        collector.line(stream, line)
    assert collector.result == {"b": 2}


def _result(exit_code: int, stderr: tuple[str, ...] = (), oom: bool = False) -> RunResult:
    return RunResult(exit_code, None, (), stderr, oom, 0.1)


def test_reason_is_the_last_stderr_line() -> None:
    stderr = ("Traceback (most recent call last):", "OSError: [Errno 30] Read-only file system: '/var/task/x'", "")
    assert _result(1, stderr).reason == "OSError: [Errno 30] Read-only file system: '/var/task/x'"
    assert _result(0, stderr).reason == ""
    assert _result(137, (), oom=True).reason.startswith("killed by the out-of-memory killer")
    assert _result(2).reason == "exit status 2, nothing on stderr"


def test_environment_is_lambdas_plus_extras() -> None:
    spec = RunSpec("image", Path("/x"), ("-c", "pass"), memory_mb=3008, extra_env={"RENDERZIP_BUCKET": "b"})
    env = spec.environment()
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "3008"
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.13"
    assert env["LD_LIBRARY_PATH"] == lambda_env.LD_LIBRARY_PATH
    assert env["RENDERZIP_BUCKET"] == "b"


def test_task_dir_the_function_user_cannot_read_is_refused(tmp_path: Path) -> None:
    task = tmp_path / "task"
    task.mkdir(mode=0o700)
    with pytest.raises(ArtifactDirError, match="mode 0700 keeps uid 993 out"):
        check_task_dir(task)
    task.chmod(0o755)
    check_task_dir(task)


def test_missing_task_dir_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ArtifactDirError, match="No such file"):
        check_task_dir(tmp_path / "absent")


def test_extra_mounts_are_bound_read_only_by_default(tmp_path: Path) -> None:
    spec = RunSpec(
        "image",
        tmp_path / "task",
        ("-c", "pass"),
        mounts=(Mount(tmp_path / "in", "/mnt/in"), Mount(tmp_path / "out", "/mnt/out", read_only=False)),
    )
    volumes = _create_options(spec, "name")["volumes"]
    assert volumes == {
        str(tmp_path / "task"): {"bind": "/var/task", "mode": "ro"},
        str(tmp_path / "in"): {"bind": "/mnt/in", "mode": "ro"},
        str(tmp_path / "out"): {"bind": "/mnt/out", "mode": "rw"},
    }


@pytest.mark.parametrize("target", ["relative", "/", "/var/task", "/tmp"])
def test_a_mount_may_not_shadow_the_task_root_or_tmp(tmp_path: Path, target: str) -> None:
    with pytest.raises(ValueError, match="must be an absolute path other than"):
        Mount(tmp_path, target)


def test_a_directory_or_target_bound_twice_is_refused(tmp_path: Path) -> None:
    twice = (Mount(tmp_path / "a", "/mnt/x"), Mount(tmp_path / "b", "/mnt/x"))
    with pytest.raises(ValueError, match="bound twice"):
        _create_options(RunSpec("image", tmp_path / "task", ("-c", "pass"), mounts=twice), "name")
