"""A real txZMQ 1.0 program on pyzmq/libzmq, the peer of test_txzmq_interop.py.

Run as ``python txzmq_peer.py ROLE ENDPOINT COUNT``. It binds (``rep``, ``pub``) or connects
(``req``, ``sub``) with txZMQ's own classes, prints ``ready <last endpoint>`` once set up,
prints one ``got ...`` line per message it sees, and exits 0 after COUNT messages (or 1 after
its own 10 s bound), so the test never waits on it unbounded.
"""

from __future__ import annotations

import sys

import zmq
from twisted.internet import reactor
from txzmq import (
    ZmqEndpoint,
    ZmqFactory,
    ZmqPubConnection,
    ZmqREPConnection,
    ZmqREQConnection,
    ZmqSubConnection,
)

role, endpoint, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
factory = ZmqFactory()
factory.registerForShutdown()
seen: list[str] = []


def report(line: str) -> None:
    print(f"got {line}", flush=True)
    seen.append(line)
    if len(seen) == count:
        reactor.callLater(0.2, reactor.stop)  # let the last reply leave


def last_endpoint(connection: object) -> str:
    return connection.socket.getsockopt(zmq.LAST_ENDPOINT).decode()  # type: ignore[attr-defined]


class Echo(ZmqREPConnection):
    def gotMessage(self, messageId: bytes, *messageParts: bytes) -> None:
        self.reply(messageId, b"txzmq", *messageParts)
        report(repr(list(messageParts)))


class Listener(ZmqSubConnection):
    def gotMessage(self, message: bytes, tag: bytes) -> None:
        report(repr((tag, message)))


if role == "rep":
    server = Echo(factory, ZmqEndpoint("bind", endpoint))
    print(f"ready {last_endpoint(server)}", flush=True)
elif role == "pub":
    publisher = ZmqPubConnection(factory, ZmqEndpoint("bind", endpoint))
    print(f"ready {last_endpoint(publisher)}", flush=True)

    def publish() -> None:
        publisher.publish(b"from txzmq", b"news")
        publisher.publish(b"filtered", b"sport")
        reactor.callLater(0.01, publish)

    publish()
elif role == "req":
    client = ZmqREQConnection(factory, ZmqEndpoint("connect", endpoint))
    print(f"ready {endpoint}", flush=True)
    for index in range(count):
        reply = client.sendMsg(b"q", str(index).encode(), timeout=5)
        reply.addCallback(lambda parts: report(repr(parts)))
elif role == "sub":
    subscriber = Listener(factory, ZmqEndpoint("connect", endpoint))
    subscriber.subscribe(b"news")
    print(f"ready {endpoint}", flush=True)
else:
    raise SystemExit(f"unknown role {role!r}")

reactor.callLater(10, lambda: (print("timeout", flush=True), reactor.stop()))
reactor.run()
sys.exit(0 if len(seen) >= count else 1)
