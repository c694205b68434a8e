"""The three events the function accepts, parsed once into frozen dataclasses, and its results.

Envelopes. Step Functions and Lambda wrap a payload as ``{"Payload": {...}}`` or
``{"Input": {...}}``, often beside metadata keys (``StatusCode``,
``ExecutedVersion``, ``SdkHttpMetadata``...). A JSON object is an envelope when
it has no ``Action`` key and exactly one of ``Payload`` or ``Input``; its other
keys are ignored. Up to `MAX_ENVELOPE_DEPTH` envelopes are unwrapped; a deeper
one, or one holding both keys, is an `InvalidEvent`.

Field names in errors are the event's own (``ChunkIndex``, ``Config.Crf``,
``ChunkUris[3]``), whatever envelopes surrounded it.

Chunk results stay small. A chunk is written to ``chunks/NNNN.mp4`` beside the
plan (``<OutputPrefix>/<PlanHash>/``), and its result names it by that relative
reference, never by the full URI, so it stays under `MAX_CHUNK_RESULT_BYTES`
however long the prefix is. A renderChunk event must therefore carry the
``OutputPrefix`` the plan was written under. ``ChunkUris`` in an assemble event
accepts each item as a relative reference, an absolute URI, or a renderChunk
result as it was returned (envelope included); references are resolved
against the plan's directory.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from handler.edge.chunkrefs import chunk_location, chunk_ref, resolve_chunk_ref
from handler.edge.uris import S3_MAX_KEY_BYTES, Allowlist, AllowlistArg, Uri, check_allowed, parse_prefix, parse_uri
from handler.errors import InvalidEvent, InvalidUri
from handler.render import settings
from handler.render.settings import CaptureFormat, EncoderSettings, FrameRate, PlanRequest

PLAN_HASH_PATTERN = re.compile(r"[a-z0-9]{1,16}-[0-9a-f]{64}")
"""``<version>-<64 hex>``: the version tag is the render engine's ``PLAN_HASH_PREFIX``."""
SHA256_PATTERN = re.compile(r"[0-9a-f]{64}")
MAX_ENVELOPE_DEPTH = 4
MAX_CHUNKS = 1000
"""Most chunks one render may have: 1000 chunk results fit one Step Functions payload (256 KiB)."""
MAX_CHUNK_RESULT_BYTES = 200
ENVELOPE_KEYS = ("Payload", "Input")
ACTIONS = ("plan", "renderChunk", "assemble")
_LONGEST_PLAN_DIR = "/" + "x" * 81  # "/" and the longest PlanHash (16 + 1 + 64 characters)

Json = dict[str, object]
T = TypeVar("T")


# --- events ---------------------------------------------------------------------


@dataclass(frozen=True)
class RenderConfig:
    """Encoder and chunking settings; ``chunks`` and ``frames_per_chunk`` None leave it to the engine."""

    chunks: int | None = None
    frames_per_chunk: int | None = None
    capture: CaptureFormat = settings.DEFAULT_CAPTURE_FORMAT
    """``Config.Capture``: the image each frame is captured as (``jpeg`` or ``png``)."""
    format: str = settings.DEFAULT_OUTPUT_FORMAT
    """``Config.Format``: the output container."""
    codec: str = settings.DEFAULT_CODEC
    """``Config.Codec``: the video codec inside it (``h264`` or ``h265``)."""
    jpeg_quality: int = settings.DEFAULT_JPEG_QUALITY
    crf: int = settings.DEFAULT_CRF
    preset: str = settings.DEFAULT_PRESET
    pages: int = 0
    """Browsers capturing each chunk at once; 0: one per usable core. The bytes do not depend on it."""
    fps: FrameRate | None = None
    """``Config.Fps``: the frame rate, over the root's ``data-fps``."""
    variables: str = "{}"
    """``Config.Variables`` in canonical JSON: what ``window.__hyperframes.getVariables()`` returns."""

    def to_json(self) -> Json:
        out: Json = {
            "Chunks": self.chunks,
            "FramesPerChunk": self.frames_per_chunk,
            "Capture": self.capture,
            "Format": self.format,
            "Codec": self.codec,
            "JpegQuality": self.jpeg_quality if self.capture == "jpeg" else None,
            "Crf": self.crf,
            "Preset": self.preset,
            "Pages": self.pages or None,
            "Fps": self.fps.to_json() if self.fps is not None else None,
            "Variables": json.loads(self.variables) if self.variables != "{}" else None,
        }
        return {key: value for key, value in out.items() if value is not None}

    def plan_request(self) -> PlanRequest:
        """The engine's side of this config: encoder settings and the chunk cut, without the wire names."""
        encoder = EncoderSettings.for_output(
            self.format,
            self.codec,
            capture_format=self.capture,
            jpeg_quality=self.jpeg_quality,
            crf=self.crf,
            preset=self.preset,
        )
        return PlanRequest(
            encoder=encoder,
            chunks=self.chunks,
            frames_per_chunk=self.frames_per_chunk,
            fps=self.fps,
            variables=self.variables,
        )


@dataclass(frozen=True)
class PlanEvent:
    project_uri: Uri
    output_prefix: Uri
    config: RenderConfig

    def plan_uri(self, plan_hash: str) -> Uri:
        """Where the plan for ``plan_hash`` is written: ``<OutputPrefix>/<PlanHash>/plan.tar.gz``."""
        return self.output_prefix.child(f"{plan_hash}/plan.tar.gz")


@dataclass(frozen=True)
class RenderChunkEvent:
    plan_uri: Uri
    plan_hash: str
    chunk_index: int
    output_prefix: Uri
    pages: int = 0

    @property
    def chunk_uri(self) -> Uri:
        """Where this chunk is written: ``chunks/NNNN.mp4`` beside the plan."""
        return chunk_location(self.plan_uri, self.chunk_index)


@dataclass(frozen=True)
class AssembleEvent:
    plan_uri: Uri
    plan_hash: str
    chunk_uris: tuple[Uri, ...]
    """Absolute, in chunk order, references already resolved against the plan's directory."""
    chunk_sha256: tuple[str | None, ...]
    """The sha256 each chunk's result reported, when the item was a whole result."""
    output_uri: Uri


Event = PlanEvent | RenderChunkEvent | AssembleEvent


# --- results --------------------------------------------------------------------


@dataclass(frozen=True)
class PlanOutput:
    plan_hash: str
    plan_uri: Uri
    chunk_count: int
    total_frames: int
    fps: FrameRate
    width: int
    height: int
    has_audio: bool
    duration_ms: int
    """The video's duration."""
    pages: int = 0
    """Config.Pages, handed on to every renderChunk event."""

    def to_json(self) -> Json:
        return {
            "PlanHash": self.plan_hash,
            "PlanUri": str(self.plan_uri),
            "ChunkCount": self.chunk_count,
            "TotalFrames": self.total_frames,
            "Fps": self.fps.to_json(),
            "Width": self.width,
            "Height": self.height,
            "HasAudio": self.has_audio,
            "DurationMs": self.duration_ms,
            "Pages": self.pages,
        }


@dataclass(frozen=True)
class ChunkOutput:
    chunk_index: int
    chunk_uri: str
    """A reference relative to the plan's directory (``chunks/0003.mp4``), see `chunk_ref`."""
    sha256: str
    frames: int
    duration_ms: int
    """The chunk's video duration."""

    @classmethod
    def for_event(cls, event: RenderChunkEvent, *, sha256: str, frames: int, duration_ms: int) -> ChunkOutput:
        ref = chunk_ref(event.plan_uri, event.chunk_uri)
        return cls(event.chunk_index, ref, sha256, frames, duration_ms)

    def to_json(self) -> Json:
        return {
            "ChunkIndex": self.chunk_index,
            "ChunkUri": self.chunk_uri,
            "Sha256": self.sha256,
            "Frames": self.frames,
            "DurationMs": self.duration_ms,
        }


@dataclass(frozen=True)
class AssembleOutput:
    output_uri: Uri
    sha256: str
    bytes: int
    frames: int
    duration_ms: int
    frames_uri: str = ""
    """The frame-hash manifest: ``OutputUri`` + ``.frames.json``."""
    warnings: tuple[str, ...] = ()
    """What the output could not carry (sound in a GIF); an empty list is left out."""

    def to_json(self) -> Json:
        return {
            "OutputUri": str(self.output_uri),
            "FramesUri": self.frames_uri,
            "Sha256": self.sha256,
            "Bytes": self.bytes,
            "Frames": self.frames,
            "DurationMs": self.duration_ms,
            **({"Warnings": list(self.warnings)} if self.warnings else {}),
        }


# --- parsing --------------------------------------------------------------------


def parse_event(raw: object, *, allowlist: AllowlistArg = "env") -> Event:
    """The typed event in ``raw``, or `InvalidEvent`, `InvalidUri` or `BucketNotAllowed`.

    ``allowlist`` defaults to ``RENDERZIP_BUCKET_ALLOWLIST``; None allows every bucket.
    """
    allowed = Allowlist.from_env() if allowlist == "env" else allowlist
    body = _as_object(unwrap(raw), "event")
    action = body.get("Action")
    if action is None:
        raise InvalidEvent("Action", f"required; one of {', '.join(ACTIONS)}")
    if not isinstance(action, str):
        raise InvalidEvent("Action", f"must be a string, got {_kind(action)}")
    if action == "plan":
        _check_keys(body, required=("ProjectUri", "OutputPrefix"), optional=("Config",))
        project = _uri(body, "ProjectUri", parse_uri, allowed)
        prefix = _uri(body, "OutputPrefix", parse_prefix, allowed)
        _check_room_for_chunks(prefix)
        return PlanEvent(project, prefix, _config(body.get("Config", {})))
    if action == "renderChunk":
        _check_keys(body, required=("PlanUri", "PlanHash", "ChunkIndex", "OutputPrefix"), optional=("Pages",))
        plan_uri = _uri(body, "PlanUri", parse_uri, allowed)
        plan_hash = _plan_hash(body["PlanHash"])
        index = _int(body["ChunkIndex"], "ChunkIndex", 0, MAX_CHUNKS - 1)
        prefix = _uri(body, "OutputPrefix", parse_prefix, allowed)
        if _plan_dir(prefix, plan_hash) != plan_uri.parent():
            raise InvalidEvent(
                "OutputPrefix",
                f"must be the prefix the plan was written under: PlanUri is not in {prefix}/{plan_hash}/",
            )
        pages = _int(body.get("Pages", 0), "Pages", *settings.PAGES_RANGE)
        event = RenderChunkEvent(plan_uri, plan_hash, index, prefix, pages)
        _field("OutputPrefix", lambda: event.chunk_uri)
        return event
    if action == "assemble":
        _check_keys(body, required=("PlanUri", "PlanHash", "ChunkUris", "OutputUri"))
        plan_uri = _uri(body, "PlanUri", parse_uri, allowed)
        plan_hash = _plan_hash(body["PlanHash"])
        uris, digests = _chunk_list(body["ChunkUris"], plan_uri, allowed)
        output = _uri(body, "OutputUri", parse_uri, allowed)
        return AssembleEvent(plan_uri, plan_hash, uris, digests, output)
    raise InvalidEvent("Action", f"unknown action {action[:40]!r}; expected one of {', '.join(ACTIONS)}")


def unwrap(raw: object, *, where: str = "") -> object:
    """``raw`` with up to `MAX_ENVELOPE_DEPTH` ``Payload``/``Input`` envelopes removed."""
    path: list[str] = [where] if where else []
    depth = 0
    while isinstance(raw, dict) and "Action" not in raw:
        keys = [key for key in ENVELOPE_KEYS if key in raw]
        if not keys:
            break
        if len(keys) > 1:
            raise InvalidEvent(".".join(path) or "event", "an envelope holds Payload or Input, not both")
        if depth == MAX_ENVELOPE_DEPTH:
            raise InvalidEvent(".".join(path), f"envelopes nest deeper than {MAX_ENVELOPE_DEPTH}")
        path.append(keys[0])
        raw = raw[keys[0]]
        depth += 1
    return raw


def _as_object(raw: object, field: str) -> Mapping[str, object]:
    if not isinstance(raw, dict):
        raise InvalidEvent(field, f"must be a JSON object, got {_kind(raw)}")
    return raw


def _check_keys(body: Mapping[str, object], *, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> None:
    """Every missing and every extra key, raised at once (the first names the error's field)."""
    problems = [(key, "required") for key in required if key not in body]
    known = {"Action", *required, *optional}
    problems += [(str(key), "unexpected field") for key in sorted(body, key=str) if key not in known]
    if problems:
        (field, problem), rest = problems[0], problems[1:]
        also = "; also " + ", ".join(f"{key}: {what}" for key, what in rest) if rest else ""
        raise InvalidEvent(field, problem + also)


def _field(name: str, parse: Callable[[], T]) -> T:
    """Run ``parse``; an `InvalidUri` it raises names the field ``name``."""
    try:
        return parse()
    except InvalidUri as exc:
        raise InvalidUri(exc.uri, exc.problem, exc.field or name) from None


def _uri(body: Mapping[str, object], key: str, parse: Callable[..., Uri], allowed: Allowlist | None) -> Uri:
    uri = parse(body[key], field=key)
    check_allowed(uri, allowed, field=key)
    return uri


def _check_room_for_chunks(prefix: Uri) -> None:
    """Chunks live deepest under the prefix: ``<prefix>/<PlanHash>/chunks/NNNN.mp4`` must fit S3's key limit."""
    if prefix.scheme != "s3":
        return
    room = len(prefix.key.encode("utf-8")) + len(_LONGEST_PLAN_DIR) + len("/chunks/0000.mp4")
    if room > S3_MAX_KEY_BYTES:
        raise InvalidUri(
            str(prefix), f"the prefix leaves no room for chunk keys ({room} > {S3_MAX_KEY_BYTES} bytes)", "OutputPrefix"
        )


def _plan_dir(prefix: Uri, plan_hash: str) -> Uri:
    return _field("OutputPrefix", lambda: prefix.child(plan_hash))


def _plan_hash(value: object, field: str = "PlanHash") -> str:
    text = _str(value, field)
    if not PLAN_HASH_PATTERN.fullmatch(text):
        raise InvalidEvent(field, f"must look like v1-<64 lowercase hex digits>, got {text[:100]!r}")
    return text


def _str(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise InvalidEvent(field, f"must be a string, got {_kind(value)}")
    return value


def _int(value: object, field: str, low: int, high: int | None = None) -> int:
    if type(value) is not int:
        raise InvalidEvent(field, f"must be an integer, got {_kind(value)}")
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise InvalidEvent(field, f"must be {bound}, got {value}")
    return value


def _choice(value: object, field: str, choices: tuple[str, ...]) -> str:
    text = _str(value, field)
    if text not in choices:
        raise InvalidEvent(field, f"must be one of {', '.join(choices)}, got {text[:40]!r}")
    return text


def _config(raw: object) -> RenderConfig:
    body = _as_object(raw, "Config")
    known = (
        "Chunks",
        "FramesPerChunk",
        "Capture",
        "Format",
        "Codec",
        "JpegQuality",
        "Crf",
        "Preset",
        "Pages",
        "Fps",
        "Variables",
    )
    extra = sorted(str(key) for key in body if key not in known)
    if extra:
        also = f"; also {', '.join(extra[1:])}" if len(extra) > 1 else ""
        raise InvalidEvent(f"Config.{extra[0]}", "unexpected field" + also)
    if "Chunks" in body and "FramesPerChunk" in body:
        raise InvalidEvent("Config.FramesPerChunk", "give Chunks or FramesPerChunk, not both")
    defaults = RenderConfig()
    if body.get("Format") in settings.CAPTURE_FORMATS:
        # The field was renamed when Format came to mean the output: say so rather than "not mp4".
        raise InvalidEvent(
            "Config.Format",
            f"{body['Format']} is a capture image, not an output format: the capture image is Config.Capture "
            f"now, and Config.Format is the output ({', '.join(settings.OUTPUT_FORMATS)})",
        )
    fmt = _choice(body.get("Capture", defaults.capture), "Config.Capture", settings.CAPTURE_FORMATS)
    if "JpegQuality" in body and fmt != "jpeg":
        raise InvalidEvent("Config.JpegQuality", "applies only to Capture jpeg")
    output = _choice(body.get("Format", defaults.format), "Config.Format", settings.OUTPUT_FORMATS)
    if output != "mp4" and "Codec" in body:
        raise InvalidEvent("Config.Codec", f"applies only to Format mp4; {output} has no codec to choose")
    return RenderConfig(
        chunks=_int(body["Chunks"], "Config.Chunks", 1, MAX_CHUNKS) if "Chunks" in body else None,
        frames_per_chunk=_int(body["FramesPerChunk"], "Config.FramesPerChunk", 1) if "FramesPerChunk" in body else None,
        capture="png" if fmt == "png" else "jpeg",
        format=output,
        codec=_choice(body.get("Codec", defaults.codec), "Config.Codec", tuple(settings.CODECS_BY_NAME)),
        jpeg_quality=_int(
            body.get("JpegQuality", defaults.jpeg_quality), "Config.JpegQuality", *settings.JPEG_QUALITY_RANGE
        ),
        crf=_int(body.get("Crf", defaults.crf), "Config.Crf", *settings.CRF_RANGE),
        preset=_choice(body.get("Preset", defaults.preset), "Config.Preset", settings.X264_PRESETS),
        pages=_int(body.get("Pages", 0), "Config.Pages", *settings.PAGES_RANGE),
        fps=_frame_rate(body["Fps"]) if "Fps" in body else None,
        variables=_variables(body.get("Variables", {})),
    )


def _frame_rate(value: object) -> FrameRate:
    try:
        return FrameRate.parse(value)
    except ValueError as error:
        raise InvalidEvent("Config.Fps", str(error)) from None


def _variables(value: object) -> str:
    try:
        return settings.canonical_variables(value)
    except ValueError as error:
        raise InvalidEvent("Config.Variables", str(error)) from None


def _chunk_list(
    raw: object, plan_uri: Uri, allowed: Allowlist | None
) -> tuple[tuple[Uri, ...], tuple[str | None, ...]]:
    if not isinstance(raw, list):
        raise InvalidEvent("ChunkUris", f"must be a list, got {_kind(raw)}")
    if not 1 <= len(raw) <= MAX_CHUNKS:
        raise InvalidEvent("ChunkUris", f"must hold 1 to {MAX_CHUNKS} chunks, got {len(raw)}")
    uris: list[Uri] = []
    digests: list[str | None] = []
    for index, item in enumerate(raw):
        field = f"ChunkUris[{index}]"
        ref, digest = _chunk_item(unwrap(item, where=field), field, index)
        try:
            uri = resolve_chunk_ref(plan_uri, ref)
        except InvalidUri as exc:
            raise InvalidUri(exc.uri, exc.problem, field) from None
        check_allowed(uri, allowed, field=field)
        if uri in uris:
            raise InvalidEvent(field, f"repeats chunk {uris.index(uri)}")
        uris.append(uri)
        digests.append(digest)
    return tuple(uris), tuple(digests)


def _chunk_item(item: object, field: str, index: int) -> tuple[str, str | None]:
    """A chunk reference and its sha256 from a string or a whole renderChunk result."""
    if isinstance(item, str):
        return item, None
    if not isinstance(item, dict):
        raise InvalidEvent(field, f"must be a URI or a renderChunk result, got {_kind(item)}")
    known = ("ChunkIndex", "ChunkUri", "Sha256", "Frames", "DurationMs")
    for key in ("ChunkIndex", "ChunkUri", "Sha256"):
        if key not in item:
            raise InvalidEvent(f"{field}.{key}", "required")
    for key in sorted(item):
        if key not in known:
            raise InvalidEvent(f"{field}.{key}", "unexpected field")
    if _int(item["ChunkIndex"], f"{field}.ChunkIndex", 0) != index:
        raise InvalidEvent(f"{field}.ChunkIndex", f"must be {index}: chunks are listed in index order")
    digest = _str(item["Sha256"], f"{field}.Sha256")
    if not SHA256_PATTERN.fullmatch(digest):
        raise InvalidEvent(f"{field}.Sha256", "must be 64 lowercase hex digits")
    for key in ("Frames", "DurationMs"):
        if key in item:
            _int(item[key], f"{field}.{key}", 0)
    return _str(item["ChunkUri"], f"{field}.ChunkUri"), digest


def _kind(value: object) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer", float: "number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)
