"""Where chunks live and how results name them: short references relative to the plan's directory.

A plan at ``<OutputPrefix>/<PlanHash>/plan.tar.gz`` has its chunks at
``<OutputPrefix>/<PlanHash>/chunks/NNNN.mp4``. A renderChunk result names its
chunk ``chunks/NNNN.mp4``, which keeps the result small however long the
prefix is; assemble resolves the reference against the plan's directory. An
absolute ``s3://`` or ``file://`` URI is accepted wherever a reference is.
"""

from __future__ import annotations

from handler.edge.uris import Uri, parse_uri

CHUNKS_DIR = "chunks"


def chunk_name(index: int) -> str:
    """``chunks/0003.mp4``: the chunk's path relative to the plan's directory."""
    return f"{CHUNKS_DIR}/{index:04d}.mp4"


def chunk_location(plan_uri: Uri, index: int) -> Uri:
    """The URI chunk ``index`` of the plan at ``plan_uri`` is written to."""
    return plan_uri.parent().child(chunk_name(index))


def chunk_ref(plan_uri: Uri, chunk_uri: Uri) -> str:
    """``chunk_uri`` relative to the plan's directory, or in full when it lies elsewhere."""
    return chunk_uri.relative_to(plan_uri.parent()) or str(chunk_uri)


def resolve_chunk_ref(plan_uri: Uri, ref: str) -> Uri:
    """The absolute URI of a reference `chunk_ref` made (or of an absolute URI); `InvalidUri` if malformed."""
    if "://" in ref:
        return parse_uri(ref)
    return plan_uri.parent().child(ref)
