from __future__ import annotations

from pathlib import Path

import pytest

from handler.errors import InvalidComposition
from handler.render.composition import read_composition, total_frames
from handler.render.settings import FrameRate


def _project(tmp_path: Path, body: str, files: dict[str, bytes] | None = None) -> Path:
    (tmp_path / "index.html").write_text(f"<!doctype html><html><body>{body}</body></html>", encoding="utf-8")
    for name, data in (files or {}).items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    return tmp_path


def test_reads_root_attributes_with_default_fps(tmp_path: Path) -> None:
    spec = read_composition(
        _project(tmp_path, '<div id="r" data-width="640" data-height="360" data-duration="2"></div>')
    )
    assert (spec.width, spec.height, spec.fps, spec.duration, spec.audio) == (640, 360, FrameRate(30), 2.0, ())


def test_composition_id_root_wins_over_other_sized_elements(tmp_path: Path) -> None:
    body = (
        '<div data-width="2" data-height="2"></div>'
        '<main data-composition-id="x" data-width="1280" data-height="720" data-duration="3" data-fps="25"></main>'
    )
    spec = read_composition(_project(tmp_path, body))
    assert (spec.width, spec.height, spec.fps) == (1280, 720, FrameRate(25))


def test_audio_elements_resolve_inside_the_project(tmp_path: Path) -> None:
    body = (
        '<div data-width="64" data-height="64" data-duration="2"></div>'
        '<audio src="sound/a.wav" data-start="1.0" data-duration="0.5" data-volume="0.5"'
        ' data-media-start="0.25"></audio>'
    )
    spec = read_composition(_project(tmp_path, body, {"sound/a.wav": b"RIFF"}))
    (clip,) = spec.audio
    assert clip.src == (tmp_path / "sound/a.wav").resolve()
    assert (clip.start, clip.duration, clip.volume, clip.media_start) == (1.0, 0.5, 0.5, 0.25)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("<div></div>", "no root element"),
        ('<div data-width="641" data-height="360" data-duration="1"></div>', "must be even"),
        ('<div data-width="abc" data-height="360"></div>', "not a number"),
        ('<div data-width="64" data-height="64" data-fps="0"></div>', "data-fps"),
        ('<div data-width="64" data-height="64" data-duration="-1"></div>', "data-duration"),
        (
            '<div data-width="64" data-height="64"></div><audio src="http://example.invalid/a.mp3"></audio>',
            "not a path inside",
        ),
        ('<div data-width="64" data-height="64"></div><audio src="../outside.wav"></audio>', "outside the composition"),
        ('<div data-width="64" data-height="64"></div><audio src="missing.wav"></audio>', "does not exist"),
    ],
)
def test_contract_violations_are_named(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(InvalidComposition, match=message):
        read_composition(_project(tmp_path, body))


def test_missing_index_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidComposition, match=r"no index\.html"):
        read_composition(tmp_path)


@pytest.mark.parametrize(
    ("duration", "fps", "frames"), [(2.0, 30, 60), (0.1, 30, 3), (1 / 3, 30, 10), (2.01, 30, 61), (0.001, 30, 1)]
)
def test_total_frames_covers_the_duration(duration: float, fps: int, frames: int) -> None:
    assert total_frames(duration, FrameRate(fps)) == frames
