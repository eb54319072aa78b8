"""``zmtp.proxy`` and ``zmtp.proxy_steerable``: libzmq's forwarder, which the devices run.

Whole messages go both ways, a copy of each to the capture socket; the proxy forwards what is
waiting in bursts (libzmq's 1000) and ends with ETERM when its context is terminated. The
steerable form obeys PAUSE, RESUME, STATISTICS and TERMINATE on its control socket.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator

import pytest

import zmtp
from tests.api.api_support import Worker, socket_maker

Make = Callable[..., zmtp.Socket]


@pytest.fixture
def ctx() -> Iterator[zmtp.Context]:
    context = zmtp.Context()
    yield context
    context.destroy(linger=0)


@pytest.fixture
def make(ctx: zmtp.Context) -> Make:
    return socket_maker(ctx, zmtp.Socket)


def pair(
    make: Make, kind: int, peer_kind: int, name: str, **options: int
) -> tuple[zmtp.Socket, zmtp.Socket]:
    """A socket bound to ``inproc://name`` and a peer connected to it, both with ``options``."""
    bound, peer = make(kind, **options), make(peer_kind, **options)
    bound.bind(f"inproc://{name}")
    peer.connect(f"inproc://{name}")
    return bound, peer


def run_proxy(
    target: Callable[..., None], *sockets: zmtp.Socket | None
) -> tuple[Worker, list[zmtp.Socket]]:
    """Run ``target(*sockets)`` in a thread that closes the sockets when it ends."""
    owned = [sock for sock in sockets if sock is not None]

    def proxy() -> None:
        try:
            target(*sockets)
        finally:
            for sock in owned:
                sock.close(linger=0)

    return Worker(proxy), owned


def counters(control: zmtp.Socket) -> list[int]:
    control.send(b"STATISTICS")
    return [struct.unpack("=Q", frame)[0] for frame in control.recv_multipart()]


def test_proxy_forwards_requests_and_replies_and_captures_both(
    ctx: zmtp.Context, make: Make
) -> None:
    frontend, client = pair(make, zmtp.ROUTER, zmtp.REQ, "front")
    backend, server = pair(make, zmtp.DEALER, zmtp.REP, "back")
    capture, tap = pair(make, zmtp.PUSH, zmtp.PULL, "tap")
    running, _ = run_proxy(zmtp.proxy, frontend, backend, capture)
    client.send(b"question")
    assert server.recv() == b"question"
    server.send(b"answer")
    assert client.recv() == b"answer"
    request, reply = tap.recv_multipart(), tap.recv_multipart()
    assert request[1:] == [b"", b"question"]
    assert reply == [*request[:2], b"answer"]
    for sock in (client, server, tap):
        sock.close(linger=0)
    Worker(ctx.term).result()
    with pytest.raises(zmtp.ContextTerminated):
        running.result()


def test_proxy_forwards_a_backlog_larger_than_a_burst_in_order(
    ctx: zmtp.Context, make: Make
) -> None:
    frontend, push = pair(make, zmtp.PULL, zmtp.PUSH, "backlog-in", hwm=0)
    backend, pull = pair(make, zmtp.PUSH, zmtp.PULL, "backlog-out", hwm=0)
    count = 2500  # two and a half bursts, all waiting before the proxy starts
    for number in range(count):
        push.send_multipart([b"n", number.to_bytes(2, "big")])
    running, _ = run_proxy(zmtp.proxy, frontend, backend)
    received = [pull.recv_multipart() for _ in range(count)]
    assert received == [[b"n", n.to_bytes(2, "big")] for n in range(count)]
    for sock in (push, pull):
        sock.close(linger=0)
    Worker(ctx.term).result()
    with pytest.raises(zmtp.ContextTerminated):
        running.result()


def test_steerable_proxy_holds_messages_while_paused_and_counts_whole_messages(
    make: Make,
) -> None:
    frontend, push = pair(make, zmtp.PULL, zmtp.PUSH, "steer-in")
    backend, pull = pair(make, zmtp.PUSH, zmtp.PULL, "steer-out")
    control_end, control = pair(make, zmtp.PAIR, zmtp.PAIR, "steer-ctrl")
    running, _ = run_proxy(zmtp.proxy_steerable, frontend, backend, None, control_end)
    control.send(b"PAUSE")
    assert counters(control) == [0] * 8  # answered after PAUSE: the proxy is paused now
    push.send_multipart([b"two", b"parts"])
    assert pull.poll(200) == 0
    control.send(b"RESUME")
    assert pull.recv_multipart() == [b"two", b"parts"]
    # One message of 8 bytes in on the frontend and out on the backend.
    assert counters(control) == [1, 8, 0, 0, 0, 0, 1, 8]
    control.send(b"TERMINATE")
    assert running.result() is None
