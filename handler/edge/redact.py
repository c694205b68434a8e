"""Removing secrets from text before it reaches a log line or an error message.

A presigned URL carries its signature in the query string, so every URL loses
its query string and fragment. AWS access key ids, SigV4 signature fields and
the values of the credential variables Lambda sets are masked wherever they
appear. Keys whose names look secret are dropped by the caller (`is_secret_key`).
"""

from __future__ import annotations

import os
import re

MASK = "[redacted]"

_URL_QUERY = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s?#\"'<>]*)[?#][^\s\"'<>]*")
_SIGV4_FIELD = re.compile(r"(?i)\b(x-amz-(?:signature|credential|security-token)=)[^&\s\"']+")
_SIGV4_HEADER = re.compile(r"AWS4-HMAC-SHA256\s[^\n\"']*")
_ACCESS_KEY_ID = re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")
_SECRET_KEY_NAME = re.compile(
    r"(?i)(secret|token|credential|signature|authorization|password|passwd|cookie|"
    r"access_?key|private_?key|api_?key)"
)
_CREDENTIAL_VARIABLES = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID", "AWS_SECURITY_TOKEN")


def is_secret_key(name: str) -> bool:
    """Whether a field named ``name`` may hold a secret (and so is never logged)."""
    return _SECRET_KEY_NAME.search(name) is not None


def redact(text: str) -> str:
    """``text`` with query strings, signatures, access key ids and credential values masked."""
    text = _URL_QUERY.sub(lambda m: f"{m.group(1)}?{MASK}", text)
    text = _SIGV4_FIELD.sub(lambda m: f"{m.group(1)}{MASK}", text)
    text = _SIGV4_HEADER.sub(MASK, text)
    text = _ACCESS_KEY_ID.sub(MASK, text)
    for variable in _CREDENTIAL_VARIABLES:
        value = os.environ.get(variable, "")
        if len(value) >= 8:
            text = text.replace(value, MASK)
    return text
