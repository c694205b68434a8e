"""A composition page under frame control: virtual time (``shim.js``), seeking, capture."""

from handler.render.chrome.page._page import ImageFormat, Page, frame_ticks, init_scripts

__all__ = ["ImageFormat", "Page", "frame_ticks", "init_scripts"]
