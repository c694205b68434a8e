"""Tests for bundler.progress.ConsoleReporter writing to a plain (non-TTY) stream."""

from __future__ import annotations

import io

import pytest

from bundler.progress import ConsoleReporter, mib


@pytest.fixture
def stream(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("CI", raising=False)
    return io.StringIO()


def _lines(stream: io.StringIO) -> list[str]:
    return stream.getvalue().splitlines()


def test_plain_stream_is_not_treated_as_a_terminal(stream: io.StringIO) -> None:
    reporter = ConsoleReporter(stream)
    assert not reporter.tty
    assert not reporter.colour


def test_progress_prints_at_most_one_line_per_quarter(stream: io.StringIO) -> None:
    reporter = ConsoleReporter(stream)
    for done in range(1001):
        reporter.progress("zip", done, 1000)
    assert _lines(stream) == ["  zip: 0%", "  zip: 25%", "  zip: 50%", "  zip: 75%", "  zip: 100%"]


def test_progress_with_few_items_prints_each_quarter_it_reaches(stream: io.StringIO) -> None:
    reporter = ConsoleReporter(stream)
    for done in range(1, 4):
        reporter.progress("compress", done, 3)
    assert _lines(stream) == ["  compress: 33%", "  compress: 66%", "  compress: 100%"]


def test_progress_repeated_within_a_quarter_prints_once(stream: io.StringIO) -> None:
    reporter = ConsoleReporter(stream)
    for done in (26, 30, 40, 49):
        reporter.progress("zip", done, 100)
    assert _lines(stream) == ["  zip: 26%"]


def test_progress_with_zero_total_reports_done(stream: io.StringIO) -> None:
    ConsoleReporter(stream).progress("zip", 0, 0)
    assert _lines(stream) == ["  zip: 100%"]


def test_progress_never_writes_terminal_control_codes(stream: io.StringIO) -> None:
    reporter = ConsoleReporter(stream)
    for done in range(11):
        reporter.progress("zip", done, 10)
    assert "\r" not in stream.getvalue()
    assert "\x1b" not in stream.getvalue()


def test_step_lines_carry_the_message(stream: io.StringIO) -> None:
    reporter = ConsoleReporter(stream)
    reporter.step("fetching wheel:boto3==1.0 with pip")
    reporter.step("verified 9 pinned downloads")
    lines = _lines(stream)
    assert len(lines) == 2
    assert lines[0].endswith("] fetching wheel:boto3==1.0 with pip")
    assert lines[1].endswith("] verified 9 pinned downloads")
    assert all(line.startswith("[") and "s] " in line for line in lines)
    assert "\x1b" not in stream.getvalue()


def test_step_between_progress_runs_restarts_the_quarters(stream: io.StringIO) -> None:
    reporter = ConsoleReporter(stream)
    reporter.progress("compress chromium", 1, 1)
    reporter.step("packaging ffmpeg")
    reporter.progress("compress ffmpeg", 1, 1)
    lines = _lines(stream)
    assert lines[0] == "  compress chromium: 100%"
    assert lines[1].endswith("packaging ffmpeg")
    assert lines[2] == "  compress ffmpeg: 100%"


def test_progress_of_a_new_label_is_printed_even_without_a_step(stream: io.StringIO) -> None:
    reporter = ConsoleReporter(stream)
    reporter.progress("compress chromium", 1, 1)
    reporter.progress("compress ffmpeg", 1, 1)
    assert _lines(stream) == ["  compress chromium: 100%", "  compress ffmpeg: 100%"]


def test_warn_prints_plain_warning_without_colour(stream: io.StringIO) -> None:
    ConsoleReporter(stream).warn("in-house unzipped gate is at 95.0%")
    assert stream.getvalue() == "WARNING in-house unzipped gate is at 95.0%\n"


def test_mib_formats_with_one_decimal_and_the_binary_unit() -> None:
    assert mib(0) == "0.0 MiB"
    assert mib(1024 * 1024) == "1.0 MiB"
    assert mib(1536 * 1024 * 1024) == "1,536.0 MiB"
