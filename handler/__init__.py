"""The renderzip Lambda function: everything in this package ships in the zip.

Only the standard library and the runtime lock may be imported here, and every module is
imported by ``handler.app`` (the build refuses one that is not).
"""

RENDERER_RELEASE = "0.4.0"
"""The release part of the renderer version: `handler.render.runtime.renderer_version` adds the digest of render/."""
