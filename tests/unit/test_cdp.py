"""The DevTools reader against a real pipe peer: a small Python program spawned the way Chrome is.

The peer reads commands from its fd 3 and writes to its fd 4, as Chrome does. It answers
``Peer.ok``, never answers ``Peer.hang``, exits on ``Browser.close``, and for the other
``Peer.*`` commands sends what the test needs first: bytes that are not JSON, JSON that is not
an object, or an event.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from handler.errors import ChromeTimeout, ProtocolError
from handler.render.chrome.cdp import CdpConnection, Message

PEER = r"""
import json, os
SENDS = {
    "Peer.garbage": b'{"id": 1, "result": {\xff\x00',
    "Peer.list": b"[1, 2, 3]\0",
    "Peer.emit": b'{"method": "Peer.event", "params": {"n": 1}}\0',
}
buffer = b""
while chunk := os.read(3, 65536):
    buffer += chunk
    *messages, buffer = buffer.split(b"\0")
    for raw in messages:
        command = json.loads(raw)
        method = command["method"]
        if method == "Peer.hang":
            continue
        out = SENDS.get(method, b"")
        out += json.dumps({"id": command["id"], "result": {"method": method}}).encode() + b"\0"
        os.write(4, out)
        if method == "Browser.close":
            raise SystemExit
"""

WAIT = 20.0
"""Longer than any of these answers takes, shorter than the default command timeout."""


@pytest.fixture
def peer(tmp_path: Path) -> Iterator[CdpConnection]:
    script = tmp_path / "peer.py"
    script.write_text(PEER, encoding="utf-8")
    connection = CdpConnection.spawn(Path(sys.executable), ["-I", str(script)], {})
    try:
        assert connection.send("Peer.ok", timeout=WAIT) == {"method": "Peer.ok"}
        yield connection
    finally:
        connection.close(timeout=2)


def _fails_every_waiter_at_once(connection: CdpConnection, trigger: str, reason: str) -> None:
    started = time.monotonic()
    hanging = connection.post("Peer.hang")
    with pytest.raises(ProtocolError, match=reason) as caught:
        connection.send(trigger, timeout=WAIT)
    with pytest.raises(ProtocolError, match=reason) as pending:
        connection.result("Peer.hang", hanging, timeout=WAIT)
    with pytest.raises(ProtocolError, match=reason) as later:
        connection.send("Peer.ok", timeout=WAIT)
    assert time.monotonic() - started < 5.0
    assert caught.value is pending.value is later.value
    assert caught.value.code == "ProtocolError" and not caught.value.retryable
    assert "the connection is closed" in str(caught.value)
    assert not connection.alive
    started = time.monotonic()
    connection.close(timeout=10)
    assert connection.process.returncode is not None
    assert time.monotonic() - started < 5.0  # no Browser.close is sent to a peer no one reads


@pytest.mark.parametrize(
    ("trigger", "reason"),
    [
        ("Peer.garbage", r"not a JSON object \(22 bytes\): b'\{\"id\": 1, \"result\": \{\\xff'"),
        ("Peer.list", r"not a JSON object \(9 bytes\): b'\[1, 2, 3\]'"),
    ],
)
def test_a_malformed_message_fails_every_waiter_at_once(peer: CdpConnection, trigger: str, reason: str) -> None:
    _fails_every_waiter_at_once(peer, trigger, reason)


def test_an_event_handler_that_raises_fails_every_waiter_at_once(peer: CdpConnection) -> None:
    def handler(params: Message) -> None:
        raise KeyError("frame")

    peer.on("Peer.event", handler)
    _fails_every_waiter_at_once(peer, "Peer.emit", r"the Peer\.event event handler raised KeyError\('frame'\)")


def test_a_subscriber_waiting_for_an_event_gets_the_reason_too(peer: CdpConnection) -> None:
    with peer.subscribe("Peer.never") as never:
        peer.post("Peer.list")
        with pytest.raises(ProtocolError, match="not a JSON object"):
            never.wait(timeout=WAIT)


def test_a_command_without_answer_still_times_out_and_the_reader_lives_on(peer: CdpConnection) -> None:
    with pytest.raises(ChromeTimeout, match=r"Peer\.hang got no answer within 0\.2 s"):
        peer.send("Peer.hang", timeout=0.2)
    assert peer.send("Peer.ok", timeout=WAIT) == {"method": "Peer.ok"}
    assert peer.alive


def test_failing_one_session_fails_its_waiting_commands_only(peer: CdpConnection) -> None:
    # What a page does when its renderer crashes: the commands it waits for will never be answered.
    gone = peer.post("Peer.hang", session_id="crashed")
    other = peer.post("Peer.hang", session_id="alive")
    plain = peer.post("Peer.hang")
    reason = RuntimeError("the target crashed")
    peer.fail_session("crashed", reason)
    with pytest.raises(RuntimeError) as caught:
        peer.result("Peer.hang", gone, timeout=WAIT)
    assert caught.value is reason
    for future in (other, plain):
        with pytest.raises(ChromeTimeout):
            peer.result("Peer.hang", future, timeout=0.2)
    assert peer.alive
    assert peer.send("Peer.ok", session_id="crashed", timeout=WAIT) == {"method": "Peer.ok"}
