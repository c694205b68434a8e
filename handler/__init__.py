"""The renderzip Lambda function: everything in this package ships in the zip.

Only the standard library and the runtime lock may be imported here.
"""

RENDERER_RELEASE = "0.3.0"
"""With a digest of the sources that decide pixels, the renderer version (`handler.runtime.renderer_version`)."""
