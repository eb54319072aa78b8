"""zmtp.twisted programs against a real txZMQ 1.0 program on pyzmq (a subprocess), both ways.

The peer (txzmq_peer.py) is an ordinary txZMQ program: its own reactor, libzmq underneath. It
prints ``ready <endpoint>`` and one ``got`` line per message, and exits by itself; every wait
on it here is bounded.
"""

from __future__ import annotations

import selectors
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from reactor_support import Inbox, run
from twisted.internet.task import deferLater

from zmtp.twisted import ZmqFactory, ZmqReqConnection
from zmtp.twisted.txzmq import (
    ZmqEndpoint,
    ZmqPubConnection,
    ZmqREPConnection,
    ZmqREQConnection,
    ZmqSubConnection,
)

pytest.importorskip("txzmq", reason="the txZMQ 1.0 peer needs txZMQ (test extra)")

PEER = Path(__file__).with_name("txzmq_peer.py")
COUNT = 20
BOUND = 15.0


class TxzmqPeer:
    """The txZMQ program in a subprocess."""

    def __init__(self, role: str, endpoint: str, count: int = COUNT) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(PEER), role, endpoint, str(count)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def ready(self) -> str:
        """Wait (bounded) for the peer's ``ready`` line; return the endpoint it reports."""
        assert self.process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            if not selector.select(timeout=BOUND):
                self.process.kill()
                raise AssertionError("the txZMQ peer did not get ready")
        line = self.process.stdout.readline().split()
        assert line and line[0] == "ready", f"unexpected peer output {line!r}"
        return line[1]

    def finished(self) -> bool:
        return self.process.poll() is not None

    def result(self) -> list[str]:
        """Wait (bounded) for the peer to exit; return its ``got`` lines, checking it succeeded."""
        try:
            out, err = self.process.communicate(timeout=BOUND)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.communicate()
            raise AssertionError("the txZMQ peer did not finish") from None
        assert self.process.returncode == 0, f"txZMQ peer failed:\n{out}\n{err}"
        return [line[4:] for line in out.splitlines() if line.startswith("got ")]


async def until_finished(factory: ZmqFactory, peer: TxzmqPeer) -> None:
    deadline = time.monotonic() + BOUND
    while not peer.finished() and time.monotonic() < deadline:
        await deferLater(factory.reactor, 0.02, lambda: None)


@pytest.mark.parametrize("client", [ZmqREQConnection, ZmqReqConnection])
def test_zmtp_requests_are_served_by_a_txzmq_rep(client: Any) -> None:
    """txZMQ-style (DEALER + uuid) and real REQ (with REQ_CORRELATE) both get their replies."""
    peer = TxzmqPeer("rep", "tcp://127.0.0.1:*")
    endpoint = peer.ready()

    async def scenario(factory: ZmqFactory) -> list[Any]:
        requester = client(factory)
        requester.connect(endpoint)
        replies = []
        for index in range(COUNT):
            parts = [b"q", str(index).encode()]
            if isinstance(requester, ZmqREQConnection):
                replies.append(await requester.sendMsg(*parts, timeout=5))
            else:
                replies.append(await requester.request(parts, timeout=5))
        return replies

    replies = run("select", scenario, bound=BOUND)
    assert replies == [[b"txzmq", b"q", str(i).encode()] for i in range(COUNT)]
    assert len(peer.result()) == COUNT


def test_txzmq_requests_are_served_by_zmtp(tmp_path: Path) -> None:
    endpoint = f"ipc://{tmp_path}/rep"
    answered = Inbox()

    class Echo(ZmqREPConnection):
        def gotMessage(self, messageId: bytes, *messageParts: bytes) -> None:
            self.reply(messageId, b"zmtp", *messageParts)
            answered(messageParts)

    async def scenario(factory: ZmqFactory) -> None:
        rep = Echo(factory, ZmqEndpoint("bind", endpoint))
        rep.linger = 2000
        peer.ready()
        await answered.wait(COUNT)
        await until_finished(factory, peer)
        await rep.shutdown()

    peer = TxzmqPeer("req", endpoint)
    run("poll", scenario, bound=BOUND)
    assert peer.result() == [repr([b"zmtp", b"q", str(i).encode()]) for i in range(COUNT)]


def test_txzmq_publisher_reaches_a_zmtp_subscriber() -> None:
    peer = TxzmqPeer("pub", "tcp://127.0.0.1:*", count=1_000_000)
    endpoint = peer.ready()
    inbox = Inbox()

    class Listener(ZmqSubConnection):
        def gotMessage(self, message: bytes, tag: bytes) -> None:
            inbox((tag, message))

    async def scenario(factory: ZmqFactory) -> list[Any]:
        sub = Listener(factory, ZmqEndpoint("connect", endpoint))
        sub.subscribe(b"news")
        return await inbox.wait(3)

    try:
        got = run("epoll", scenario, bound=BOUND)
    finally:
        peer.process.kill()
        peer.process.communicate()
    assert got == [(b"news", b"from txzmq")] * 3


def test_zmtp_publisher_reaches_a_txzmq_subscriber(tmp_path: Path) -> None:
    endpoint = f"ipc://{tmp_path}/pub"

    async def scenario(factory: ZmqFactory) -> None:
        pub = ZmqPubConnection(factory, ZmqEndpoint("bind", endpoint))
        peer.ready()
        deadline = time.monotonic() + BOUND
        while not peer.finished() and time.monotonic() < deadline:
            await pub.publish(b"filtered", b"sport")
            await pub.publish(b"from zmtp", b"news")
            await deferLater(factory.reactor, 0.01, lambda: None)

    peer = TxzmqPeer("sub", endpoint, count=3)
    run("asyncio", scenario, bound=BOUND + 1)
    lines = peer.result()
    assert len(lines) >= 3
    assert set(lines) == {repr((b"news", b"from zmtp"))}
