"""The Lambda edge: events in and out, storage, logs, the invocation's workspace, archives from outside.

Everything here checks or moves what crosses the function's boundary; nothing here decides a pixel.
"""
