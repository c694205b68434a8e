"""The independent oracle, loaded when it is available.

``regression.oracle`` renders reference frames with Playwright's ordinary
screenshots. It needs Playwright, a development dependency; where it cannot be
imported the suite still runs, and reports the oracle step as unavailable
with the reason (under CI that is an error: see ``cli``).
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, cast


class ReferenceFrames(Protocol):
    def __call__(
        self,
        composition_dir: Path,
        frames: Sequence[int],
        *,
        chrome: Path,
        out_dir: Path,
        width: int | None = None,
        height: int | None = None,
        fps: float | None = None,
        variables: str = "{}",
    ) -> list[Path]: ...


@dataclass(frozen=True)
class Oracle:
    render: ReferenceFrames | None
    unavailable: str = ""
    """Why there is no oracle, when ``render`` is None."""
    error_type: type[Exception] = Exception

    @property
    def available(self) -> bool:
        return self.render is not None


def load_oracle() -> Oracle:
    try:
        module = importlib.import_module("regression.oracle")
    except ImportError as error:
        missing = getattr(error, "name", None) or str(error)
        return Oracle(None, f"cannot import regression.oracle ({missing} is missing)")
    render = getattr(module, "reference_frames", None)
    if not callable(render):
        return Oracle(None, "regression.oracle defines no reference_frames()")
    error_type = getattr(module, "OracleError", Exception)
    if not (isinstance(error_type, type) and issubclass(error_type, Exception)):
        error_type = Exception
    return Oracle(cast(ReferenceFrames, render), "", error_type)
