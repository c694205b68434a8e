"""Reading what a Google Fonts stylesheet URL asks for, in both API versions."""

from __future__ import annotations

import pytest

from bundler.fonts import FontRequest, package_for, parse_google_fonts_url


@pytest.mark.parametrize(
    ("url", "wanted"),
    [
        (
            "https://fonts.googleapis.com/css2?family=Inter:wght@400;700&display=swap",
            [("Inter", 400, False), ("Inter", 700, False)],
        ),
        (
            "https://fonts.googleapis.com/css2?family=Open+Sans:ital,wght@0,400;1,700&amp;family=Inter&display=swap",
            [("Inter", 400, False), ("Open Sans", 400, False), ("Open Sans", 700, True)],
        ),
        (
            "//fonts.googleapis.com/css?family=Roboto:400,700italic|Lato",
            [("Lato", 400, False), ("Roboto", 400, False), ("Roboto", 700, True)],
        ),
    ],
)
def test_families_weights_and_styles_are_read(url: str, wanted: list[tuple[str, int, bool]]) -> None:
    assert parse_google_fonts_url(url) == [FontRequest(*request) for request in wanted]


def test_the_package_of_a_family_is_its_fontsource_name() -> None:
    assert package_for("Open Sans") == "@fontsource/open-sans"
    assert package_for("Inter") == "@fontsource/inter"
