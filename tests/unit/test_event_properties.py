"""Property-based tests of the event parser: whatever arrives, a typed error or an event whose result fits."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import hypothesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handler.edge.events import (
    MAX_CHUNK_RESULT_BYTES,
    MAX_CHUNKS,
    AssembleEvent,
    ChunkOutput,
    PlanEvent,
    RenderChunkEvent,
    parse_event,
)
from handler.edge.uris import S3_MAX_KEY_BYTES, Allowlist
from handler.errors import RenderzipError

EVENTS = Path(__file__).resolve().parents[1] / "events"
VALID = [json.loads(path.read_text()) for path in sorted((EVENTS / "valid").glob("*.json"))]
ALLOWLIST = Allowlist.parse("renderzip-test, file://")
PROPERTY_EXAMPLES = 1000
# The largest figures a chunk can report: its result must fit even then.
LONGEST_RESULT = {"sha256": "f" * 64, "frames": 10**8 - 1, "duration_ms": 10**10 - 1}

FIELD_NAMES = (
    "Action",
    "ProjectUri",
    "OutputPrefix",
    "Config",
    "PlanUri",
    "PlanHash",
    "ChunkIndex",
    "ChunkUris",
    "OutputUri",
    "Payload",
    "Input",
    "Chunks",
    "FramesPerChunk",
    "Capture",
    "Format",
    "Codec",
    "JpegQuality",
    "Crf",
    "Preset",
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
odd_values = json_values | st.sampled_from(
    [
        "s3://renderzip-test/x",
        "s3://Upper/x",
        "s3://renderzip-test/",
        "file:///tmp/x",
        "file://host/x",
        "https://example.invalid/x",
        "v1-" + "0" * 64,
        "v1-" + "0" * 63,
        -1,
        MAX_CHUNKS,
        2**63,
        1.5,
        True,
        "",
        "\x00",
        "s3://renderzip-test/" + "k" * (S3_MAX_KEY_BYTES + 1),
    ]
)


def _objects(value: Any) -> list[dict[str, Any]]:
    """Every JSON object inside ``value``, itself included."""
    found: list[dict[str, Any]] = []
    if isinstance(value, dict):
        found.append(value)
        for item in value.values():
            found += _objects(item)
    elif isinstance(value, list):
        for item in value:
            found += _objects(item)
    return found


@st.composite
def mutated_events(draw: st.DrawFn) -> object:
    """A valid sample with up to three fields dropped, added or retyped, wrapped in up to six envelopes."""
    event = copy.deepcopy(draw(st.sampled_from(VALID)))
    for _ in range(draw(st.integers(0, 3))):
        target = draw(st.sampled_from(_objects(event)))
        operation = draw(st.sampled_from(["drop", "add", "replace"]))
        if operation == "drop" and target:
            del target[draw(st.sampled_from(sorted(target)))]
        elif operation == "add":
            target[draw(st.sampled_from(FIELD_NAMES) | st.text(max_size=12))] = draw(odd_values)
        elif target:
            target[draw(st.sampled_from(sorted(target)))] = draw(odd_values)
    for _ in range(draw(st.integers(0, 6))):
        event = {draw(st.sampled_from(["Payload", "Input"])): event, "StatusCode": 200}
    return event


def _check_result_budget(event: object) -> None:
    assert isinstance(event, PlanEvent | RenderChunkEvent | AssembleEvent)
    if isinstance(event, RenderChunkEvent):
        result = ChunkOutput.for_event(event, **LONGEST_RESULT)
        assert len(json.dumps(result.to_json()).encode()) < MAX_CHUNK_RESULT_BYTES


@settings(max_examples=PROPERTY_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(json_values, mutated_events()))
def test_any_input_gives_an_event_or_a_typed_permanent_error(raw: object) -> None:
    try:
        event = parse_event(raw, allowlist=ALLOWLIST)
    except RenderzipError as error:
        # Bad input is never worth a retry, and the error names what was wrong.
        assert not error.retryable, error
        assert str(error)
        hypothesis.event(f"refused: {error.code}")
        return
    hypothesis.event("parsed")
    _check_result_budget(event)


bucket_names = st.from_regex(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", fullmatch=True)
key_texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), min_size=1, max_size=1100)


@settings(max_examples=PROPERTY_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bucket_names, key_texts, st.integers(0, MAX_CHUNKS - 1), st.integers(0, 2))
def test_a_chunk_result_fits_its_budget_for_any_legal_uri(bucket: str, key: str, index: int, slashes: int) -> None:
    prefix = f"s3://{bucket}/{key.rstrip('/')}" + "/" * slashes
    plan_hash = "v1-" + "0123456789abcdef" * 4
    raw = {
        "Action": "renderChunk",
        "PlanUri": f"{prefix.rstrip('/')}/{plan_hash}/plan.tar.gz",
        "PlanHash": plan_hash,
        "ChunkIndex": index,
        "OutputPrefix": prefix,
    }
    try:
        event = parse_event(raw, allowlist=None)
    except RenderzipError as error:
        assert not error.retryable, error
        hypothesis.event(f"refused: {error.code}")
        return
    hypothesis.event("parsed")
    _check_result_budget(event)
