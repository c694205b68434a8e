"""Google Fonts references render from the locked @fontsource files, and never reach Google."""

from __future__ import annotations

from pathlib import Path

import pytest

from bundler.fonts import FontNotLocked
from handler.render.runtime import Runtime
from runner import local
from tooling import media

pytestmark = pytest.mark.chrome

IMPORT = '@import url("https://fonts.googleapis.com/css2?family={family}:wght@400;700&display=swap");'


def _composition(tmp_path: Path, name: str, head: str, family: str) -> Path:
    project = tmp_path / name
    project.mkdir(parents=True)
    (project / "index.html").write_text(
        "<!doctype html><html><head><style>"
        f"{head} body {{ margin: 0; }} #t {{ font: 700 40px {family}; color: #000; }}"
        '</style></head><body><div id="root" data-width="320" data-height="64" data-duration="0.1"'
        ' style="background: #fff"><div id="t">Hamburgefonstiv</div></div></body></html>',
        encoding="utf-8",
    )
    return project


def _first_frame(runtime: Runtime, project: Path, tmp_path: Path) -> bytes:
    result = local.render(project, tmp_path / f"{project.name}.mp4", chunks=1, config={"Capture": "png", "Crf": 0})
    return next(iter(media.decode_frames(runtime.ffmpeg, result.output, width=320, height=64)))


def test_a_google_fonts_import_renders_with_the_locked_inter(runtime: Runtime, tmp_path: Path) -> None:
    inter = _first_frame(runtime, _composition(tmp_path, "inter", IMPORT.format(family="Inter"), "Inter"), tmp_path)
    fallback = _first_frame(runtime, _composition(tmp_path, "fallback", "", "sans-serif"), tmp_path)
    # The same text in bold Inter and in the bundled fallback face: the glyphs differ.
    assert inter != fallback
    assert sum(1 for value in inter if value < 128) > 500  # text was drawn, not a blank frame
    again = _first_frame(
        runtime, _composition(tmp_path / "again", "inter", IMPORT.format(family="Inter"), "Inter"), tmp_path
    )
    assert again == inter


def test_a_family_that_is_not_locked_is_one_error_with_the_command_that_locks_it(tmp_path: Path) -> None:
    project = _composition(tmp_path, "lobster", IMPORT.format(family="Lobster"), "Lobster")
    with pytest.raises(FontNotLocked) as raised:
        local.render(project, tmp_path / "out.mp4", chunks=1)
    assert "'Lobster' is not in lockfiles/fonts.toml" in str(raised.value)
    assert 'nox -s lock -- --only fonts --font "Lobster"' in raised.value.hint
    assert not (tmp_path / "out.mp4").exists()
