"""CONFLATE against libzmq: a conflating zmtp SUB keeps only the newest of a libzmq burst."""

import time
from collections.abc import Iterator

import pytest
import zmq

import zmtp


@pytest.fixture
def contexts() -> Iterator[tuple[zmtp.Context, zmq.Context]]:
    ours, theirs = zmtp.Context(), zmq.Context()
    yield ours, theirs
    ours.destroy(linger=0)
    theirs.destroy(linger=0)


def test_conflating_sub_keeps_only_the_newest_message(
    contexts: tuple[zmtp.Context, zmq.Context],
) -> None:
    ours, theirs = contexts
    pub = theirs.socket(zmq.PUB)
    pub.linger = 0
    pub.sndhwm = 0  # so that libzmq itself drops nothing of the burst
    port = pub.bind_to_random_port("tcp://127.0.0.1")
    sub = ours.socket(zmtp.SUB)
    sub.conflate = 1
    sub.rcvtimeo = 5000
    sub.subscribe(b"")
    sub.connect(f"tcp://127.0.0.1:{port}")
    deadline = time.monotonic() + 5
    while not sub.poll(10):  # until the subscription has reached libzmq
        assert time.monotonic() < deadline, "no message from libzmq within 5 s"
        pub.send(b"warm-up")
    sub.recv()
    for number in range(1000):
        pub.send(b"%d" % number)
    pub.send(b"last")
    # Wait (bounded) until the whole burst has reached our side, without reading it: only
    # then does "the newest message" mean "last".
    deadline = time.monotonic() + 5
    while not any(pipe.inbound and pipe.inbound[-1] == [b"last"] for pipe in sub._core.pipes):
        assert time.monotonic() < deadline, "the burst did not arrive within 5 s"
        sub.poll(10)
    assert sub.recv() == b"last"  # a non-conflating SUB would return b"0" here
    assert not sub.poll(200)
