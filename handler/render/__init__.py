"""The renderer: everything that decides a frame's pixels or a chunk's bytes, as functions over local paths.

The renderer version (`handler.render.runtime.renderer_version`) digests this whole directory, so
any change here makes plans of an older build refuse to mix with chunks of a newer one. It never
imports the edge (`handler.edge`) or the entry point (`handler.app`): it knows no wire format.
"""
