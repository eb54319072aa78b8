"""Live demo: zmtp talking ZMTP 3.1 to libzmq, first byte by byte, then as real sockets.

Run ``python -m zmtp.demo``. With pyzmq installed (the test extra brings it) the peers are real
libzmq; without it, zmtp plays every part. Parts 1 and 2 drive the sans-IO core by hand and print
every byte that crosses the wire as the dissector reads it; part 3 is a broker built with the
pyzmq-style API, with zmtp and libzmq clients and workers on either side.

The driver here is deliberately tiny (a blocking socket and a deadline): the point is the core.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import zmtp
from zmtp.connection import Connection, ConnectionOptions
from zmtp.constants import SocketType
from zmtp.dissect import Dissector
from zmtp.events import Event, HandshakeComplete, MessagesReceived, SubscribeReceived

_TIMEOUT = 5.0


class _Transcript:
    """Print both directions of one connection through a dissector each."""

    def __init__(self, ours: str, theirs: str) -> None:
        self._out = Dissector()
        self._in = Dissector()
        self._ours = ours
        self._theirs = theirs

    def sent(self, data: bytes) -> None:
        for line in self._out.feed(data):
            print(f"  {self._ours:>6} -> {line}")

    def received(self, data: bytes) -> None:
        for line in self._in.feed(data):
            print(f"  {self._theirs:>6} -> {line}")


def _drive(
    conn: Connection,
    sock: socket.socket,
    transcript: _Transcript,
    until: Callable[[list[Event]], bool],
    poke: Callable[[], None] = lambda: None,
) -> list[Event]:
    """Pump bytes between ``conn`` and ``sock`` until ``until(events)`` or the deadline."""
    deadline = time.monotonic() + _TIMEOUT
    seen: list[Event] = []
    sock.settimeout(0.02)
    while time.monotonic() < deadline:
        out = conn.data_to_send()
        if out:
            transcript.sent(out)
            sock.sendall(out)
        seen += conn.events()
        if until(seen):
            return seen
        poke()
        try:
            data = sock.recv(65536)
        except TimeoutError:
            data = None
        now = time.monotonic()
        if data is not None:
            transcript.received(data)
            conn.receive_data(data, now)
        timer = conn.get_timer()
        if timer is not None and now >= timer:
            conn.handle_timer(now)
    raise TimeoutError(f"demo peer did not answer within {_TIMEOUT} s; events so far: {seen}")


def _has(kind: type) -> Callable[[list[Event]], bool]:
    return lambda events: any(isinstance(event, kind) for event in events)


def _dealer_to_router(zmq: Any) -> None:
    print("\n1. zmtp DEALER connects to a libzmq ROUTER and asks it something")
    ctx = zmq.Context.instance()
    router = ctx.socket(zmq.ROUTER)
    router.linger = 0
    port = router.bind_to_random_port("tcp://127.0.0.1")
    sock = socket.create_connection(("127.0.0.1", port))
    conn = Connection(
        ConnectionOptions(SocketType.DEALER, routing_id=b"demo", heartbeat_interval=0.2)
    )
    conn.start(time.monotonic())
    transcript = _Transcript("zmtp", "libzmq")
    _drive(conn, sock, transcript, _has(HandshakeComplete))
    conn.send_message([b"", b"What is 6 x 7?"])
    _drive(conn, sock, transcript, lambda _: router.poll(0) != 0)
    identity, _, question = router.recv_multipart()
    print(f"  libzmq ROUTER got {question!r} from routing id {identity!r}")
    router.send_multipart([identity, b"", b"42"])
    events = _drive(conn, sock, transcript, _has(MessagesReceived))
    replies = [m for e in events if isinstance(e, MessagesReceived) for m in e.messages]
    print(f"  zmtp got {replies}")
    print("  (idle for a moment: zmtp heartbeats, libzmq answers PING with PONG)")
    pinged_at = time.monotonic()
    _drive(conn, sock, transcript, lambda _: time.monotonic() - pinged_at > 0.25)
    sock.close()
    router.close()


def _sub_to_pub(zmq: Any) -> None:
    print("\n2. a libzmq SUB connects to a zmtp PUB and subscribes")
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    ctx = zmq.Context.instance()
    sub = ctx.socket(zmq.SUB)
    sub.linger = 0
    sub.subscribe(b"weather.")
    sub.connect(f"tcp://127.0.0.1:{port}")
    sock, _ = listener.accept()
    listener.close()
    conn = Connection(ConnectionOptions(SocketType.PUB))
    conn.start(time.monotonic())
    transcript = _Transcript("zmtp", "libzmq")
    # libzmq attaches a new pipe lazily: poking the SUB makes it send its subscription.
    _drive(conn, sock, transcript, _has(SubscribeReceived), poke=lambda: sub.poll(0) and None)
    conn.send_message([b"weather.paris", b"sunny, 21 C"])
    _drive(conn, sock, transcript, lambda _: sub.poll(0) != 0)
    print(f"  libzmq SUB got {sub.recv_multipart()}")
    sock.close()
    sub.close()


def _broker(zmq: Any | None) -> None:
    print("\n3. a zmtp ROUTER/DEALER broker between REQ clients and REP workers")
    ctx = zmtp.Context()
    frontend = ctx.socket(zmtp.ROUTER)
    frontend.bind("tcp://127.0.0.1:*")
    backend = ctx.socket(zmtp.DEALER)
    backend.bind("tcp://127.0.0.1:*")
    peers: list[tuple[str, Any]] = [("zmtp", ctx)]
    if zmq is not None:
        peers.append(("libzmq", zmq.Context.instance()))

    def worker(name: str, context: Any, kind: Any) -> None:
        with context.socket(kind.REP) as rep:
            rep.linger = 0
            rep.rcvtimeo = int(_TIMEOUT * 1000)
            rep.connect(backend.last_endpoint)
            for _ in range(len(peers)):
                request = rep.recv()
                rep.send(f"{name} worker: {request.decode().upper()}".encode())

    def client(name: str, context: Any, kind: Any, answers: list[str]) -> None:
        with context.socket(kind.REQ) as req:
            req.linger = 0
            req.rcvtimeo = int(_TIMEOUT * 1000)
            req.connect(frontend.last_endpoint)
            for number in range(len(peers)):
                req.send(f"request {number} from {name} client".encode())
                answers.append(f"  {name} client got {req.recv().decode()!r}")

    modules: dict[str, Any] = {"zmtp": zmtp, "libzmq": zmq}
    answers: list[str] = []
    # Start the clients only once every worker is connected, so that the backend DEALER's
    # round-robin gives each worker its share: the monitor says when each handshake is done.
    monitor = backend.get_monitor_socket(zmtp.EVENT_HANDSHAKE_SUCCEEDED)
    monitor.rcvtimeo = int(_TIMEOUT * 1000)
    workers = [
        threading.Thread(target=worker, args=(name, context, modules[name]))
        for name, context in peers
    ]
    for thread in workers:
        thread.start()
    for _ in workers:
        monitor.recv_multipart()
    monitor.close(linger=0)
    clients = [
        threading.Thread(target=client, args=(name, context, modules[name], answers))
        for name, context in peers
    ]
    for thread in clients:
        thread.start()
    threads = workers + clients
    poller = zmtp.Poller()
    poller.register(frontend, zmtp.POLLIN)
    poller.register(backend, zmtp.POLLIN)
    expected = len(peers) * len(peers)
    forwarded = 0
    deadline = time.monotonic() + _TIMEOUT
    while forwarded < expected and time.monotonic() < deadline:
        for sock, _ in poller.poll(100):
            if sock is frontend:
                backend.send_multipart(frontend.recv_multipart())
            else:
                frontend.send_multipart(backend.recv_multipart())
                forwarded += 1
    for thread in threads:
        thread.join(_TIMEOUT)
    print("\n".join(sorted(answers)))
    frontend.close(linger=0)
    backend.close(linger=0)
    ctx.term()


def _zmtp_only() -> None:
    print("\npyzmq is not installed: a zmtp ROUTER plays the peer, in memory")
    client = Connection(ConnectionOptions(SocketType.DEALER, routing_id=b"demo"))
    server = Connection(ConnectionOptions(SocketType.ROUTER))
    transcript = _Transcript("zmtp", "peer")
    now = time.monotonic()
    client.start(now)
    server.start(now)

    def shuttle() -> None:
        while True:
            request, reply = client.data_to_send(), server.data_to_send()
            if not request and not reply:
                return
            if request:
                transcript.sent(request)
                server.receive_data(request, now)
            if reply:
                transcript.received(reply)
                client.receive_data(reply, now)

    shuttle()
    client.send_message([b"", b"What is 6 x 7?"])
    shuttle()
    received = [e for e in server.events() if isinstance(e, MessagesReceived)]
    envelope = received[0].messages[0][0]
    server.send_message([envelope, b"42"])
    shuttle()
    answers = [m for e in client.events() if isinstance(e, MessagesReceived) for m in e.messages]
    print(f"  zmtp got {answers}")


def main() -> None:
    """Run the demo against libzmq when pyzmq is importable, else against zmtp itself."""
    print("zmtp demo: every line is one greeting part, command or message on the wire")
    try:
        import zmq  # noqa: PLC0415  (optional: only the demo's peer)
    except ImportError:
        _zmtp_only()
        _broker(None)
        return
    print(f"peer: libzmq {zmq.zmq_version()} through pyzmq {zmq.__version__}")
    _dealer_to_router(zmq)
    _sub_to_pub(zmq)
    _broker(zmq)
    zmq.Context.instance().term()


if __name__ == "__main__":
    main()
