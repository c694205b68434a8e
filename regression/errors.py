"""The suite's own errors: each says what went wrong and, where it can, what to do next."""

from __future__ import annotations


class RegressionError(Exception):
    """Base class; ``hint`` is one line of advice for the terminal."""

    hint: str = ""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail

    @property
    def detail_lines(self) -> str:
        """Shown between the ``ERROR`` and ``hint:`` lines."""
        return self.detail


class FixtureError(RegressionError):
    """A fixture directory or its ``fixture.toml`` is malformed."""

    hint = "see the Regression suite section of README.md for the fixture.toml keys"

    def __init__(self, fixture: str, problem: str) -> None:
        super().__init__(f"fixture {fixture}: {problem}")
        self.fixture = fixture


class RenderFailed(RegressionError):
    """Rendering in the Lambda image failed; ``detail`` holds the tail of its stderr."""


class ComparisonFailed(RegressionError):
    """The output could not be compared (a missing frame, a wrong size)."""
