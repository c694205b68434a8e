"""How long a frame that brings no screenshot is tried again."""

from __future__ import annotations

import pytest

from handler.render.chrome.page._page import CAPTURE_PATIENCE_S, retry_pauses


def test_pauses_double_up_to_the_longest_and_stay_within_the_patience() -> None:
    pauses = list(retry_pauses(patience=1.0, first=0.01, longest=0.08))
    assert pauses[:5] == pytest.approx([0.01, 0.02, 0.04, 0.08, 0.08])
    assert set(pauses[3:]) == {0.08}
    assert sum(pauses) <= 1.0 < sum(pauses) + 0.08


def test_no_patience_means_no_retry() -> None:
    assert list(retry_pauses(patience=0.0, first=0.01, longest=0.08)) == []


def test_the_default_patience_allows_many_retries_and_no_more_than_its_seconds() -> None:
    pauses = list(retry_pauses())
    assert len(pauses) >= 10
    assert sum(pauses) <= CAPTURE_PATIENCE_S
    assert pauses[0] < 0.01  # a frame that is merely late is not held up long
