"""Frame rates as exact fractions: whole rates, NTSC rates, and what is refused."""

from __future__ import annotations

import pytest

from handler.render.settings import FrameRate


@pytest.mark.parametrize(
    ("given", "num", "den", "text"),
    [
        (30, 30, 1, "30"),
        ("25", 25, 1, "25"),
        (29.97, 30000, 1001, "30000/1001"),
        ("23.976", 24000, 1001, "24000/1001"),
        ("59.94", 60000, 1001, "60000/1001"),
        ("30000/1001", 30000, 1001, "30000/1001"),
        ("50/2", 25, 1, "25"),
        ("12.5", 25, 2, "25/2"),
    ],
)
def test_rates_parse_to_one_exact_fraction(given: object, num: int, den: int, text: str) -> None:
    rate = FrameRate.parse(given)
    assert (rate.num, rate.den, rate.text) == (num, den, text)
    assert rate.to_json() == (num if den == 1 else text)
    assert FrameRate.parse(rate.to_json()) == rate


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        (0, "not positive"),
        ("-30", "not positive"),
        ("1000", "outside 1..120"),
        ("0.5", "outside 1..120"),
        ("thirty", "not a number"),
        ("29.97123", "give it as a fraction"),
        (True, "must be a number"),
        ([30], "must be a number"),
    ],
)
def test_bad_rates_are_refused_saying_why(given: object, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        FrameRate.parse(given)


def test_times_and_counts_follow_the_fraction() -> None:
    ntsc = FrameRate(30000, 1001)
    assert ntsc.frames_in(10.0) == 300  # 299.7 frames: the last one is partly shown
    assert ntsc.ms(300) == 10010
    assert ntsc.seconds(30000) == 1001.0
    assert FrameRate(30).frames_in(2.0) == 60
