"""The stream driver's read size follows the traffic, and no byte is lost while it changes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import zmtp
from zmtp.engine.stream import _MAX_READ, _READ_SIZE, _STREAM_READ, ReadSizer


def test_full_reads_double_the_size_up_to_the_stream_size() -> None:
    reads = ReadSizer()
    assert reads.size == _READ_SIZE
    sizes = []
    for _ in range(10):
        reads.filled()
        sizes.append(reads.size)
    assert sizes[:4] == [_READ_SIZE * 2, _READ_SIZE * 4, _READ_SIZE * 8, _READ_SIZE * 16]
    assert max(sizes) == _STREAM_READ < _MAX_READ


def test_only_far_shorter_reads_shrink_it_and_never_below_the_base() -> None:
    reads = ReadSizer()
    for _ in range(4):
        reads.filled()
    grown = reads.size
    reads.short(grown // 2)  # a read half full: traffic is still heavy
    assert reads.size == grown
    reads.short(grown // 4 - 1)
    assert reads.size == grown // 2
    for _ in range(20):
        reads.short(0)
    assert reads.size == _READ_SIZE


@pytest.fixture
def pipeline() -> Iterator[tuple[zmtp.Socket, zmtp.Socket]]:
    ctx = zmtp.Context()
    push, pull = ctx.socket(zmtp.PUSH), ctx.socket(zmtp.PULL)
    pull.rcvtimeo = push.sndtimeo = 10_000
    push.sndhwm = pull.rcvhwm = 0
    port = pull.bind_to_random_port("tcp://127.0.0.1")
    push.connect(f"tcp://127.0.0.1:{port}")
    yield push, pull
    ctx.destroy(linger=0)


def test_large_then_small_messages_arrive_whole_and_in_order(
    pipeline: tuple[zmtp.Socket, zmtp.Socket],
) -> None:
    # A burst of large messages (reads grow), then small ones one at a time (reads shrink),
    # then large again: every message must arrive whole, in order, whatever the read sizes.
    push, pull = pipeline
    large = [bytes([n]) * (64 * 1024 + n) for n in range(48)]
    for body in large:
        push.send(body)
    assert [pull.recv() for _ in large] == large
    for n in range(100):
        push.send_multipart([b"small", n.to_bytes(2, "big")])
        assert pull.recv_multipart() == [b"small", n.to_bytes(2, "big")]
    huge = [bytes([n]) * (3 << 20) for n in range(3)]
    for body in huge:
        push.send(body)
    assert [pull.recv() for _ in huge] == huge
