"""What a Lambda Python runtime looks like from inside: paths, user and environment.

The values follow the public Lambda base images and the Lambda developer guide
(see LAMBDA-ENV.md in the design notes); the runner and the stand-in image
both take them from here, so the two cannot drift apart.
"""

from __future__ import annotations

TASK_ROOT = "/var/task"
RUNTIME_DIR = "/var/runtime"
LANG_BIN = "/var/lang/bin"
PYTHON = f"{LANG_BIN}/python3"
TMP = "/tmp"  # noqa: S108 - Lambda's one writable directory, inside the container

# Lambda runs functions as an unprivileged user with this uid.
USER_ID = 993
GROUP_ID = 993
USER_NAME = "sbx_user1051"

LANG = "en_US.UTF-8"
TZ = ":/etc/localtime"
PATH = "/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin"
LD_LIBRARY_PATH = "/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib"

DEFAULT_FUNCTION_NAME = "renderzip"
DEFAULT_REGION = "us-east-1"
DEFAULT_MEMORY_MB = 2048

# Lambda caps processes plus threads per execution environment at 1024.
PIDS_LIMIT = 1024


def image_environment() -> dict[str, str]:
    """The variables the Lambda base image itself sets (its ENV lines)."""
    return {
        "LANG": LANG,
        "TZ": TZ,
        "PATH": PATH,
        "LD_LIBRARY_PATH": LD_LIBRARY_PATH,
        "LAMBDA_TASK_ROOT": TASK_ROOT,
        "LAMBDA_RUNTIME_DIR": RUNTIME_DIR,
    }


def function_environment(
    runtime: str,
    *,
    memory_mb: int = DEFAULT_MEMORY_MB,
    function_name: str = DEFAULT_FUNCTION_NAME,
    region: str = DEFAULT_REGION,
) -> dict[str, str]:
    """The variables Lambda sets for one function, on top of the image's."""
    return {
        **image_environment(),
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{runtime}",
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
    }
