"""Events: sample files under tests/events/, envelopes, results and their sizes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handler.edge.events import (
    MAX_CHUNK_RESULT_BYTES,
    MAX_CHUNKS,
    AssembleEvent,
    AssembleOutput,
    ChunkOutput,
    PlanEvent,
    PlanOutput,
    RenderChunkEvent,
    RenderConfig,
    parse_event,
    unwrap,
)
from handler.edge.uris import S3_MAX_KEY_BYTES, Allowlist, parse_uri
from handler.errors import BucketNotAllowed, InvalidEvent, InvalidUri, RenderzipError
from handler.render.settings import FrameRate

EVENTS = Path(__file__).resolve().parents[1] / "events"
EXPECTED = json.loads((EVENTS / "malformed" / "expected.json").read_text())
ALLOWLIST = Allowlist.parse("renderzip-test, file://")
PLAN_HASH = "v1-" + "0123456789abcdef" * 4
STEP_FUNCTIONS_PAYLOAD_LIMIT = 256 * 1024


def load(path: Path) -> object:
    return json.loads(path.read_text())


def test_every_malformed_sample_has_an_expectation() -> None:
    samples = {path.name for path in (EVENTS / "malformed").glob("*.json")} - {"expected.json"}
    assert samples == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_malformed_event_gives_its_error_code_and_field(name: str) -> None:
    with pytest.raises(RenderzipError) as caught:
        parse_event(load(EVENTS / "malformed" / name), allowlist=ALLOWLIST)
    error = caught.value
    assert (error.code, getattr(error, "field", None)) == (EXPECTED[name]["code"], EXPECTED[name]["field"])
    assert not error.retryable
    assert "X-Amz-Signature" not in str(error)


@pytest.mark.parametrize("path", sorted((EVENTS / "valid").glob("*.json")), ids=lambda path: path.stem)
def test_valid_sample_parses(path: Path) -> None:
    event = parse_event(load(path), allowlist=ALLOWLIST)
    assert isinstance(event, PlanEvent | RenderChunkEvent | AssembleEvent)


def test_plan_event_fields_and_config() -> None:
    event = parse_event(load(EVENTS / "valid" / "plan.json"), allowlist=ALLOWLIST)
    assert isinstance(event, PlanEvent)
    assert str(event.project_uri) == "s3://renderzip-test/projects/intro.tar.gz"
    assert str(event.output_prefix) == "s3://renderzip-test/renders"
    assert event.config == RenderConfig(chunks=8, capture="jpeg", jpeg_quality=85, crf=20, preset="fast")
    assert str(event.plan_uri(PLAN_HASH)) == f"s3://renderzip-test/renders/{PLAN_HASH}/plan.tar.gz"


def test_plan_without_config_takes_the_defaults() -> None:
    event = parse_event(load(EVENTS / "valid" / "plan_without_config.json"), allowlist=ALLOWLIST)
    assert isinstance(event, PlanEvent)
    assert event.config == RenderConfig()
    assert event.config.to_json() == {
        "Capture": "jpeg",
        "Format": "mp4",
        "Codec": "h264",
        "JpegQuality": 90,
        "Crf": 18,
        "Preset": "veryfast",
    }


def test_render_chunk_writes_beside_the_plan() -> None:
    event = parse_event(load(EVENTS / "valid" / "render_chunk.json"), allowlist=ALLOWLIST)
    assert isinstance(event, RenderChunkEvent)
    assert (event.chunk_index, event.plan_hash) == (3, PLAN_HASH)
    assert str(event.chunk_uri) == f"s3://renderzip-test/renders/{PLAN_HASH}/chunks/0003.mp4"


def test_assemble_accepts_what_render_chunk_returns() -> None:
    chunk_event = parse_event(load(EVENTS / "valid" / "render_chunk.json"), allowlist=ALLOWLIST)
    assert isinstance(chunk_event, RenderChunkEvent)
    results = []
    for index in range(5):
        event = RenderChunkEvent(chunk_event.plan_uri, chunk_event.plan_hash, index, chunk_event.output_prefix)
        result = ChunkOutput.for_event(event, sha256=f"{index:064x}", frames=30, duration_ms=1000)
        results.append({"Payload": result.to_json(), "StatusCode": 200})
    raw = {
        "Action": "assemble",
        "PlanUri": str(chunk_event.plan_uri),
        "PlanHash": PLAN_HASH,
        "ChunkUris": results,
        "OutputUri": "s3://renderzip-test/videos/out.mp4",
    }
    assemble = parse_event(raw, allowlist=ALLOWLIST)
    assert isinstance(assemble, AssembleEvent)
    assert [str(uri) for uri in assemble.chunk_uris] == [
        f"s3://renderzip-test/renders/{PLAN_HASH}/chunks/{index:04d}.mp4" for index in range(5)
    ]
    assert assemble.chunk_sha256 == tuple(f"{index:064x}" for index in range(5))


def test_assemble_from_step_functions_map_output() -> None:
    event = parse_event(load(EVENTS / "valid" / "assemble_from_map_results.json"), allowlist=ALLOWLIST)
    assert isinstance(event, AssembleEvent)
    assert [uri.name for uri in event.chunk_uris] == ["0000.mp4", "0001.mp4"]
    assert event.chunk_sha256 == ("ab" * 32, "cd" * 32)


def test_envelopes_unwrap_to_depth_four_and_no_further() -> None:
    inner = {"Action": "plan"}
    wrapped: object = inner
    for depth in range(1, 6):
        wrapped = {"Payload" if depth % 2 else "Input": wrapped, "StatusCode": 200}
        if depth <= 4:
            assert unwrap(wrapped) is inner
        else:
            with pytest.raises(InvalidEvent, match="deeper than 4"):
                unwrap(wrapped)


@given(
    st.lists(st.sampled_from(["Payload", "Input"]), max_size=4),
    st.dictionaries(st.sampled_from(["StatusCode", "ExecutedVersion"]), st.integers()),
)
def test_unwrap_ignores_envelope_metadata(keys: list[str], metadata: dict[str, int]) -> None:
    event = {"Action": "renderChunk", "PlanHash": PLAN_HASH}
    wrapped: object = event
    for key in keys:
        wrapped = {key: wrapped, **metadata}
    assert unwrap(wrapped) == event


def test_an_object_with_action_is_never_an_envelope() -> None:
    raw = {"Action": "plan", "Payload": {"Action": "assemble"}, "ProjectUri": "s3://renderzip-test/p.tar.gz"}
    with pytest.raises(InvalidEvent) as caught:
        parse_event(raw | {"OutputPrefix": "s3://renderzip-test/out"}, allowlist=ALLOWLIST)
    assert caught.value.field == "Payload"


def test_error_lists_every_missing_field() -> None:
    with pytest.raises(InvalidEvent) as caught:
        parse_event({"Action": "assemble"}, allowlist=None)
    assert caught.value.field == "PlanUri"
    assert str(caught.value) == ("PlanUri: required; also PlanHash: required, ChunkUris: required, OutputUri: required")


def test_allowlist_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = load(EVENTS / "valid" / "plan.json")
    monkeypatch.setenv("RENDERZIP_BUCKET_ALLOWLIST", "another-bucket")
    with pytest.raises(BucketNotAllowed) as caught:
        parse_event(raw)
    assert (caught.value.field, caught.value.bucket) == ("ProjectUri", "renderzip-test")
    monkeypatch.delenv("RENDERZIP_BUCKET_ALLOWLIST")
    assert isinstance(parse_event(raw), PlanEvent)


# --- results and their sizes ---------------------------------------------------------


def longest_prefix(bucket: str, room: int) -> str:
    """An s3:// prefix whose key leaves exactly ``room`` bytes, mixing multi-byte characters in."""
    size = S3_MAX_KEY_BYTES - room
    key = ("é" * (size // 4)).ljust(size - (size // 4), "p")
    assert len(key.encode()) == size
    return f"s3://{bucket}/{key}"


def test_chunk_result_stays_under_200_bytes_with_the_longest_uris() -> None:
    bucket = "b" * 63
    plan_hash = "v1-" + "f" * 64
    chunk_dir = f"/{plan_hash}/chunks/0999.mp4"
    prefix = longest_prefix(bucket, len(chunk_dir.encode()))
    raw = {
        "Action": "renderChunk",
        "PlanUri": f"{prefix}/{plan_hash}/plan.tar.gz",
        "PlanHash": plan_hash,
        "ChunkIndex": MAX_CHUNKS - 1,
        "OutputPrefix": prefix,
    }
    event = parse_event(raw, allowlist=None)
    assert isinstance(event, RenderChunkEvent)
    assert len(event.chunk_uri.key.encode()) == S3_MAX_KEY_BYTES
    result = ChunkOutput.for_event(event, sha256="f" * 64, frames=10**8 - 1, duration_ms=10**10 - 1)
    encoded = json.dumps(result.to_json()).encode()
    print(f"longest chunk result: {len(encoded)} bytes")
    assert len(encoded) < MAX_CHUNK_RESULT_BYTES


def test_a_prefix_with_no_room_for_chunks_is_refused_up_front() -> None:
    bucket = "b" * 63
    raw = {
        "Action": "plan",
        "ProjectUri": f"s3://{bucket}/" + "p" * 1024,
        "OutputPrefix": f"s3://{bucket}/" + "p" * 1000,
    }
    with pytest.raises(InvalidUri) as caught:
        parse_event(raw, allowlist=None)
    assert caught.value.field == "OutputPrefix"


def test_other_results_and_the_largest_assemble_event_fit_step_functions() -> None:
    bucket = "b" * 63
    plan_hash = "v1-" + "f" * 64
    uri = parse_uri(f"s3://{bucket}/" + "k" * S3_MAX_KEY_BYTES)
    plan = PlanOutput(plan_hash, uri, MAX_CHUNKS, 10**8, FrameRate(60000, 1001), 3840, 2160, True, 10**10)
    assembled = AssembleOutput(uri, "f" * 64, 10**12, 10**8, 10**10)
    results = [
        ChunkOutput(index, f"chunks/{index:04d}.mp4", "f" * 64, 10**8 - 1, 10**10 - 1).to_json()
        for index in range(MAX_CHUNKS)
    ]
    prefix = longest_prefix(bucket, len(f"/{plan_hash}/chunks/0999.mp4"))
    assemble = {
        "Action": "assemble",
        "PlanUri": f"{prefix}/{plan_hash}/plan.tar.gz",
        "PlanHash": plan_hash,
        "ChunkUris": results,
        "OutputUri": str(uri),
    }
    assert isinstance(parse_event(assemble, allowlist=None), AssembleEvent)
    for payload in (plan.to_json(), assembled.to_json(), assemble):
        assert len(json.dumps(payload).encode()) < STEP_FUNCTIONS_PAYLOAD_LIMIT
    assert list(plan.to_json()) == [
        "PlanHash",
        "PlanUri",
        "ChunkCount",
        "TotalFrames",
        "Fps",
        "Width",
        "Height",
        "HasAudio",
        "DurationMs",
        "Pages",
    ]
    assert list(assembled.to_json()) == ["OutputUri", "FramesUri", "Sha256", "Bytes", "Frames", "DurationMs"]


def test_pages_pass_from_config_through_the_plan_to_each_chunk_event() -> None:
    from tooling.requests import chunk_event  # noqa: PLC0415

    plan_hash = "v1-" + "a" * 64
    plan = {"PlanUri": f"s3://bucket/renders/x/{plan_hash}/plan.tar.gz", "PlanHash": plan_hash, "Pages": 3}
    event = parse_event(chunk_event(plan, "s3://bucket/renders/x", 2), allowlist=None)
    assert isinstance(event, RenderChunkEvent)
    assert event.pages == 3
    assert (
        parse_event(
            {
                "Action": "plan",
                "ProjectUri": "s3://bucket/p.tar.gz",
                "OutputPrefix": "s3://bucket/r",
                "Config": {"Pages": 4},
            },
            allowlist=None,
        ).config.pages
        == 4
    )  # type: ignore[union-attr]
    with pytest.raises(InvalidEvent, match=r"Config\.Pages"):
        parse_event(
            {
                "Action": "plan",
                "ProjectUri": "s3://bucket/p.tar.gz",
                "OutputPrefix": "s3://bucket/r",
                "Config": {"Pages": 17},
            },
            allowlist=None,
        )


def _plan_config(config: object) -> object:
    return parse_event(
        {"Action": "plan", "ProjectUri": "s3://bucket/p.tar.gz", "OutputPrefix": "s3://bucket/r", "Config": config},
        allowlist=None,
    )


def test_variables_are_kept_in_one_canonical_form_whatever_the_key_order() -> None:
    first = _plan_config({"Variables": {"b": [1, 2], "a": {"z": "é", "y": None}}})
    second = _plan_config({"Variables": {"a": {"y": None, "z": "é"}, "b": [1, 2]}})
    assert isinstance(first, PlanEvent) and isinstance(second, PlanEvent)
    assert first.config.variables == second.config.variables == '{"a":{"y":null,"z":"é"},"b":[1,2]}'
    assert first.config.plan_request().variables == first.config.variables
    assert first.config.to_json()["Variables"] == {"a": {"y": None, "z": "é"}, "b": [1, 2]}
    assert "Variables" not in RenderConfig().to_json()


@pytest.mark.parametrize(
    ("variables", "problem"),
    [
        ([1, 2], "must be a JSON object, not list"),
        ("text", "must be a JSON object, not str"),
        ({"big": "x" * (64 * 1024)}, "bytes as JSON; at most 65536 are allowed"),
    ],
)
def test_variables_that_are_not_a_small_json_object_are_refused(variables: object, problem: str) -> None:
    with pytest.raises(InvalidEvent) as raised:
        _plan_config({"Variables": variables})
    assert raised.value.field == "Config.Variables"
    assert problem in raised.value.problem


def test_fps_in_config_is_an_exact_rate_and_a_bad_one_names_the_field() -> None:
    event = _plan_config({"Fps": "29.97"})
    assert isinstance(event, PlanEvent)
    assert event.config.fps == FrameRate(30000, 1001)
    assert event.config.plan_request().fps == FrameRate(30000, 1001)
    assert event.config.to_json()["Fps"] == "30000/1001"
    with pytest.raises(InvalidEvent) as raised:
        _plan_config({"Fps": 0})
    assert raised.value.field == "Config.Fps" and "not positive" in raised.value.problem


def test_the_old_spelling_of_the_capture_image_says_where_it_went() -> None:
    with pytest.raises(InvalidEvent) as raised:
        _plan_config({"Format": "png"})
    assert raised.value.field == "Config.Format"
    assert "the capture image is Config.Capture now" in raised.value.problem


def test_codec_h265_reaches_the_encoder_settings_and_an_unknown_one_names_the_field() -> None:
    event = _plan_config({"Codec": "h265", "Capture": "png"})
    assert isinstance(event, PlanEvent)
    assert event.config.plan_request().encoder.codec == "libx265"
    assert event.config.plan_request().encoder.capture_format == "png"
    with pytest.raises(InvalidEvent) as raised:
        _plan_config({"Codec": "vp9"})
    assert raised.value.field == "Config.Codec"
