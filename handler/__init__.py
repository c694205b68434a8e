"""The renderzip Lambda function: everything in this package ships in the zip.

Only the standard library and the runtime lock may be imported here.
"""

RENDERER_VERSION = "0.1.0"
