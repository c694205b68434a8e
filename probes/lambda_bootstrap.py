"""One Lambda invocation in a container, the way moto's Lambda backend runs a function.

moto starts the function's image with ``[handler, event-json]`` as its command
and reads the invocation's response from the last line of the container's
output; a non-zero exit status makes it an error (``FunctionError``). This file
is the entry point of the image `probes.motoimage` builds: it imports the
handler from ``/var/task``, calls it with the event and a context like Lambda's,
and prints the result, or Lambda's error document (``errorType`` is the
exception's class name, which the state machine's Retry and Catch match), as
one JSON line.

Like Lambda's own runtime, it runs the function in a child process and
watches it: a function process that dies (killed, out of memory) gives Lambda's
``Runtime.ExitError`` document, not silence. It runs inside the image with only
the standard library, before anything of the artifact is imported.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from pathlib import Path
from typing import Any


class LambdaContext:
    """The attributes of Lambda's Python context object the function reads."""

    def __init__(self, environ: dict[str, str], started: float) -> None:
        self.function_name = environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "")
        self.aws_request_id = str(uuid.uuid4())
        self.invoked_function_arn = ""
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = self.aws_request_id
        self._deadline = started + float(environ.get("AWS_LAMBDA_FUNCTION_TIMEOUT", "900"))

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def loopback_endpoint(environ: dict[str, str]) -> str | None:
    """moto's S3 endpoint on the loopback: the container shares the host's network and the server
    listens on 127.0.0.1 only, so the ``host.docker.internal`` address moto passes is not used."""
    port = environ.get("MOTO_PORT", "")
    return f"http://127.0.0.1:{port}" if port.isdigit() else None


def load_handler(spec: str, task_root: str) -> Any:
    module_name, _, function_name = spec.rpartition(".")
    if not module_name:
        raise ValueError(f"handler {spec!r} is not MODULE.FUNCTION")
    sys.path.insert(0, task_root)
    return getattr(importlib.import_module(module_name), function_name)


def error_document(error: BaseException) -> dict[str, Any]:
    return {
        "errorType": type(error).__name__,
        "errorMessage": str(error),
        "stackTrace": traceback.format_tb(error.__traceback__),
    }


def invoke(spec: str, event_json: str, result_path: str) -> int:
    """The child: call the function and write its result, or its error document, to ``result_path``."""
    started = time.monotonic()
    environ = dict(os.environ)
    status = 0
    try:
        function = load_handler(spec, environ.get("LAMBDA_TASK_ROOT", "/var/task"))
        document = function(json.loads(event_json), LambdaContext(environ, started))
    except Exception as error:  # every error becomes Lambda's error document
        traceback.print_exc(file=sys.stderr)
        document, status = error_document(error), 1
    Path(result_path).write_text(json.dumps(document, separators=(",", ":")), encoding="utf-8")
    return status


def exit_document(returncode: int) -> dict[str, Any]:
    """What Lambda reports when the function's process ends without a result."""
    reason = f"signal: {signal.Signals(-returncode).name}" if returncode < 0 else f"exit status {returncode}"
    return {"errorType": "Runtime.ExitError", "errorMessage": f"Runtime exited with error: {reason}"}


def main(argv: list[str]) -> int:
    if len(argv) == 5 and argv[1] == "--invoke":
        return invoke(argv[2], argv[3], argv[4])
    if len(argv) != 3:
        print(json.dumps(error_document(ValueError("usage: bootstrap HANDLER EVENT-JSON"))), flush=True)
        return 1
    endpoint = loopback_endpoint(dict(os.environ))
    if endpoint is not None:
        os.environ["AWS_ENDPOINT_URL"] = endpoint
    scratch = tempfile.mkdtemp(prefix="bootstrap-")
    result_path = Path(scratch) / "result.json"
    try:
        child = subprocess.run([sys.executable, __file__, "--invoke", argv[1], argv[2], str(result_path)], check=False)
        sys.stderr.flush()
        if not result_path.is_file():
            print(json.dumps(exit_document(child.returncode), separators=(",", ":")), flush=True)
            return 1
        # The response must be the output's last line: the function's own logs went out first.
        print(result_path.read_text(encoding="utf-8"), flush=True)
        return child.returncode
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
