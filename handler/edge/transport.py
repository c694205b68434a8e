"""Moving files to and from ``s3://`` (through boto3) and ``file://`` (local copies).

Every operation checks the bucket allowlist before it touches the network.
Downloads stream into a temporary file beside the destination and are renamed
into place only once complete (and, when the caller knows the sha256, once
verified), so a failed download never leaves a partial file. Uploads send a
SHA-256 checksum that S3 verifies, per part for multipart uploads.

The S3 endpoint comes from botocore's own settings (``AWS_ENDPOINT_URL``,
``AWS_ENDPOINT_URL_S3``, the region and credential chain), which is how tests
point it at a local S3 server. Errors name the URI and the S3 error code,
never a credential or a presigned URL.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

from handler.digest import file_sha256
from handler.edge.uris import AllowlistArg, Uri, check_allowed, parse_uri
from handler.errors import IntegrityError, ObjectNotFound, RenderzipError, TransportError, TransportThrottled

MiB = 1024 * 1024
_NOT_FOUND_CODES = frozenset({"404", "NoSuchKey", "NotFound", "NoSuchBucket"})
_THROTTLE_CODES = frozenset(
    {
        "503",
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "ServiceUnavailable",
    }
)


@dataclass(frozen=True)
class Tuning:
    """Retry and multipart settings (S3 needs parts of at least 5 MiB)."""

    max_attempts: int = 8
    """Attempts in all, the first included."""
    retry_mode: str = "adaptive"
    multipart_threshold: int = 16 * MiB
    part_size: int = 16 * MiB
    max_concurrency: int = 4
    connect_timeout: float = 5.0
    read_timeout: float = 60.0


DEFAULT_TUNING = Tuning()


def download(
    uri: Uri | str,
    dest: Path,
    *,
    sha256: str | None = None,
    allowlist: AllowlistArg = "env",
    tuning: Tuning = DEFAULT_TUNING,
) -> str:
    """Fetch ``uri`` into ``dest`` and return its sha256; `IntegrityError` if it differs from ``sha256``."""
    source = _checked(uri, allowlist)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with _staged(dest) as (tmp, handle):
        if source.scheme == "file":
            _copy_local(source, handle)
        else:
            with _mapped(source, "download"):
                _client(tuning).download_fileobj(source.bucket, source.key, handle, Config=_transfer_config(tuning))
        handle.flush()
        actual = file_sha256(tmp)
        if sha256 is not None and actual != sha256:
            raise IntegrityError(f"{source} has sha256 {actual}, expected {sha256}")
    return actual


def upload(path: Path, uri: Uri | str, *, allowlist: AllowlistArg = "env", tuning: Tuning = DEFAULT_TUNING) -> str:
    """Store the file ``path`` at ``uri`` and return its sha256 (also kept as the object's ``sha256`` metadata)."""
    target = _checked(uri, allowlist)
    if not path.is_file():
        raise ObjectNotFound(f"cannot upload {path} to {target}: there is no such file")
    digest = file_sha256(path)
    if target.scheme == "file":
        target.path.parent.mkdir(parents=True, exist_ok=True)
        with _staged(target.path) as (_, handle), path.open("rb") as src:
            shutil.copyfileobj(src, handle, MiB)
        return digest
    extra = {"ChecksumAlgorithm": "SHA256", "Metadata": {"sha256": digest}}
    with _mapped(target, "upload"):
        _client(tuning).upload_file(
            str(path), target.bucket, target.key, ExtraArgs=extra, Config=_transfer_config(tuning)
        )
    return digest


def exists(uri: Uri | str, *, allowlist: AllowlistArg = "env", tuning: Tuning = DEFAULT_TUNING) -> bool:
    """Whether an object is stored at ``uri``."""
    target = _checked(uri, allowlist)
    if target.scheme == "file":
        return target.path.is_file()
    try:
        with _mapped(target, "check"):
            _client(tuning).head_object(Bucket=target.bucket, Key=target.key)
    except ObjectNotFound:
        return False
    return True


def _checked(uri: Uri | str, allowlist: AllowlistArg) -> Uri:
    parsed = parse_uri(uri) if isinstance(uri, str) else uri
    check_allowed(parsed, allowlist)
    return parsed


@contextlib.contextmanager
def _staged(dest: Path) -> Iterator[tuple[Path, IO[bytes]]]:
    """A temporary file beside ``dest``, renamed onto it when the block succeeds, removed when it fails."""
    fd, name = tempfile.mkstemp(prefix=f".{dest.name[:80]}.", suffix=".part", dir=dest.parent)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield tmp, handle
        tmp.chmod(0o644)
        tmp.replace(dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _copy_local(source: Uri, handle: IO[bytes]) -> None:
    try:
        with source.path.open("rb") as src:
            shutil.copyfileobj(src, handle, MiB)
    except FileNotFoundError:
        raise ObjectNotFound(f"{source} does not exist") from None
    except IsADirectoryError:
        raise ObjectNotFound(f"{source} is a directory, not a file") from None
    except OSError as exc:
        raise TransportError(f"reading {source}: {exc.strerror or exc}") from exc


# --- S3 ---------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _cached_client(tuning: Tuning, endpoint: str, region: str) -> Any:
    import boto3  # noqa: PLC0415 - loaded on the first S3 call, not at cold start for file:// runs
    from botocore.config import Config  # noqa: PLC0415

    config = Config(
        retries={"mode": tuning.retry_mode, "total_max_attempts": tuning.max_attempts},
        connect_timeout=tuning.connect_timeout,
        read_timeout=tuning.read_timeout,
        max_pool_connections=max(10, tuning.max_concurrency * 2),
    )
    return boto3.session.Session().client("s3", config=config)


def _client(tuning: Tuning) -> Any:
    """One client per tuning and endpoint, reused across warm invocations."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL") or ""
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or ""
    return _cached_client(tuning, endpoint, region)


def _transfer_config(tuning: Tuning) -> Any:
    from boto3.s3.transfer import TransferConfig  # noqa: PLC0415

    return TransferConfig(
        multipart_threshold=tuning.multipart_threshold,
        multipart_chunksize=tuning.part_size,
        max_concurrency=tuning.max_concurrency,
    )


@contextlib.contextmanager
def _mapped(uri: Uri, verb: str) -> Iterator[None]:
    """Turn boto3's and s3transfer's exceptions into the package's own, keeping the cause."""
    try:
        yield
    except RenderzipError:
        raise
    except Exception as exc:
        raise _translate(exc, uri, verb) from exc


def _translate(exc: BaseException, uri: Uri, verb: str) -> RenderzipError:
    code = _error_code(exc)
    if code in _NOT_FOUND_CODES:
        return ObjectNotFound(f"{uri} does not exist ({code})")
    if code in _THROTTLE_CODES:
        return TransportThrottled(f"{verb} {uri}: S3 kept throttling ({code}) after every retry")
    detail = code or type(exc).__name__
    return TransportError(f"{verb} {uri} failed: {detail}")


def _error_code(exc: BaseException) -> str | None:
    """The S3 error code of ``exc`` or of an exception it wraps (s3transfer wraps ClientError)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        response = getattr(current, "response", None)
        if isinstance(response, dict):
            error = response.get("Error", {})
            code = error.get("Code") if isinstance(error, dict) else None
            if code:
                return str(code)
            status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status:
                return str(status)
        current = current.__cause__ or current.__context__
    return None
