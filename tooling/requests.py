"""The raw events a caller sends: one builder per action, for every runner that drives the handler.

The local runner, the regression driver and the tests build the same JSON that Step
Functions sends, from a plan's result, so the shape is written down once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def plan_config(chunks: int | None, frames_per_chunk: int | None, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """A plan's ``Config``: the chunking asked for on top of the other settings."""
    config = dict(overrides)
    if chunks is not None:
        config["Chunks"] = chunks
    if frames_per_chunk is not None:
        config["FramesPerChunk"] = frames_per_chunk
    return config


def plan_event(project_uri: str, output_prefix: str, config: Mapping[str, Any]) -> dict[str, Any]:
    return {"Action": "plan", "ProjectUri": project_uri, "OutputPrefix": output_prefix, "Config": dict(config)}


def chunk_event(plan: Mapping[str, Any], output_prefix: str, index: int) -> dict[str, Any]:
    """``plan`` is the plan action's result."""
    return {
        "Action": "renderChunk",
        "PlanUri": plan["PlanUri"],
        "PlanHash": plan["PlanHash"],
        "ChunkIndex": index,
        "OutputPrefix": output_prefix,
        "Pages": int(plan.get("Pages", 0)),
    }


def assemble_event(plan: Mapping[str, Any], chunks: Sequence[object], output_uri: str) -> dict[str, Any]:
    """``chunks``: chunk URIs, or the chunk results themselves (their URI and sha256 are checked)."""
    return {
        "Action": "assemble",
        "PlanUri": plan["PlanUri"],
        "PlanHash": plan["PlanHash"],
        "ChunkUris": list(chunks),
        "OutputUri": output_uri,
    }
