"""Run one Python command in a Lambda image, the way Lambda would run the function.

The unzipped artifact is mounted read-only at /var/task, the root filesystem is
read-only, only /tmp is writable (a tmpfs), the process runs as uid 993 with
no capabilities, no network unless asked for the host's loopback, under a
memory and process limit, with Lambda's environment variables. Output is
streamed line by line to a callback; the last stdout line that is a JSON
object is the command's result. The container is removed on every path:
success, failure, timeout, an exception in the callback, and Ctrl-C.
"""

from __future__ import annotations

import codecs
import contextlib
import json
import stat
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

import docker.errors

from bundler.targets import DEFAULT_RUNTIME
from probes import engine, lambda_env
from probes.errors import ArtifactDirError, RunTimedOut

OutputCallback = Callable[[str, str], None]  # (stream: "stdout" | "stderr", line without newline)
Network = Literal["none", "host"]

TAIL_LINES = 200
_WAIT_AFTER_OUTPUT_S = 60


@dataclass(frozen=True)
class Mount:
    """A host directory bound into the container, read-only unless said otherwise."""

    source: Path
    target: str
    read_only: bool = True

    def __post_init__(self) -> None:
        if not self.target.startswith("/") or self.target.rstrip("/") in (lambda_env.TASK_ROOT, lambda_env.TMP, ""):
            raise ValueError(f"mount target {self.target!r} must be an absolute path other than /, /var/task, /tmp")


@dataclass(frozen=True)
class RunSpec:
    """One command to run: the image, the task directory and the arguments to ``python3``."""

    image: str
    task_dir: Path
    command: tuple[str, ...]
    runtime: str = DEFAULT_RUNTIME
    memory_mb: int = lambda_env.DEFAULT_MEMORY_MB
    tmp_size: str = "512m"
    shm_size: str = "64m"
    network: Network = "none"
    timeout_s: float = 300.0
    cpus: float | None = None
    function_name: str = lambda_env.DEFAULT_FUNCTION_NAME
    region: str = lambda_env.DEFAULT_REGION
    extra_env: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)  # added to the container's, e.g. to find it in tests
    mounts: tuple[Mount, ...] = ()  # besides /var/task: inputs (read-only) and, at most, a few output directories

    def environment(self) -> dict[str, str]:
        base = lambda_env.function_environment(
            self.runtime, memory_mb=self.memory_mb, function_name=self.function_name, region=self.region
        )
        return {**base, **self.extra_env}


@dataclass(frozen=True)
class RunResult:
    exit_code: int
    result: dict[str, Any] | None  # the last JSON object the command printed on stdout
    stdout_tail: tuple[str, ...]
    stderr_tail: tuple[str, ...]
    oom_killed: bool
    seconds: float

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    @property
    def reason(self) -> str:
        """Why the command failed, in one line: the OOM killer, else its last line on stderr."""
        if self.ok:
            return ""
        if self.oom_killed:
            return "killed by the out-of-memory killer (raise the memory size)"
        for line in reversed(self.stderr_tail):
            if line.strip():
                return line.strip()
        return f"exit status {self.exit_code}, nothing on stderr"


def check_task_dir(task_dir: Path) -> None:
    """The function's user must be able to list and read the mounted directory."""
    try:
        info = task_dir.stat()
    except OSError as error:
        raise ArtifactDirError(str(task_dir), error.strerror or str(error)) from error
    if not stat.S_ISDIR(info.st_mode):
        raise ArtifactDirError(str(task_dir), "not a directory")
    readable_by_others = info.st_mode & (stat.S_IROTH | stat.S_IXOTH) == (stat.S_IROTH | stat.S_IXOTH)
    if info.st_uid != lambda_env.USER_ID and not readable_by_others:
        raise ArtifactDirError(
            str(task_dir), f"mode {stat.S_IMODE(info.st_mode):04o} keeps uid {lambda_env.USER_ID} out"
        )


def check_writable(directory: Path) -> None:
    """The function's user must be able to create files in a writable mount."""
    check_task_dir(directory)
    info = directory.stat()
    if info.st_uid != lambda_env.USER_ID and not info.st_mode & stat.S_IWOTH:
        raise ArtifactDirError(
            str(directory), f"mode {stat.S_IMODE(info.st_mode):04o} lets uid {lambda_env.USER_ID} not write"
        )


def _volumes(spec: RunSpec) -> dict[str, dict[str, str]]:
    volumes = {str(spec.task_dir.resolve()): {"bind": lambda_env.TASK_ROOT, "mode": "ro"}}
    for mount in spec.mounts:
        source = str(mount.source.resolve())
        if source in volumes or any(v["bind"] == mount.target for v in volumes.values()):
            raise ValueError(f"{source} -> {mount.target}: a directory or a target is bound twice")
        volumes[source] = {"bind": mount.target, "mode": "ro" if mount.read_only else "rw"}
    return volumes


def _create_options(spec: RunSpec, name: str) -> dict[str, Any]:
    tmp_options = f"rw,exec,nosuid,nodev,size={spec.tmp_size},mode=1777"
    options: dict[str, Any] = {
        "image": spec.image,
        "name": name,
        "entrypoint": [lambda_env.PYTHON],
        "command": list(spec.command),
        "environment": spec.environment(),
        "working_dir": lambda_env.TASK_ROOT,
        "user": f"{lambda_env.USER_ID}:{lambda_env.GROUP_ID}",
        "volumes": _volumes(spec),
        "read_only": True,
        "tmpfs": {lambda_env.TMP: tmp_options},
        "shm_size": spec.shm_size,
        "network_mode": spec.network,
        "mem_limit": f"{spec.memory_mb}m",
        "memswap_limit": f"{spec.memory_mb}m",
        "pids_limit": lambda_env.PIDS_LIMIT,
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges"],
        "init": True,
        "labels": {**spec.labels, engine.PROBE_LABEL: "1", f"{engine.PROBE_LABEL}.name": name},
        "stdin_open": False,
        "tty": False,
    }
    if spec.cpus is not None:
        options["nano_cpus"] = int(spec.cpus * 1e9)
    return options


class _Lines:
    """Splits one stream's byte chunks into decoded lines."""

    def __init__(self, name: str, on_line: Callable[[str, str], None]) -> None:
        self.name = name
        self.on_line = on_line
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.pending = ""

    def feed(self, chunk: bytes) -> None:
        self.pending += self.decoder.decode(chunk)
        *lines, self.pending = self.pending.split("\n")
        for line in lines:
            self.on_line(self.name, line)

    def close(self) -> None:
        self.pending += self.decoder.decode(b"", final=True)
        if self.pending:
            self.on_line(self.name, self.pending)
            self.pending = ""


def _json_object(line: str) -> dict[str, Any] | None:
    text = line.strip()
    if not (text.startswith("{") and text.endswith("}")):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return cast(dict[str, Any], value) if isinstance(value, dict) else None


class _Collector:
    """Keeps the tail of each stream and the last JSON object on stdout; forwards every line."""

    def __init__(self, on_output: OutputCallback | None) -> None:
        self.on_output = on_output
        self.tails: dict[str, deque[str]] = {"stdout": deque(maxlen=TAIL_LINES), "stderr": deque(maxlen=TAIL_LINES)}
        self.result: dict[str, Any] | None = None

    def line(self, stream: str, line: str) -> None:
        self.tails[stream].append(line)
        if stream == "stdout":
            parsed = _json_object(line)
            if parsed is not None:
                self.result = parsed
        if self.on_output is not None:
            self.on_output(stream, line)


def _remove(client: Any, name: str) -> None:
    try:
        client.api.remove_container(name, force=True, v=True)
    except docker.errors.NotFound:
        pass
    except docker.errors.APIError as error:
        if "already in progress" not in str(error):
            raise


def run_in_image(spec: RunSpec, *, on_output: OutputCallback | None = None, client: Any = None) -> RunResult:
    """Run ``python3 *spec.command`` in ``spec.image``; raises RunTimedOut past ``spec.timeout_s``."""
    check_task_dir(spec.task_dir)
    for mount in spec.mounts:
        (check_task_dir if mount.read_only else check_writable)(mount.source)
    client = client or engine.connect()
    name = f"renderzip-probe-{uuid.uuid4().hex[:12]}"
    collector = _Collector(on_output)
    timed_out = threading.Event()
    timer: threading.Timer | None = None
    started = time.monotonic()
    try:
        container = client.containers.create(**_create_options(spec, name))

        def kill() -> None:
            timed_out.set()
            with contextlib.suppress(docker.errors.APIError):  # it exited meanwhile
                container.kill()

        stream = cast(
            Iterator[tuple[bytes | None, bytes | None]],
            client.api.attach(container.id, stdout=True, stderr=True, stream=True, logs=True, demux=True),
        )
        container.start()
        timer = threading.Timer(spec.timeout_s, kill)
        timer.daemon = True
        timer.start()
        out, err = _Lines("stdout", collector.line), _Lines("stderr", collector.line)
        for out_chunk, err_chunk in stream:
            if out_chunk:
                out.feed(out_chunk)
            if err_chunk:
                err.feed(err_chunk)
        out.close()
        err.close()
        status = container.wait(timeout=_WAIT_AFTER_OUTPUT_S)
        if timed_out.is_set():
            raise RunTimedOut(spec.image, spec.command, spec.timeout_s, "\n".join(collector.tails["stderr"]))
        container.reload()
        oom_killed = bool(container.attrs.get("State", {}).get("OOMKilled", False))
        return RunResult(
            exit_code=int(status.get("StatusCode", -1)),
            result=collector.result,
            stdout_tail=tuple(collector.tails["stdout"]),
            stderr_tail=tuple(collector.tails["stderr"]),
            oom_killed=oom_killed,
            seconds=time.monotonic() - started,
        )
    finally:
        if timer is not None:
            timer.cancel()
        _remove(client, name)
