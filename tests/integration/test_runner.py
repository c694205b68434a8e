"""The Lambda image runner, against the stand-in image in the real Docker engine."""

from __future__ import annotations

import errno
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from probes import lambda_env
from probes.engine import probe_containers
from probes.errors import ArtifactDirError, RunTimedOut
from probes.runner import Mount, RunResult, RunSpec, run_in_image
from tests.integration.conftest import ROOT, StandinImage

pytestmark = pytest.mark.docker

MIB = 1024 * 1024


@pytest.fixture
def task_dir(tmp_path: Path) -> Path:
    task = tmp_path / "task"
    task.mkdir(mode=0o755)
    (task / "writer.py").write_text("open(__file__ + '.cache', 'w').write('x')\n")
    return task


@pytest.fixture
def label(docker_client: Any) -> Iterator[str]:
    """A label unique to the test; after it, no container carrying it may remain."""
    value = f"renderzip.test={uuid.uuid4().hex}"
    yield value
    assert probe_containers(docker_client, value) == []


def _spec(image: StandinImage, task_dir: Path, label: str, code: str, **options: Any) -> RunSpec:
    key, _, value = label.partition("=")
    return RunSpec(image.tag, task_dir, ("-c", code), labels={key: value}, **options)


def _run(image: StandinImage, task_dir: Path, label: str, code: str, **options: Any) -> RunResult:
    return run_in_image(_spec(image, task_dir, label, code, **options))


def test_returns_exit_status_and_last_json_object(standin_image: StandinImage, task_dir: Path, label: str) -> None:
    code = "import json, sys; print(json.dumps({'n': 1})); print(json.dumps({'n': 2})); print('tail'); sys.exit(3)"
    outcome = _run(standin_image, task_dir, label, code)
    assert outcome.exit_code == 3
    assert outcome.result == {"n": 2}
    assert outcome.stdout_tail == ('{"n": 1}', '{"n": 2}', "tail")


def test_streams_output_while_the_command_runs(standin_image: StandinImage, task_dir: Path, label: str) -> None:
    seen: list[tuple[float, str, str]] = []
    code = (
        "import sys, time; print('first', flush=True); print('warn', file=sys.stderr, flush=True);"
        " time.sleep(1.5); print('second')"
    )
    outcome = run_in_image(
        _spec(standin_image, task_dir, label, code),
        on_output=lambda stream, line: seen.append((time.monotonic(), stream, line)),
    )
    assert outcome.ok
    # Each stream keeps its order; the two streams travel separately, so their interleaving may vary.
    assert [line for _, stream, line in seen if stream == "stdout"] == ["first", "second"], seen
    assert [line for _, stream, line in seen if stream == "stderr"] == ["warn"], seen
    arrived = {line: at for at, _, line in seen}
    assert arrived["second"] - arrived["first"] >= 1.0, f"the first line arrived only when the command ended: {seen}"


def test_code_writing_under_var_task_fails_with_a_clear_reason(
    standin_image: StandinImage, task_dir: Path, label: str
) -> None:
    outcome = _run(standin_image, task_dir, label, "import writer")
    assert outcome.exit_code == 1
    assert outcome.reason == "OSError: [Errno 30] Read-only file system: '/var/task/writer.py.cache'"
    assert not (task_dir / "writer.py.cache").exists()


def test_only_tmp_and_shm_are_writable_and_tmp_allows_exec(
    standin_image: StandinImage, task_dir: Path, label: str
) -> None:
    code = """
import json, os, subprocess
candidates = ['/', '/etc', '/home', '/opt', '/root', '/run', '/usr', '/var', '/var/lang', '/var/lang/bin',
              '/var/runtime', '/var/task', '/var/tmp', '/tmp', '/dev/shm']
writable, errors = [], {}
for directory in candidates:
    try:
        with open(os.path.join(directory, '.probe'), 'x') as f:
            f.write('x')
        writable.append(directory)
    except OSError as error:
        errors[directory] = error.errno
with open('/tmp/tool', 'w') as f:
    f.write('#!/var/lang/bin/python3\\nprint(6 * 7)\\n')
os.chmod('/tmp/tool', 0o755)
ran = subprocess.run(['/tmp/tool'], capture_output=True, text=True).stdout.strip()
print(json.dumps({'writable': writable, 'task_errno': errors.get('/var/task'), 'exec': ran}))
"""
    outcome = _run(standin_image, task_dir, label, code)
    assert outcome.ok, outcome.stderr_tail
    assert outcome.result == {"writable": ["/tmp", "/dev/shm"], "task_errno": errno.EROFS, "exec": "42"}


def test_extra_mounts_are_read_only_unless_asked_and_the_writable_one_belongs_to_the_function_user(
    standin_image: StandinImage, task_dir: Path, label: str, tmp_path: Path
) -> None:
    inputs, outputs = tmp_path / "in", tmp_path / "out"
    inputs.mkdir(mode=0o755)
    (inputs / "data.txt").write_text("input")
    (inputs / "data.txt").chmod(0o644)
    outputs.mkdir()
    os.chown(outputs, lambda_env.USER_ID, lambda_env.GROUP_ID)
    code = """
import json
read = open('/mnt/in/data.txt').read()
try:
    open('/mnt/in/new.txt', 'x')
    input_writable = True
except OSError:
    input_writable = False
with open('/mnt/out/result.txt', 'x') as f:
    f.write(read + ' processed')
print(json.dumps({'read': read, 'input_writable': input_writable}))
"""
    mounts = (Mount(inputs, "/mnt/in"), Mount(outputs, "/mnt/out", read_only=False))
    outcome = _run(standin_image, task_dir, label, code, mounts=mounts)
    assert outcome.ok, outcome.stderr_tail
    assert outcome.result == {"read": "input", "input_writable": False}
    assert (outputs / "result.txt").read_text() == "input processed"
    assert (outputs / "result.txt").stat().st_uid == lambda_env.USER_ID
    assert not (inputs / "new.txt").exists()


def test_a_writable_mount_the_function_user_cannot_write_is_refused(
    standin_image: StandinImage, task_dir: Path, label: str, tmp_path: Path
) -> None:
    outputs = tmp_path / "out"
    outputs.mkdir(mode=0o755)
    with pytest.raises(ArtifactDirError, match="lets uid 993 not write"):
        _run(standin_image, task_dir, label, "pass", mounts=(Mount(outputs, "/mnt/out", read_only=False),))


def test_tmp_size_is_configurable(standin_image: StandinImage, task_dir: Path, label: str) -> None:
    code = "import json, os; s = os.statvfs('/tmp'); print(json.dumps({'bytes': s.f_blocks * s.f_frsize}))"
    outcome = _run(standin_image, task_dir, label, code, tmp_size="64m")
    assert outcome.result == {"bytes": 64 * MIB}


def test_runs_unprivileged_under_memory_and_process_limits(
    standin_image: StandinImage, task_dir: Path, label: str
) -> None:
    code = """
import json, os
def first(*paths):
    for path in paths:
        if os.path.exists(path):
            return open(path).read().strip()
status = dict(line.split(':', 1) for line in open('/proc/self/status').read().splitlines())
print(json.dumps({
    'uid': os.getuid(), 'gid': os.getgid(),
    'caps': status['CapEff'].strip(), 'no_new_privs': status['NoNewPrivs'].strip(),
    'memory': first('/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes'),
    'pids': first('/sys/fs/cgroup/pids.max', '/sys/fs/cgroup/pids/pids.max'),
}))
"""
    outcome = _run(standin_image, task_dir, label, code, memory_mb=1024)
    assert outcome.result == {
        "uid": 993,
        "gid": 993,
        "caps": "0000000000000000",
        "no_new_privs": "1",
        "memory": str(1024 * MIB),
        "pids": "1024",
    }


def test_environment_is_lambdas(standin_image: StandinImage, task_dir: Path, label: str) -> None:
    code = "import json, os; print(json.dumps(dict(os.environ)))"
    spec = _spec(standin_image, task_dir, label, code, memory_mb=3008, extra_env={"RENDERZIP_BUCKET": "bucket"})
    outcome = run_in_image(spec)
    assert outcome.result is not None
    # Docker sets HOME and HOSTNAME; Python sets LC_CTYPE=C.UTF-8 when LANG names a locale the image lacks.
    env = {key: value for key, value in outcome.result.items() if key not in ("HOME", "HOSTNAME", "LC_CTYPE")}
    assert env == {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "3008",
        "AWS_LAMBDA_FUNCTION_NAME": "renderzip",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_REGION": "us-east-1",
        "LAMBDA_RUNTIME_DIR": "/var/runtime",
        "LAMBDA_TASK_ROOT": "/var/task",
        "LANG": "en_US.UTF-8",
        "LD_LIBRARY_PATH": lambda_env.LD_LIBRARY_PATH,
        "PATH": lambda_env.PATH,
        "RENDERZIP_BUCKET": "bucket",
        "TZ": ":/etc/localtime",
    }


@pytest.fixture
def loopback_server() -> Iterator[int]:
    """A TCP server on the host's loopback that greets each client."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(30)

    def serve() -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            with client:
                client.sendall(b"hello")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    server.close()


CONNECT = """
import json, socket, sys
def attempt(host, port):
    try:
        with socket.create_connection((host, port), timeout=3) as s:
            return s.recv(5).decode()
    except OSError as error:
        return error.errno if error.errno is not None else type(error).__name__
print(json.dumps({'loopback': attempt('127.0.0.1', int(sys.argv[1])), 'outside': attempt('192.0.2.1', 80)}))
"""


def test_has_no_network_by_default(
    standin_image: StandinImage, task_dir: Path, label: str, loopback_server: int
) -> None:
    key, _, value = label.partition("=")
    spec = RunSpec(standin_image.tag, task_dir, ("-c", CONNECT, str(loopback_server)), labels={key: value})
    outcome = run_in_image(spec)
    assert outcome.result == {"loopback": errno.ECONNREFUSED, "outside": errno.ENETUNREACH}


def test_host_network_reaches_the_hosts_loopback(
    standin_image: StandinImage, task_dir: Path, label: str, loopback_server: int
) -> None:
    key, _, value = label.partition("=")
    spec = RunSpec(
        standin_image.tag, task_dir, ("-c", CONNECT, str(loopback_server)), labels={key: value}, network="host"
    )
    outcome = run_in_image(spec)
    assert outcome.result is not None
    assert outcome.result["loopback"] == "hello"


def test_timeout_kills_and_removes_the_container(standin_image: StandinImage, task_dir: Path, label: str) -> None:
    started = time.monotonic()
    with pytest.raises(RunTimedOut) as caught:
        _run(standin_image, task_dir, label, "import time; time.sleep(120)", timeout_s=2)
    assert time.monotonic() - started < 30
    assert caught.value.timeout_s == 2
    assert "did not finish within 2 s" in str(caught.value)


@pytest.mark.parametrize("error", [RuntimeError("callback failed"), KeyboardInterrupt()], ids=type)
def test_exception_in_the_output_callback_removes_the_container(
    standin_image: StandinImage, task_dir: Path, label: str, error: BaseException
) -> None:
    def explode(stream: str, line: str) -> None:
        raise error

    started = time.monotonic()
    with pytest.raises(type(error)):
        run_in_image(
            _spec(standin_image, task_dir, label, "import time; print('go', flush=True); time.sleep(120)"),
            on_output=explode,
        )
    assert time.monotonic() - started < 30


def test_failing_command_leaves_no_container(standin_image: StandinImage, task_dir: Path, label: str) -> None:
    outcome = _run(standin_image, task_dir, label, "raise SystemExit('broken artifact')")
    assert outcome.exit_code == 1
    assert outcome.reason == "broken artifact"


def test_cli_run_streams_and_exits_with_the_commands_status(standin_image: StandinImage, task_dir: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "probes", "run", "--image", standin_image.tag, "--task-dir", str(task_dir),
         "--", "-c", "import sys; print('out'); print('err', file=sys.stderr); sys.exit(4)"],
        cwd=ROOT, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert result.returncode == 4
    assert result.stdout == "out\n"
    assert result.stderr.splitlines()[0] == "err"
    assert result.stderr.splitlines()[-1] == "WARNING the command failed: err"


def _sigint_as_at_a_terminal() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_on_the_cli_removes_the_container(
    standin_image: StandinImage, task_dir: Path, label: str, docker_client: Any
) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "probes", "run", "--image", standin_image.tag, "--task-dir", str(task_dir),
         "--label", label, "--", "-c", "import time; print('started', flush=True); time.sleep(120)"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # As at a terminal: a suite started in the background (CI) inherits SIGINT ignored.
        preexec_fn=_sigint_as_at_a_terminal,  # noqa: PLW1509 - one signal call, no threads involved
    )  # fmt: skip
    assert process.stdout is not None
    assert process.stdout.readline() == "started\n"
    assert len(probe_containers(docker_client, label)) == 1
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130
    assert stderr.splitlines()[-1] == "interrupted"


def test_missing_image_points_to_the_stand_in(task_dir: Path, docker_client: Any) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "probes", "image", "--image", "renderzip-test/absent:none"],
        cwd=ROOT, capture_output=True, text=True, check=False, timeout=120,
        env={**os.environ, "RENDERZIP_IMAGE": ""},
    )  # fmt: skip
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if not line.startswith("[")]
    assert lines[0].startswith("ERROR image renderzip-test/absent:none is not present locally and could not be pulled:")
    assert lines[-1] == "hint: use the stand-in image: `--image standin` (or RENDERZIP_IMAGE=standin)"
