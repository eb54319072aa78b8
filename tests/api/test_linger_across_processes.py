"""LINGER is honoured up to the last byte: a process that sends, closes and exits loses nothing.

Regression: cancelling the connect task used to cancel the future that close() waited on, so
the I/O thread stopped while the transport still buffered data, and the peer saw a clean end
of stream in the middle of the messages.
"""

import subprocess
import sys
from collections.abc import Iterator

import pytest

import zmtp

SENDER = """
import sys, zmtp
ctx = zmtp.Context()
push = ctx.socket(zmtp.PUSH)
push.connect(sys.argv[1])
for number in range(int(sys.argv[2])):
    push.send(number.to_bytes(4, "big") * 16384)
push.close()
ctx.term()
"""


@pytest.fixture
def ctx() -> Iterator[zmtp.Context]:
    context = zmtp.Context()
    yield context
    context.destroy(linger=0)


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_messages_queued_before_close_reach_the_peer_after_the_sender_exits(
    ctx: zmtp.Context, transport: str, tmp_path: object
) -> None:
    pull = ctx.socket(zmtp.PULL)
    pull.rcvtimeo = 10_000
    pull.bind("tcp://127.0.0.1:*" if transport == "tcp" else f"ipc://{tmp_path}/sock")
    count = 200  # 200 x 64 KiB: far more than the socket buffers hold
    sender = subprocess.run(
        [sys.executable, "-c", SENDER, pull.last_endpoint, str(count)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert sender.returncode == 0, sender.stderr
    for number in range(count):
        assert pull.recv() == number.to_bytes(4, "big") * 16384
