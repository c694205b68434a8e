"""URIs: S3 naming rules, key limits, file paths, joining, and the allowlist."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handler.edge.uris import Allowlist, Uri, bucket_name_problem, check_allowed, parse_prefix, parse_uri
from handler.errors import BucketNotAllowed, InvalidUri


def test_parses_s3_and_file_uris() -> None:
    assert parse_uri("s3://my-bucket/a/b.mp4") == Uri("s3", "my-bucket", "a/b.mp4")
    assert parse_uri("file:///tmp/x/plan.tar.gz") == Uri("file", "", "tmp/x/plan.tar.gz")
    assert str(parse_uri("file:///tmp/x/plan.tar.gz").path) == "/tmp/x/plan.tar.gz"


def test_keys_are_taken_literally() -> None:
    uri = parse_uri("s3://my-bucket/a b/%20?x#y")
    assert uri.key == "a b/%20?x#y"
    assert str(uri) == "s3://my-bucket/a b/%20?x#y"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("my-bucket/key", "expected s3://bucket/key"),
        ("https://my-bucket.s3.amazonaws.com/key", "unsupported scheme 'https'"),
        ("S3://my-bucket/key", "unsupported scheme 'S3'"),
        ("s3://ab/key", "3 to 63 characters"),
        ("s3://" + "a" * 64 + "/key", "3 to 63 characters"),
        ("s3://My-Bucket/key", "a-z, 0-9"),
        ("s3://my_bucket/key", "a-z, 0-9"),
        ("s3://-bucket/key", "a-z, 0-9"),
        ("s3://bucket-/key", "a-z, 0-9"),
        ("s3://my..bucket/key", "two adjacent periods"),
        ("s3://192.168.1.10/key", "not an IP address"),
        ("s3://xn--bucket/key", "reserves"),
        ("s3://bucket-s3alias/key", "reserves"),
        ("s3://my-bucket/", "names a prefix"),
        ("s3://my-bucket", "names a prefix"),
        ("s3://my-bucket/dir/", "names a prefix"),
        ("s3://my-bucket/" + "k" * 1025, "at most 1024 bytes"),
        ("s3://my-bucket/" + "é" * 513, "at most 1024 bytes"),
        ("s3://my-bucket/a\nb", "control character"),
        ("s3://my-bucket/\ud800", "not valid UTF-8"),
        ("file://tmp/x", "absolute path and no host"),
        ("file://localhost/tmp/x", "absolute path and no host"),
        ("file:///tmp/../etc/passwd", "'..'"),
        ("file:///tmp//x", "empty"),
        ("file:///", "names a prefix"),
    ],
)
def test_refuses_malformed_uri_with_a_clear_message(text: str, problem: str) -> None:
    with pytest.raises(InvalidUri, match=problem.replace("(", r"\(").replace("?", r"\?")):
        parse_uri(text, field="ProjectUri")


def test_refuses_non_strings() -> None:
    with pytest.raises(InvalidUri, match="expected a string, got int"):
        parse_uri(3)


def test_error_never_shows_a_presigned_query() -> None:
    with pytest.raises(InvalidUri) as caught:
        parse_uri("https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIAABCDEFGHIJKLMNOP&X-Amz-Signature=0f0f")
    assert "X-Amz" not in str(caught.value)
    assert "AKIA" not in str(caught.value)


def test_longest_legal_names_parse() -> None:
    bucket = "a" * 63
    key = "é" * 512
    uri = parse_uri(f"s3://{bucket}/{key}")
    assert (len(uri.bucket), len(uri.key.encode())) == (63, 1024)


def test_prefixes_may_be_the_root_and_lose_their_trailing_slash() -> None:
    assert parse_prefix("s3://my-bucket") == Uri("s3", "my-bucket", "")
    assert parse_prefix("s3://my-bucket/") == Uri("s3", "my-bucket", "")
    assert parse_prefix("s3://my-bucket/out/") == Uri("s3", "my-bucket", "out")
    assert parse_prefix("file:///") == Uri("file", "", "")


def test_child_parent_and_relative() -> None:
    prefix = parse_prefix("s3://my-bucket/out")
    child = prefix.child("v1-x/chunks/0001.mp4")
    assert str(child) == "s3://my-bucket/out/v1-x/chunks/0001.mp4"
    assert child.parent() == prefix.child("v1-x/chunks")
    assert child.relative_to(prefix) == "v1-x/chunks/0001.mp4"
    assert child.relative_to(parse_prefix("s3://my-bucket/ou")) is None
    assert child.relative_to(parse_prefix("s3://other-bucket/out")) is None
    assert str(parse_prefix("s3://my-bucket").child("a")) == "s3://my-bucket/a"
    assert str(parse_prefix("file:///").child("tmp/a")) == "file:///tmp/a"


@pytest.mark.parametrize("relative", ["", "/abs", "a//b", "a/./b", "../up", "a/..", "a\tb"])
def test_child_refuses_unclean_relative_paths(relative: str) -> None:
    with pytest.raises(InvalidUri):
        parse_prefix("s3://my-bucket/out").child(relative)


def test_child_refuses_a_key_over_the_limit() -> None:
    with pytest.raises(InvalidUri, match="at most 1024 bytes"):
        parse_prefix("s3://my-bucket/" + "k" * 1020).child("abcd")


bucket_names = st.from_regex(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]", fullmatch=True).filter(
    lambda name: bucket_name_problem(name) is None
)
keys = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), min_size=1).filter(
    lambda key: len(key.encode()) <= 1024 and not key.endswith("/")
)


@given(bucket_names, keys)
def test_every_valid_s3_uri_round_trips(bucket: str, key: str) -> None:
    uri = parse_uri(f"s3://{bucket}/{key}")
    assert (uri.bucket, uri.key) == (bucket, key)
    assert parse_uri(str(uri)) == uri


@given(st.text(max_size=80))
def test_parser_raises_only_invalid_uri(text: str) -> None:
    with contextlib.suppress(InvalidUri):
        parse_uri(text)


def test_allowlist_parsing_and_checks() -> None:
    allowlist = Allowlist.parse(" renders , inputs,,")
    assert allowlist == Allowlist(frozenset({"renders", "inputs"}), files=False)
    check_allowed(parse_uri("s3://renders/x"), allowlist)
    with pytest.raises(BucketNotAllowed, match="'elsewhere' is not in RENDERZIP_BUCKET_ALLOWLIST"):
        check_allowed(parse_uri("s3://elsewhere/x"), allowlist)
    with pytest.raises(BucketNotAllowed):
        check_allowed(parse_uri("file:///tmp/x"), allowlist)
    check_allowed(parse_uri("file:///tmp/x"), Allowlist.parse("renders,file://"))
    check_allowed(parse_uri("s3://anything/x"), None)


def test_allowlist_from_the_environment() -> None:
    assert Allowlist.from_env({}) is None
    assert Allowlist.from_env({"RENDERZIP_BUCKET_ALLOWLIST": ""}) == Allowlist(frozenset())
    assert Allowlist.from_env({"RENDERZIP_BUCKET_ALLOWLIST": "a-b,file://"}) == Allowlist(frozenset({"a-b"}), True)


def test_check_reads_the_environment_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RENDERZIP_BUCKET_ALLOWLIST", "renders")
    with pytest.raises(BucketNotAllowed):
        check_allowed(parse_uri("s3://elsewhere/x"))
    monkeypatch.delenv("RENDERZIP_BUCKET_ALLOWLIST")
    check_allowed(parse_uri("s3://elsewhere/x"))
