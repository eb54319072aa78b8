"""zmtp.twisted against libzmq (pyzmq) peers: both binding sides, tcp and ipc.

The Twisted program runs on a fresh reactor in the test's thread; the libzmq peer runs in a
thread of its own with blocking pyzmq calls bounded by RCVTIMEO/SNDTIMEO, so neither side can
hang the other. Each test checks the messages as the other side saw them.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import zmq
from twisted.internet.task import deferLater

# The reactor runner is shared with tests/twisted (pytest puts each test directory on the
# path; this one needs its sibling's too).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "twisted"))

from reactor_support import Inbox, close_reactor, make_reactor, run

from zmtp.twisted import (
    ZmqFactory,
    ZmqPubConnection,
    ZmqPullConnection,
    ZmqPushConnection,
    ZmqRepConnection,
    ZmqReqConnection,
    ZmqRouterConnection,
    ZmqSubConnection,
    ZmqXREQConnection,
)

TIMEOUT_MS = 5000
COUNT = 100


@pytest.fixture
def context() -> Iterator[zmq.Context[zmq.Socket[bytes]]]:
    ctx: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
    yield ctx
    ctx.destroy(linger=0)


class Peer:
    """A libzmq socket whose work runs in a thread; ``join`` returns what it recorded."""

    def __init__(self, ctx: zmq.Context[zmq.Socket[bytes]], kind: int) -> None:
        self.socket = ctx.socket(kind)
        self.socket.linger = 0
        self.socket.rcvtimeo = TIMEOUT_MS
        self.socket.sndtimeo = TIMEOUT_MS
        self.seen: list[list[bytes]] = []
        self.errors: list[BaseException] = []
        self._thread: threading.Thread | None = None

    def bind(self, transport: str, tmp_path: Path) -> str:
        if transport == "tcp":
            self.socket.bind("tcp://127.0.0.1:*")
        else:
            self.socket.bind(f"ipc://{tmp_path}/libzmq")
        return self.socket.getsockopt_string(zmq.LAST_ENDPOINT)

    def start(self, work: Callable[[zmq.Socket[bytes], list[list[bytes]]], None]) -> None:
        def body() -> None:
            try:
                work(self.socket, self.seen)
            except BaseException as exc:
                self.errors.append(exc)

        self._thread = threading.Thread(target=body, daemon=True)
        self._thread.start()

    def join(self) -> list[list[bytes]]:
        assert self._thread is not None
        self._thread.join(timeout=TIMEOUT_MS / 1000 * 2)
        assert not self._thread.is_alive(), "the libzmq peer did not finish"
        if self.errors:
            raise self.errors[0]
        self.socket.close()
        return self.seen


def place(connection: Any, peer: Peer, side: str, transport: str, tmp_path: Path) -> None:
    """Bind one side and connect the other, as ``side`` says ("we bind" / "they bind")."""
    if side == "we_bind":
        if transport == "tcp":
            connection.bind("tcp://127.0.0.1:*")
        else:
            connection.bind(f"ipc://{tmp_path}/twisted")
        peer.socket.connect(connection.last_endpoint.decode())
    else:
        connection.connect(peer.bind(transport, tmp_path))


SIDES = ["we_bind", "they_bind"]
TRANSPORTS = ["tcp", "ipc"]


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("side", SIDES)
def test_twisted_push_to_libzmq_pull(
    context: zmq.Context[zmq.Socket[bytes]], side: str, transport: str, tmp_path: Path
) -> None:
    peer = Peer(context, zmq.PULL)

    async def scenario(factory: ZmqFactory) -> None:
        push = ZmqPushConnection(factory)
        push.linger = 2000  # shutdown() below waits for the queue to drain
        place(push, peer, side, transport, tmp_path)
        peer.start(lambda sock, seen: seen.extend(sock.recv_multipart() for _ in range(COUNT)))
        sends = [push.send([b"n", str(i).encode()]) for i in range(COUNT)]
        for sent in sends:  # they wait for the peer when we bind
            await sent
        await push.shutdown()

    run("select", scenario)
    assert peer.join() == [[b"n", str(i).encode()] for i in range(COUNT)]


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("side", SIDES)
def test_libzmq_push_to_twisted_pull(
    context: zmq.Context[zmq.Socket[bytes]], side: str, transport: str, tmp_path: Path
) -> None:
    peer = Peer(context, zmq.PUSH)

    async def scenario(factory: ZmqFactory) -> list[Any]:
        inbox = Inbox()
        pull = ZmqPullConnection(factory, callback=inbox)
        place(pull, peer, side, transport, tmp_path)
        peer.start(
            lambda sock, _: [sock.send_multipart([b"m", str(i).encode()]) for i in range(COUNT)]
        )
        return await inbox.wait(COUNT)

    assert run("poll", scenario) == [[b"m", str(i).encode()] for i in range(COUNT)]
    peer.join()


def serve_replies(sock: zmq.Socket[bytes], seen: list[list[bytes]]) -> None:
    for _ in range(COUNT):
        request = sock.recv_multipart()
        seen.append(request)
        sock.send_multipart([b"re:", *request])


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("side", SIDES)
def test_twisted_req_against_libzmq_rep(
    context: zmq.Context[zmq.Socket[bytes]], side: str, transport: str, tmp_path: Path
) -> None:
    peer = Peer(context, zmq.REP)

    async def scenario(factory: ZmqFactory) -> list[list[bytes]]:
        req = ZmqReqConnection(factory)
        place(req, peer, side, transport, tmp_path)
        peer.start(serve_replies)
        return [await req.request([b"q", str(i).encode()], timeout=5) for i in range(COUNT)]

    replies = run("epoll", scenario)
    assert replies == [[b"re:", b"q", str(i).encode()] for i in range(COUNT)]
    assert peer.join() == [[b"q", str(i).encode()] for i in range(COUNT)]


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("side", SIDES)
def test_libzmq_req_against_twisted_rep(
    context: zmq.Context[zmq.Socket[bytes]], side: str, transport: str, tmp_path: Path
) -> None:
    peer = Peer(context, zmq.REQ)

    def ask(sock: zmq.Socket[bytes], seen: list[list[bytes]]) -> None:
        for i in range(COUNT):
            sock.send_multipart([b"q", str(i).encode()])
            seen.append(sock.recv_multipart())

    async def scenario(factory: ZmqFactory) -> None:
        answered = Inbox()
        rep = ZmqRepConnection(factory)

        def answer(message_id: bytes, parts: list[bytes]) -> None:
            rep.reply(message_id, [b"re:", *parts])
            answered(parts)

        rep.callback = answer
        place(rep, peer, side, transport, tmp_path)
        peer.start(ask)
        await answered.wait(COUNT)
        rep.linger = 2000
        await rep.shutdown()  # the last reply leaves before the reactor stops

    run("asyncio", scenario)
    assert peer.join() == [[b"re:", b"q", str(i).encode()] for i in range(COUNT)]


@pytest.mark.parametrize("side", SIDES)
def test_twisted_xreq_against_libzmq_router(
    context: zmq.Context[zmq.Socket[bytes]], side: str, tmp_path: Path
) -> None:
    """The seed's DEALER request format reaches a ROUTER as [id, message_id, b"", body]."""
    peer = Peer(context, zmq.ROUTER)

    def echo(sock: zmq.Socket[bytes], seen: list[list[bytes]]) -> None:
        for _ in range(COUNT):
            message = sock.recv_multipart()
            seen.append(message)
            sock.send_multipart([*message[:3], b"echo", *message[3:]])

    async def scenario(factory: ZmqFactory) -> list[list[bytes]]:
        xreq = ZmqXREQConnection(factory)
        place(xreq, peer, side, "tcp", tmp_path)
        peer.start(echo)
        pending = [xreq.request([str(i).encode()], timeout=5) for i in range(COUNT)]
        return [await reply for reply in pending]

    assert run("select", scenario) == [[b"echo", str(i).encode()] for i in range(COUNT)]
    seen = peer.join()
    assert all(len(message) == 4 and message[2] == b"" for message in seen)


@pytest.mark.parametrize("side", SIDES)
def test_pub_sub_both_ways(
    context: zmq.Context[zmq.Socket[bytes]], side: str, tmp_path: Path
) -> None:
    """libzmq PUB -> zmtp SUB (subscriptions reach libzmq), then zmtp PUB -> libzmq SUB."""
    publisher = Peer(context, zmq.PUB)
    subscriber = Peer(context, zmq.SUB)
    subscriber.socket.subscribe(b"t")
    stop = threading.Event()

    def publish(sock: zmq.Socket[bytes], _: list[list[bytes]]) -> None:
        while not stop.is_set():
            sock.send_multipart([b"t", b"from libzmq"])
            sock.send_multipart([b"x", b"filtered"])
            stop.wait(0.01)

    def receive(sock: zmq.Socket[bytes], seen: list[list[bytes]]) -> None:
        seen.append(sock.recv_multipart())

    async def scenario(factory: ZmqFactory) -> list[Any]:
        inbox = Inbox()
        sub = ZmqSubConnection(factory, callback=inbox)
        sub.subscribe(b"t")
        place(sub, publisher, side, "tcp", tmp_path)
        publisher.start(publish)
        got = await inbox.wait(1)
        stop.set()
        pub = ZmqPubConnection(factory)
        place(pub, subscriber, side, "ipc", tmp_path)
        subscriber.start(receive)
        while subscriber._thread is not None and subscriber._thread.is_alive():
            await pub.send([b"x", b"filtered"])
            await pub.send([b"t", b"from zmtp"])
            await deferLater(factory.reactor, 0.01, lambda: None)
        return got

    got = run("select", scenario)
    publisher.join()
    assert got[0] == [b"t", b"from libzmq"]
    assert subscriber.join() == [[b"t", b"from zmtp"]]


def test_router_routes_to_libzmq_dealers_by_identity(
    context: zmq.Context[zmq.Socket[bytes]], tmp_path: Path
) -> None:
    dealers = [Peer(context, zmq.DEALER) for _ in range(3)]
    for index, dealer in enumerate(dealers):
        dealer.socket.identity = b"d%d" % index

    def hello_then_answer(sock: zmq.Socket[bytes], seen: list[list[bytes]]) -> None:
        sock.send_multipart([b"hello"])
        seen.append(sock.recv_multipart())

    async def scenario(factory: ZmqFactory) -> list[Any]:
        inbox = Inbox()
        router = ZmqRouterConnection(factory, callback=inbox)
        router.bind(f"ipc://{tmp_path}/router")
        for dealer in dealers:
            dealer.socket.connect(router.last_endpoint.decode())
            dealer.start(hello_then_answer)
        hellos = await inbox.wait(3)
        for identity, _ in hellos:
            await router.send([identity, b"for " + identity])
        router.linger = 2000
        await router.shutdown()
        return hellos

    hellos = run("poll", scenario)
    assert sorted(identity for identity, _ in hellos) == [b"d0", b"d1", b"d2"]
    for index, dealer in enumerate(dealers):
        assert dealer.join() == [[b"for d%d" % index]]


def test_reactor_shutdown_delivers_pending_messages_to_libzmq(
    context: zmq.Context[zmq.Socket[bytes]],
) -> None:
    """Messages still queued when the reactor stops reach the peer (registerForShutdown)."""
    pull = context.socket(zmq.PULL)
    pull.linger = 0
    pull.rcvtimeo = TIMEOUT_MS
    pull.bind("tcp://127.0.0.1:*")
    endpoint = pull.getsockopt_string(zmq.LAST_ENDPOINT)
    reactor = make_reactor("epoll")
    factory = ZmqFactory(reactor=reactor)
    factory.registerForShutdown()
    push = ZmqPushConnection(factory)
    push.linger = 5000

    def send_then_stop() -> None:
        push.connect(endpoint)
        for i in range(1000):  # all queued before the connection is even made
            push.send(b"%d" % i)
        reactor.stop()

    reactor.callWhenRunning(send_then_stop)
    bound = reactor.callLater(10, reactor.crash)
    reactor.run(installSignalHandlers=False)
    stopped_in_time = bound.active()
    if stopped_in_time:
        bound.cancel()
    close_reactor(reactor, "epoll")
    assert stopped_in_time
    assert [pull.recv() for _ in range(1000)] == [b"%d" % i for i in range(1000)]
    pull.close()


@pytest.mark.parametrize("side", SIDES)
def test_curve_between_twisted_server_and_libzmq_client(
    context: zmq.Context[zmq.Socket[bytes]], side: str, tmp_path: Path
) -> None:
    server_public, server_secret = zmq.curve_keypair()
    client_public, client_secret = zmq.curve_keypair()
    peer = Peer(context, zmq.PUSH)
    peer.socket.curve_serverkey = server_public
    peer.socket.curve_publickey = client_public
    peer.socket.curve_secretkey = client_secret

    async def scenario(factory: ZmqFactory) -> list[Any]:
        inbox = Inbox()
        pull = ZmqPullConnection(factory, callback=inbox)
        pull.curve_server = 1
        pull.curve_secretkey = server_secret
        place(pull, peer, side, "tcp", tmp_path)
        peer.start(lambda sock, _: sock.send_multipart([b"sealed", b"box"]))
        return await inbox.wait(1)

    assert run("select", scenario) == [[b"sealed", b"box"]]
    peer.join()
