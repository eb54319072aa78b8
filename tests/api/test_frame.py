"""``recv(copy=False)`` gives Frames with the sender's properties, as pyzmq's ``zmq.Frame``."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

import zmtp
import zmtp.asyncio
from zmtp.metadata import Metadata


@pytest.fixture
def pair() -> Iterator[tuple[zmtp.Socket, zmtp.Socket]]:
    context = zmtp.Context()
    server = context.socket(zmtp.ROUTER)
    client = context.socket(zmtp.DEALER)
    for sock in (server, client):
        sock.linger = 0
        sock.rcvtimeo = 5000
    port = server.bind_to_random_port("tcp://127.0.0.1")
    client.connect(f"tcp://127.0.0.1:{port}")
    yield server, client
    server.close()
    client.close()
    context.term()


def test_frame_basics() -> None:
    """bytes, buffer (no copy), len, bytes(), MORE, and EINVAL for what is unknown."""
    frame = zmtp.Frame(b"abc", more=True, metadata=Metadata([("User-Id", b"bob")]))
    assert frame.bytes == b"abc" and bytes(frame) == b"abc" and len(frame) == 3
    assert frame.buffer.obj is frame.bytes
    assert frame.get(zmtp.MORE) == 1
    assert frame.get("user-id") == "bob"
    with pytest.raises(zmtp.ZMQError) as raised:
        frame.get("Nope")
    assert raised.value.errno == zmtp.EINVAL


def test_recv_copy_false_carries_the_peers_properties(
    pair: tuple[zmtp.Socket, zmtp.Socket],
) -> None:
    """Each frame of a multipart message knows the sender's Socket-Type and Peer-Address."""
    server, client = pair
    client.send_multipart([b"one", b"two"])
    frames = server.recv_multipart(copy=False)
    assert [frame.bytes for frame in frames[1:]] == [b"one", b"two"]
    assert [frame.more for frame in frames] == [True, True, False]
    assert {frame.get("Socket-Type") for frame in frames} == {"DEALER"}
    assert frames[-1].get("Peer-Address") == "127.0.0.1"


def test_recv_copy_false_frame_by_frame(pair: tuple[zmtp.Socket, zmtp.Socket]) -> None:
    """recv(copy=False) one frame at a time, mixed with recv(): RCVMORE stays right."""
    server, client = pair
    client.send_multipart([b"one", b"two"])
    first = server.recv(copy=False)
    assert first.more and server.rcvmore
    assert server.recv() == b"one"
    last = server.recv(copy=False)
    assert last.bytes == b"two" and not last.more and not server.rcvmore


def test_asyncio_recv_copy_false() -> None:
    """zmtp.asyncio gives Frames too."""

    async def main() -> None:
        context = zmtp.asyncio.Context()
        pull = context.socket(zmtp.PULL)
        push = context.socket(zmtp.PUSH)
        port = pull.bind_to_random_port("tcp://127.0.0.1")
        push.connect(f"tcp://127.0.0.1:{port}")
        await push.send(b"hello")
        frame = await asyncio.wait_for(pull.recv(copy=False), 5)
        assert frame.bytes == b"hello" and frame.get("Socket-Type") == "PUSH"
        frames = await asyncio.wait_for(
            (await push.send_multipart([b"a", b"b"]), pull.recv_multipart(copy=False))[1], 5
        )
        assert [f.bytes for f in frames] == [b"a", b"b"]
        push.close(linger=0)
        pull.close(linger=0)
        context.term()

    asyncio.run(main())
