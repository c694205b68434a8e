"""What the command lines share, on the caller's side of the function; never shipped in the zip.

How a command ends on an error (`cli_errors`), the events a caller sends (`requests`), the
state machine's retry policy applied locally (`retry`), and reading rendered media back
(`media`). The local runner, the deploy tools, the regression suite and the tests use them.
"""
