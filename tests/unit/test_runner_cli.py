"""``python -m runner``: argument checks that need neither Chrome nor AWS."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.__main__ import main


def test_region_without_remote_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", str(tmp_path), "-o", str(tmp_path / "out.mp4"), "--region", "eu-west-1"]) == 2
    assert capsys.readouterr().err == "ERROR --region needs --remote STACK\n"
    assert list(tmp_path.iterdir()) == []


def test_remote_is_listed_in_the_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["render", "--help"])
    assert done.value.code == 0
    assert "--remote STACK" in capsys.readouterr().out
