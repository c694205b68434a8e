"""The URIs events carry: ``s3://bucket/key`` and ``file:///abs/path``, and the bucket allowlist.

Both kinds are one value, `Uri`: a scheme, a bucket (empty for ``file``) and a
key. A file URI's key is its absolute path without the leading ``/``, so
joining and taking the parent work the same way for both kinds. Text is taken
literally: no percent-decoding, and ``?`` or ``#`` are ordinary key characters.

An *object* URI names one object (a non-empty key not ending in ``/``); a
*prefix* URI names a place to write under and may be the bucket's root.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from handler.edge.redact import redact
from handler.errors import BucketNotAllowed, InvalidUri

S3_MAX_KEY_BYTES = 1024
S3_MAX_BUCKET_CHARS = 63
ALLOWLIST_ENV = "RENDERZIP_BUCKET_ALLOWLIST"
FILE_ALLOWLIST_ENTRY = "file://"
"""The allowlist entry that permits ``file://`` URIs once the allowlist is set."""

_BUCKET_CHARS = re.compile(r"[a-z0-9][a-z0-9.-]*[a-z0-9]")
_RESERVED_BUCKET_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_BUCKET_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--table-s3")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

Scheme = Literal["s3", "file"]


@dataclass(frozen=True)
class Uri:
    scheme: Scheme
    bucket: str
    key: str

    def __str__(self) -> str:
        if self.scheme == "s3":
            return f"s3://{self.bucket}/{self.key}"
        return f"file:///{self.key}"

    @property
    def path(self) -> Path:
        """The local path of a ``file://`` URI."""
        if self.scheme != "file":
            raise InvalidUri(str(self), "an s3:// URI has no local path")
        return Path("/" + self.key)

    @property
    def name(self) -> str:
        """The last segment of the key."""
        return self.key.rsplit("/", 1)[-1]

    def parent(self) -> Uri:
        """The prefix this object lies under (the bucket's root or ``/`` at the top)."""
        head = self.key.rsplit("/", 1)[0] if "/" in self.key else ""
        return Uri(self.scheme, self.bucket, head)

    def child(self, relative: str) -> Uri:
        """This prefix joined with a relative ``a/b/c`` path (no empty, ``.`` or ``..`` segments)."""
        problem = relative_path_problem(relative)
        if problem:
            raise InvalidUri(f"{self}/{relative}", problem)
        key = f"{self.key}/{relative}" if self.key else relative
        _check_key(self.scheme, key, f"{self.scheme}://{self.bucket}/{key}")
        return Uri(self.scheme, self.bucket, key)

    def relative_to(self, prefix: Uri) -> str | None:
        """This URI's key relative to ``prefix``, or None if it does not lie under it."""
        if (self.scheme, self.bucket) != (prefix.scheme, prefix.bucket):
            return None
        if not prefix.key:
            return self.key or None
        head = prefix.key + "/"
        return self.key[len(head) :] if self.key.startswith(head) and len(self.key) > len(head) else None


def relative_path_problem(relative: str) -> str | None:
    """Why ``relative`` is not a plain ``a/b/c`` path, or None if it is."""
    if not relative:
        return "the relative path is empty"
    if relative.startswith("/"):
        return "the relative path starts with '/'"
    if _CONTROL.search(relative):
        return "the relative path contains a control character"
    if any(part in ("", ".", "..") for part in relative.split("/")):
        return "the relative path has an empty, '.' or '..' segment"
    return None


def parse_uri(text: object, *, field: str | None = None) -> Uri:
    """An object URI: ``s3://bucket/key`` or ``file:///abs/path`` naming one object."""
    uri = _parse(text, field)
    if not uri.key or uri.key.endswith("/"):
        raise InvalidUri(str(uri), "it names a prefix, not an object (the key is empty or ends in '/')", field)
    return uri


def parse_prefix(text: object, *, field: str | None = None) -> Uri:
    """A prefix URI to write under; a trailing ``/`` is dropped, the bucket's root is allowed."""
    return _parse(text, field, strip_slash=True)


def _parse(text: object, field: str | None, *, strip_slash: bool = False) -> Uri:
    if not isinstance(text, str):
        raise InvalidUri(repr(text)[:80], f"expected a string, got {type(text).__name__}", field)
    shown = redact(text)
    scheme, sep, rest = text.partition("://")
    if not sep:
        raise InvalidUri(shown, "expected s3://bucket/key or file:///absolute/path", field)
    if scheme == "s3":
        bucket, _, key = rest.partition("/")
        bucket_problem = bucket_name_problem(bucket)
        if bucket_problem:
            raise InvalidUri(shown, bucket_problem, field)
        uri = Uri("s3", bucket, key.rstrip("/") if strip_slash else key)
    elif scheme == "file":
        if not rest.startswith("/"):
            raise InvalidUri(shown, "a file URI needs an absolute path and no host: file:///path", field)
        path = rest[1:]
        uri = Uri("file", "", path.rstrip("/") if strip_slash else path)
    else:
        raise InvalidUri(shown, f"unsupported scheme {scheme!r}; use s3:// or file://", field)
    _check_key(uri.scheme, uri.key, shown, field)
    return uri


def bucket_name_problem(bucket: str) -> str | None:
    """Why ``bucket`` breaks S3's naming rules for general purpose buckets, or None."""
    if not 3 <= len(bucket) <= S3_MAX_BUCKET_CHARS:
        return f"a bucket name has 3 to {S3_MAX_BUCKET_CHARS} characters, this one has {len(bucket)}"
    if not _BUCKET_CHARS.fullmatch(bucket):
        return "a bucket name uses a-z, 0-9, '.' and '-', and starts and ends with a letter or digit"
    if ".." in bucket:
        return "a bucket name has no two adjacent periods"
    try:
        ipaddress.IPv4Address(bucket)
    except ValueError:
        pass
    else:
        return "a bucket name is not an IP address"
    if bucket.startswith(_RESERVED_BUCKET_PREFIXES) or bucket.endswith(_RESERVED_BUCKET_SUFFIXES):
        return "the bucket name uses a prefix or suffix that S3 reserves"
    return None


def _check_key(scheme: Scheme, key: str, shown: str, field: str | None = None) -> None:
    if _CONTROL.search(key):
        raise InvalidUri(shown, "the key or path contains a control character", field)
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError:
        raise InvalidUri(shown, "the key or path is not valid UTF-8", field) from None
    if scheme == "s3" and size > S3_MAX_KEY_BYTES:
        raise InvalidUri(shown, f"an S3 key has at most {S3_MAX_KEY_BYTES} bytes (UTF-8), this one has {size}", field)
    if scheme == "file" and key and any(part in ("", ".", "..") for part in key.split("/")):
        raise InvalidUri(shown, "a file path has no empty, '.' or '..' segments", field)


# --- the allowlist ------------------------------------------------------------


@dataclass(frozen=True)
class Allowlist:
    """Buckets the function may touch; ``file://`` URIs only when listed as ``file://``."""

    buckets: frozenset[str]
    files: bool = False

    @classmethod
    def parse(cls, text: str) -> Allowlist:
        entries = {entry.strip() for entry in text.split(",")} - {""}
        return cls(frozenset(entries - {FILE_ALLOWLIST_ENTRY}), FILE_ALLOWLIST_ENTRY in entries)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Allowlist | None:
        """The allowlist in ``RENDERZIP_BUCKET_ALLOWLIST``; None (everything allowed) when it is unset."""
        text = (os.environ if environ is None else environ).get(ALLOWLIST_ENV)
        return None if text is None else cls.parse(text)

    def entries(self) -> list[str]:
        return sorted(self.buckets) + ([FILE_ALLOWLIST_ENTRY] if self.files else [])


AllowlistArg = Allowlist | Literal["env"] | None
"""What callers pass: an allowlist, ``"env"`` to read `ALLOWLIST_ENV` at the call, or None to allow everything."""


def check_allowed(uri: Uri, allowlist: AllowlistArg = "env", *, field: str | None = None) -> None:
    """Raise `BucketNotAllowed` unless ``uri`` is allowed."""
    if allowlist == "env":
        allowlist = Allowlist.from_env()
    if allowlist is None:
        return
    if uri.scheme == "file":
        if not allowlist.files:
            raise BucketNotAllowed(FILE_ALLOWLIST_ENTRY, allowlist.entries(), field)
    elif uri.bucket not in allowlist.buckets:
        raise BucketNotAllowed(uri.bucket, allowlist.entries(), field)
