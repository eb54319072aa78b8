"""Read lending: a thread blocked in ``recv()`` reads its tcp/ipc connections itself.

Why these tests exist: zmtp.engine.lending moves the reading of a connection from the I/O
thread to the application thread while that thread blocks in ``recv()``, and gives it back
when the thread stops (IDLE_CHECK), when the socket is polled another way (poll, Poller,
EVENTS), and when the connection closes. Each of those hand-overs is a place where a message,
a heartbeat, a wake-up or the end of a connection could be left unread in the kernel with
nobody polling it. The tests below make each hand-over happen on purpose and check that
nothing is lost, nothing hangs and nothing spins, against zmtp and libzmq (pyzmq) peers.

Where a test is about one way of taking a connection back, IDLE_CHECK is made huge, so that
the idle check cannot rescue a broken path and hide it. Every wait is bounded: RCVTIMEO,
poll timeouts, joins with a timeout, and :func:`wait_until` (a condition with a deadline).
"""

from __future__ import annotations

import asyncio
import errno
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import zmq
import zmq.utils.monitor
from api_support import Worker, socket_maker

import zmtp
import zmtp.asyncio
import zmtp.engine.stream as stream_module
from zmtp.connection import Connection, ConnectionOptions
from zmtp.constants import SocketType
from zmtp.engine.lending import ReadLending
from zmtp.engine.stream import StreamProtocol
from zmtp.monitor import recv_monitor_message

WAIT = 5000  # ms: the bound on anything that should happen
WAIT_S = WAIT / 1000
NEVER = 3600.0  # s: an IDLE_CHECK that never comes within a test

Maker = Callable[..., zmtp.Socket]
ZSocket = zmq.Socket[bytes]
ZMaker = Callable[..., ZSocket]


# -- fixtures and helpers ---------------------------------------------------------------------


@pytest.fixture
def zctx() -> Iterator[zmq.Context[ZSocket]]:
    context: zmq.Context[ZSocket] = zmq.Context()
    yield context
    context.destroy(linger=0)


@pytest.fixture
def make(ctx: zmtp.Context) -> Maker:
    """Create zmtp sockets with LINGER 0 and bounded waits; the ctx fixture closes them."""
    return socket_maker(ctx, zmtp.Socket)


@pytest.fixture
def zmake(zctx: zmq.Context[ZSocket]) -> ZMaker:
    """Create pyzmq sockets with LINGER 0 and bounded waits; the zctx fixture closes them."""

    def make(kind: int) -> ZSocket:
        sock: ZSocket = zctx.socket(kind)
        sock.linger = 0
        sock.rcvtimeo = WAIT
        sock.sndtimeo = WAIT
        return sock

    return make


@pytest.fixture
def no_idle_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lent connections are never taken back for being idle: only the path under test can."""
    monkeypatch.setattr(stream_module, "IDLE_CHECK", NEVER)


def endpoint(transport: str, tmp_path: Path, name: str = "lend") -> str:
    if transport == "tcp":
        return "tcp://127.0.0.1:*"
    return f"ipc://{tmp_path}/{name}"


def bind(sock: zmtp.Socket, addr: str) -> str:
    """Bind and return the resolved endpoint (the real port for tcp://...:*)."""
    sock.bind(addr)
    return sock.getsockopt_string(zmtp.LAST_ENDPOINT)


def wait_until(condition: Callable[[], object], timeout: float = WAIT_S) -> bool:
    """Check ``condition`` until it holds (True) or ``timeout`` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.001)
    return True


def lent(sock: zmtp.Socket) -> int:
    """How many of the socket's connections are lent to an application thread now."""
    with sock._lock:
        return len(sock._engine.lending.lent)


def handshakes_done(sock: zmtp.Socket) -> int:
    """How many of the connections the socket accepted have finished their handshake."""
    with sock._lock:
        return sum(
            protocol.session is not None and protocol.session.handshake_complete
            for binding in sock._engine._bindings.values()
            for protocol in binding.protocols
        )


def polling(sock: zmtp.Socket) -> bool:
    """Whether a thread is waiting on the socket's lent descriptors now."""
    with sock._lock:
        return sock._engine.lending.polling


def unchecked(sock: zmtp.Socket) -> bool:
    """Whether the idle checks of the socket's lent connections are paused for a long wait."""
    with sock._lock:
        return sock._engine.lending.unchecked


def waiting(sock: zmtp.Socket) -> bool:
    """Whether a thread is blocked in the socket (on its condition or its lent descriptors)."""
    with sock._lock:
        return sock._handle.waiter is not None


def lend(sock: zmtp.Socket, send: Callable[[bytes], object], body: bytes = b"lend") -> None:
    """Get a connection of ``sock`` lent: block a thread in recv(), then have the peer send.

    The I/O thread lends a connection right after a read made while a thread waits in recv().
    ``send`` makes the peer send one message of one frame.
    """
    for _ in range(5):
        receiver = Worker(sock.recv)
        assert wait_until(lambda: waiting(sock)), "recv() did not block"
        send(body)
        assert receiver.result() == body
        if lent(sock):
            return
    pytest.fail("no connection was lent to a thread blocked in recv()")


class Calls:
    """Count calls of a method, per calling thread, by wrapping it on its class."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, cls: type, name: str) -> None:
        self.by_thread: dict[int, int] = {}
        self.hits: dict[int, int] = {}
        original = getattr(cls, name)
        counts = self.by_thread
        hits = self.hits

        def counted(*args: Any, **kwargs: Any) -> Any:
            me = threading.get_ident()
            counts[me] = counts.get(me, 0) + 1
            result = original(*args, **kwargs)
            if result:
                hits[me] = hits.get(me, 0) + 1
            return result

        monkeypatch.setattr(cls, name, counted)


def rebind(bind_once: Callable[[], object]) -> None:
    """Bind again at an address just released, retrying while the port is still taken."""
    deadline = time.monotonic() + WAIT_S
    while True:
        try:
            bind_once()
            return
        except (zmq.ZMQError, zmtp.ZMQError) as exc:
            if exc.errno != errno.EADDRINUSE or time.monotonic() >= deadline:
                raise
        time.sleep(0.01)


def drain_events(monitor: Any, parse: Callable[[Any], dict[str, Any]]) -> list[int]:
    """Every monitor event queued now (without waiting for more)."""
    events: list[int] = []
    while True:
        try:
            events.append(int(parse(monitor)["event"]))
        except (zmq.Again, zmtp.Again):
            return events


# -- lending is used, with zmtp and libzmq peers ----------------------------------------------


ROUNDS = 2000


def payload(n: int) -> bytes:
    """Round trip ``n``'s request: mostly small, now and then larger than one read."""
    size = 200_000 if n % 250 == 7 else n % 64
    return n.to_bytes(4, "big") + bytes([n % 251]) * size


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_req_rep_round_trips_read_in_the_receiving_thread(
    make: Maker, tmp_path: Path, transport: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fast path is really taken: REQ's connection is lent, REQ's thread reads it."""
    reads = Calls(monkeypatch, StreamProtocol, "read_lent")
    rep = make(zmtp.REP)
    req = make(zmtp.REQ)
    req.connect(bind(rep, endpoint(transport, tmp_path)))

    def serve() -> int:
        served = 0
        for _ in range(ROUNDS):
            rep.send(b"re:" + rep.recv())
            served += 1
        return served

    server = Worker(serve)
    lent_after_recv = 0
    for n in range(ROUNDS):
        request = payload(n)
        req.send(request)
        assert req.recv() == b"re:" + request
        lent_after_recv += lent(req) > 0
    assert server.result() == ROUNDS
    me = threading.get_ident()
    # Lending stops only when the thread is idle for IDLE_CHECK: between round trips it is not.
    # (Typically every round trip but the first is lent; a quarter leaves room for a loaded
    # machine, and without lending the count is 0.)
    assert lent_after_recv >= ROUNDS // 4, f"lent after only {lent_after_recv} of {ROUNDS} recvs"
    assert reads.hits.get(me, 0) >= ROUNDS // 4, "REQ's thread did not read its replies itself"
    assert reads.hits.get(server.thread.ident or 0, 0) >= ROUNDS // 4, "nor REP's its requests"


PYZMQ_ROUNDS = 500


def test_zmtp_req_with_a_libzmq_rep(
    make: Maker, zmake: ZMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = Calls(monkeypatch, StreamProtocol, "read_lent")
    rep = zmake(zmq.REP)
    port = rep.bind_to_random_port("tcp://127.0.0.1")
    req = make(zmtp.REQ)
    req.connect(f"tcp://127.0.0.1:{port}")

    def serve() -> None:
        for _ in range(PYZMQ_ROUNDS):
            rep.send(b"re:" + rep.recv())

    server = Worker(serve)
    lent_after_recv = 0
    for n in range(PYZMQ_ROUNDS):
        request = payload(n)
        req.send(request)
        assert req.recv() == b"re:" + request
        lent_after_recv += lent(req) > 0
    server.result()
    assert lent_after_recv >= PYZMQ_ROUNDS // 4
    assert reads.hits.get(threading.get_ident(), 0) >= PYZMQ_ROUNDS // 4


def test_libzmq_req_with_a_zmtp_rep(
    make: Maker, zmake: ZMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = Calls(monkeypatch, StreamProtocol, "read_lent")
    rep = make(zmtp.REP)
    req = zmake(zmq.REQ)
    req.connect(bind(rep, "tcp://127.0.0.1:*"))

    def ask() -> list[bytes]:
        replies = []
        for n in range(PYZMQ_ROUNDS):
            req.send(payload(n))
            replies.append(req.recv())
        return replies

    client = Worker(ask)
    lent_after_recv = 0
    for _ in range(PYZMQ_ROUNDS):
        request = rep.recv()
        lent_after_recv += lent(rep) > 0
        rep.send(b"re:" + request)
    assert client.result() == [b"re:" + payload(n) for n in range(PYZMQ_ROUNDS)]
    assert lent_after_recv >= PYZMQ_ROUNDS // 4
    assert reads.hits.get(threading.get_ident(), 0) >= PYZMQ_ROUNDS // 4


# -- taking connections back ------------------------------------------------------------------


@pytest.fixture
def pipeline(make: Maker) -> tuple[zmtp.Socket, zmtp.Socket]:
    """A PULL bound over tcp, and a PUSH connected to it (zmtp both)."""
    pull = make(zmtp.PULL)
    push = make(zmtp.PUSH)
    push.connect(bind(pull, "tcp://127.0.0.1:*"))
    return pull, push


def test_a_connection_lent_mid_message_wakes_the_thread_waiting_on_the_condition(
    make: Maker, no_idle_check: None
) -> None:
    """A connection lent after a read that completed no message still gets read.

    The thread blocked in recv() waits on the socket's condition until something is lent.
    A read that ends inside a body delivers nothing, so the lending itself must wake that
    thread; before it did, the rest of the message waited for the idle check (12 ms per
    1 MiB message over ipc, and forever here, where the idle check never comes). The peer
    is a zmtp Connection over a plain socket, so the test decides where the bytes split.
    """
    pull = make(zmtp.PULL)
    host, port = bind(pull, "tcp://127.0.0.1:*").removeprefix("tcp://").rsplit(":", 1)
    peer = Connection(ConnectionOptions(SocketType.PUSH))
    with socket.create_connection((host, int(port)), timeout=WAIT_S) as raw:
        peer.start(time.monotonic())
        while not peer.handshake_complete:
            raw.sendall(peer.data_to_send())
            peer.receive_data(raw.recv(4096), time.monotonic())
        raw.sendall(peer.data_to_send())
        # The handshake ends before the thread waits, or its notification would wake it.
        assert wait_until(lambda: handshakes_done(pull) == 1)
        receiver = Worker(pull.recv)
        assert wait_until(lambda: waiting(pull)), "recv() did not block"
        peer.send_message([b"x" * 100_000])
        wire = peer.data_to_send()
        raw.sendall(wire[:50_000])
        assert wait_until(lambda: lent(pull) == 1), "the half message was not read and lent"
        raw.sendall(wire[50_000:])
        assert receiver.result() == b"x" * 100_000


def test_the_end_of_a_long_wait_restarts_the_idle_checks(
    pipeline: tuple[zmtp.Socket, zmtp.Socket],
) -> None:
    """Checks pause while a thread stays blocked on a lent connection; its wait's end resumes them.

    Otherwise a thread that stops receiving right after a long wait would leave its
    connection lent, and unread, for good (a peer's PING never answered).
    """
    pull, push = pipeline
    lend(pull, push.send)
    receiver = Worker(pull.recv)
    assert wait_until(lambda: polling(pull)), "recv() did not wait on the lent connection"
    # Let the idle checks find the thread blocked, and pause: with the lock held, a check
    # that ran has recorded it.
    assert wait_until(lambda: unchecked(pull)), "the idle checks did not pause"
    push.send(b"late")
    assert receiver.result() == b"late"
    assert wait_until(lambda: lent(pull) == 0), "the checks did not resume: still lent"


def test_recv_with_rcvtimeo_zero_reads_a_lent_connection(
    pipeline: tuple[zmtp.Socket, zmtp.Socket], no_idle_check: None
) -> None:
    """RCVTIMEO 0 is a non-blocking receive: it reads lent connections and asks for none.

    Before, it asked the I/O thread to lend a connection and gave up at once, leaving the
    connection lent to nobody: each message then waited for the idle check (here: forever).
    """
    pull, push = pipeline
    pull.rcvtimeo = 0
    got: list[bytes] = []
    deadline = time.monotonic() + WAIT_S
    for body in (b"one", b"two", b"three"):
        push.send(body)
        while time.monotonic() < deadline:
            try:
                got.append(pull.recv())
                break
            except zmtp.Again:
                time.sleep(0.001)
    assert got == [b"one", b"two", b"three"]
    assert lent(pull) == 0  # nobody blocked, so nothing was lent


def test_an_asyncio_shadow_takes_back_a_lent_connection(
    pipeline: tuple[zmtp.Socket, zmtp.Socket], no_idle_check: None
) -> None:
    """A zmtp.asyncio view waits on the socket's wake-ups, which only the I/O thread makes."""
    pull, push = pipeline
    lend(pull, push.send)

    async def receive() -> bytes:
        view = zmtp.asyncio.Socket.shadow(pull)
        pending = view.recv()
        push.send(b"async")
        received: bytes = await asyncio.wait_for(pending, WAIT_S)
        return received

    assert asyncio.run(receive()) == b"async"
    assert lent(pull) == 0


def test_idle_connection_is_taken_back_and_read_by_the_io_thread(
    pipeline: tuple[zmtp.Socket, zmtp.Socket],
) -> None:
    """Nobody calls recv(): within IDLE_CHECKs the I/O thread reads the connection again."""
    pull, push = pipeline
    fd = pull.fd
    lend(pull, push.send)
    assert wait_until(lambda: lent(pull) == 0), "an idle lent connection was never taken back"
    pull.getsockopt(zmtp.EVENTS)  # resets the FD: only what arrives from now on signals it
    push.send(b"after")
    # No call on the socket in between: only the I/O thread reading it can signal the FD.
    assert wait_until(lambda: select.select([fd], [], [], 0)[0]), "the I/O thread did not read"
    assert pull.poll(WAIT) == zmtp.POLLIN
    assert pull.recv(zmtp.NOBLOCK) == b"after"


def socket_poll(sock: zmtp.Socket) -> int:
    """Wait with Socket.poll(); return the events it reports."""
    return sock.poll(WAIT)


def poller_poll(sock: zmtp.Socket) -> int:
    """Wait with a zmtp.Poller holding only ``sock``; return the events it reports."""
    poller = zmtp.Poller()
    poller.register(sock, zmtp.POLLIN)
    return dict(poller.poll(WAIT)).get(sock, 0)


@pytest.mark.parametrize("wait", [socket_poll, poller_poll], ids=["poll", "Poller"])
def test_polling_takes_back_a_lent_connection(
    pipeline: tuple[zmtp.Socket, zmtp.Socket],
    no_idle_check: None,
    wait: Callable[[zmtp.Socket], int],
) -> None:
    pull, push = pipeline
    lend(pull, push.send)
    push.send(b"first")  # in the kernel of a lent connection, or about to be
    assert wait(pull) == zmtp.POLLIN
    assert pull.recv(zmtp.NOBLOCK) == b"first"
    # Polling started while lent, the message sent afterwards: only the I/O thread can see it.
    lend(pull, push.send)
    waiter = Worker(wait, pull)
    assert wait_until(lambda: lent(pull) == 0), "polling left the connection lent"
    push.send(b"second")
    assert waiter.result() == zmtp.POLLIN
    assert pull.recv(zmtp.NOBLOCK) == b"second"


def test_events_sees_a_message_on_a_lent_connection(
    pipeline: tuple[zmtp.Socket, zmtp.Socket], no_idle_check: None
) -> None:
    pull, push = pipeline
    lend(pull, push.send)
    assert not pull.getsockopt(zmtp.EVENTS) & zmtp.POLLIN
    push.send(b"first")
    assert wait_until(lambda: pull.getsockopt(zmtp.EVENTS) & zmtp.POLLIN)
    assert pull.recv(zmtp.NOBLOCK) == b"first"
    # EVENTS handed the connection back to the I/O thread: the FD signals what comes next.
    assert wait_until(lambda: lent(pull) == 0), "EVENTS left the connection lent"
    fd = pull.fd
    pull.getsockopt(zmtp.EVENTS)
    push.send(b"second")
    assert wait_until(lambda: select.select([fd], [], [], 0)[0])
    assert pull.getsockopt(zmtp.EVENTS) & zmtp.POLLIN
    assert pull.recv(zmtp.NOBLOCK) == b"second"


def test_recv_noblock_reads_a_lent_connection(
    pipeline: tuple[zmtp.Socket, zmtp.Socket], no_idle_check: None
) -> None:
    """Bytes in the kernel of a lent connection that nobody polls reach recv(NOBLOCK)."""
    pull, push = pipeline
    lend(pull, push.send)
    sent = [b"one", b"two" * 1000, b"three"]
    for body in sent:
        push.send(body)
    got: list[bytes] = []
    deadline = time.monotonic() + WAIT_S
    while len(got) < len(sent) and time.monotonic() < deadline:
        try:
            got.append(pull.recv(zmtp.NOBLOCK))
        except zmtp.Again:
            time.sleep(0.001)
    assert got == sent


@pytest.mark.parametrize("other", ["inproc", "tcp"])
def test_a_message_on_another_path_wakes_a_thread_reading_lent_connections(
    make: Maker, other: str
) -> None:
    """While a thread waits on lent descriptors, what the I/O thread delivers must wake it."""
    pull = make(zmtp.PULL)
    lent_push = make(zmtp.PUSH)
    lent_push.connect(bind(pull, "tcp://127.0.0.1:*"))
    other_push = make(zmtp.PUSH)
    if other == "inproc":
        other_push.connect(bind(pull, "inproc://lending-other"))
    else:
        other_push.connect(bind(pull, "tcp://127.0.0.1:*"))
    # Both connected (handshake done) before lending: only the first gets lent.
    other_push.send(b"hello")
    assert pull.poll(WAIT) == zmtp.POLLIN
    assert pull.recv(zmtp.NOBLOCK) == b"hello"
    lend(pull, lent_push.send)
    assert lent(pull) == 1
    # A lost wake-up does not hang: the thread sees the message when RCVTIMEO ends its wait.
    # So the bound below is half of RCVTIMEO; a wake-up takes milliseconds.
    pull.rcvtimeo = WAIT
    receiver = Worker(pull.recv)
    assert wait_until(lambda: polling(pull)), "recv() did not wait on the lent connection"
    other_push.send(b"other")
    assert receiver.join(WAIT_S / 2), "the thread waiting on lent descriptors was not woken"
    assert receiver.result() == b"other"


@pytest.mark.parametrize("peer", ["pyzmq", "zmtp"])
def test_peer_gone_while_lent_then_back(
    ctx: zmtp.Context,
    make: Maker,
    zmake: ZMaker,
    monkeypatch: pytest.MonkeyPatch,
    no_idle_check: None,
    peer: str,
) -> None:
    """The end of a lent connection neither hangs nor spins recv(); reconnecting still works.

    Without the idle check, only the connection's end can take it back (or the new connection
    would never be lent: nothing is lent anew while a dead connection still is).
    """
    push: Any
    if peer == "pyzmq":
        push = zmake(zmq.PUSH)
        port = push.bind_to_random_port("tcp://127.0.0.1")
    else:
        push = make(zmtp.PUSH)
        port = int(bind(push, "tcp://127.0.0.1:*").rsplit(":", 1)[1])
    address = f"tcp://127.0.0.1:{port}"
    pull = make(zmtp.PULL)
    pull.connect(address)
    lend(pull, push.send)

    reads = Calls(monkeypatch, StreamProtocol, "read_lent")
    waits = Calls(monkeypatch, ReadLending, "wait")
    pull.rcvtimeo = 500
    receiver = Worker(pull.recv)
    assert wait_until(lambda: polling(pull)), "recv() did not wait on the lent connection"
    push.close(linger=0)
    assert receiver.join(), "recv() hung after the peer left"
    assert isinstance(receiver.error, zmtp.Again), receiver.error
    me = receiver.thread.ident or 0
    assert reads.by_thread.get(me, 0) < 50, "recv() spun on the closed connection"
    assert waits.by_thread.get(me, 0) < 50, "recv() spun on the closed connection"
    assert wait_until(lambda: lent(pull) == 0), "the closed connection stayed lent"

    # The peer comes back at the same address: zmtp reconnects, and lends the new connection.
    push = zmake(zmq.PUSH) if peer == "pyzmq" else make(zmtp.PUSH)
    rebind(lambda: push.bind(address))
    pull.rcvtimeo = WAIT
    push.send(b"again")
    assert pull.recv() == b"again"
    lend(pull, push.send)


def test_context_term_ends_a_recv_waiting_on_a_lent_connection(
    zmake: ZMaker,
) -> None:
    push = zmake(zmq.PUSH)
    port = push.bind_to_random_port("tcp://127.0.0.1")
    context = zmtp.Context()
    pull = context.socket(zmtp.PULL)
    try:
        pull.linger = 0
        pull.rcvtimeo = 20_000  # far beyond the bound below: only ETERM ends it in time
        pull.connect(f"tcp://127.0.0.1:{port}")
        lend(pull, push.send)

        def receive() -> None:
            try:
                pull.recv()
            finally:
                pull.close(linger=0)  # as pyzmq wants: term() waits for its sockets

        receiver = Worker(receive)
        assert wait_until(lambda: polling(pull)), "recv() did not wait on the lent connection"
        terminator = Worker(context.term)
        assert receiver.join(), "recv() on a lent connection did not see the context end"
        assert isinstance(receiver.error, zmtp.ContextTerminated), receiver.error
        assert receiver.error.errno == zmtp.ETERM
        assert terminator.join(), "term() hung"
    finally:
        pull.close(linger=0)
        Worker(context.destroy, 0).join()


@pytest.mark.parametrize("zmtp_heartbeats", [False, True], ids=["answering", "heartbeating"])
def test_heartbeats_flow_while_lent(
    make: Maker,
    zmake: ZMaker,
    monkeypatch: pytest.MonkeyPatch,
    zmtp_heartbeats: bool,
) -> None:
    """libzmq's PINGs are answered while a connection is lent, idle or waited on.

    Answering only, the idle check must hand the connection back to the I/O thread; with zmtp
    heartbeating too and no idle check, zmtp's heartbeat timer must read the lent connection
    (or it would time its own peer out on PONGs it never read).
    """
    if zmtp_heartbeats:
        monkeypatch.setattr(stream_module, "IDLE_CHECK", NEVER)
    router = zmake(zmq.ROUTER)
    router.heartbeat_ivl = 50
    router.heartbeat_timeout = 200
    router_monitor = router.get_monitor_socket()
    port = router.bind_to_random_port("tcp://127.0.0.1")
    dealer = make(zmtp.DEALER)
    if zmtp_heartbeats:
        dealer.heartbeat_ivl = 50
        dealer.heartbeat_timeout = 200
    dealer_monitor = dealer.get_monitor_socket()
    dealer.connect(f"tcp://127.0.0.1:{port}")
    dealer.send(b"hi")
    routing_id, body = router.recv_multipart()
    assert body == b"hi"
    lend(dealer, lambda reply: router.send_multipart([routing_id, reply]))

    # Idle: nobody reads the socket for a second, many heartbeat timeouts long.
    assert router.poll(1000) == 0
    # Waiting: a thread blocked in recv() reads the PINGs and answers them.
    dealer.rcvtimeo = 500
    with pytest.raises(zmtp.Again):
        dealer.recv()

    libzmq_events = drain_events(
        router_monitor, lambda m: zmq.utils.monitor.recv_monitor_message(m, zmq.NOBLOCK)
    )
    zmtp_events = drain_events(dealer_monitor, lambda m: recv_monitor_message(m, zmtp.NOBLOCK))
    assert zmq.EVENT_ACCEPTED in libzmq_events  # the monitors do report this connection
    assert zmq.EVENT_DISCONNECTED not in libzmq_events, "libzmq timed zmtp out"
    assert zmtp.EVENT_HANDSHAKE_SUCCEEDED in zmtp_events
    assert zmtp.EVENT_DISCONNECTED not in zmtp_events, "zmtp timed libzmq out"
    dealer.send(b"still")
    assert router.recv_multipart() == [routing_id, b"still"]
    router.send_multipart([routing_id, b"here"])
    dealer.rcvtimeo = WAIT
    assert dealer.recv() == b"here"


def test_a_second_thread_in_recv_is_refused_while_one_waits_on_lent_connections(
    pipeline: tuple[zmtp.Socket, zmtp.Socket],
) -> None:
    pull, push = pipeline
    lend(pull, push.send)
    receiver = Worker(pull.recv)
    assert wait_until(lambda: polling(pull)), "recv() did not wait on the lent connection"
    with pytest.raises(zmtp.ZMQError) as refused:
        pull.recv()
    assert refused.value.errno == errno.EFAULT
    push.send(b"for the first")
    assert receiver.result() == b"for the first"
