"""A composition page under frame control: virtual time (``shim.js``), seeking, capture."""

from handler.page._page import ImageFormat, Page, frame_ticks

__all__ = ["ImageFormat", "Page", "frame_ticks"]
