"""zmtp socket options against real libzmq peers (pyzmq 27, libzmq 4.3.5), over tcp.

Each test shows one option's effect on the wire as libzmq 4.3.5 defines it: routing ids that
a connecting ROUTER gives its peer, ROUTER handover, probes, correlated relaxed requests, the
XPUB options, inverted matching, IMMEDIATE, MAXMSGSIZE, HANDSHAKE_IVL and SNDHWM. Where the
side that binds matters, a test runs once with zmtp binding and once with libzmq binding.
Every wait is bounded; see api_peers.py.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import zmq
import zmq.utils.monitor
from api_peers import (
    BINDERS,
    STEP_MS,
    WAIT_S,
    ZMTP_BINDS,
    Peers,
    Sock,
    nothing_arrives,
    poke,
    raises_errno,
    recv_poking,
    send_until_received,
)

import zmtp

QUIET_MS = 300
"""How long a 'nothing arrives' check waits (milliseconds)."""


@pytest.fixture
def peers(tmp_path: Path) -> Iterator[Peers]:
    both = Peers("tcp", tmp_path)
    try:
        yield both
    finally:
        both.close()


@pytest.fixture(params=BINDERS)
def binder(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def send_routed(router: Sock, message: list[bytes], *pokes: Sock) -> None:
    """Send from a ROUTER_MANDATORY router once the peer is routable (bounded)."""
    deadline = time.monotonic() + WAIT_S
    while True:
        try:
            router.send_multipart(message, zmq.DONTWAIT)
            return
        except (zmtp.ZMQError, zmq.ZMQError) as error:
            if error.errno != zmq.EHOSTUNREACH or time.monotonic() > deadline:
                raise
        poke(*pokes)
        router.poll(STEP_MS, zmq.POLLIN)


def bind_later(sock: zmq.Socket[bytes], endpoint: str, waiter: Sock) -> None:
    """Bind a libzmq socket on a port a zmtp socket is already dialling (bounded retries).

    While nobody listens, a loopback connect may take the very port as its own source port
    (a TCP self-connect), which makes the bind fail with EADDRINUSE for a moment.
    """
    deadline = time.monotonic() + WAIT_S
    while True:
        try:
            sock.bind(endpoint)
            return
        except zmq.ZMQError as error:
            if error.errno != zmq.EADDRINUSE or time.monotonic() > deadline:
                raise
        waiter.poll(STEP_MS, zmq.POLLIN)


class Monitor:
    """A libzmq socket monitor with bounded waits for one event."""

    def __init__(self, sock: zmq.Socket[bytes], events: int) -> None:
        self.sock = sock
        self.pair = sock.get_monitor_socket(events)
        self.pair.linger = 0

    def wait(self, event: int, *pokes: Sock) -> None:
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            poke(*pokes)
            if self.pair.poll(STEP_MS, zmq.POLLIN):
                got = zmq.utils.monitor.recv_monitor_message(self.pair, zmq.DONTWAIT)
                if got["event"] == event:
                    return
        pytest.fail(f"no monitor event {event} within {WAIT_S} s")

    def close(self) -> None:
        self.sock.disable_monitor()
        self.pair.close(linger=0)


@pytest.fixture
def monitors() -> Iterator[list[Monitor]]:
    made: list[Monitor] = []
    try:
        yield made
    finally:
        for monitor in made:
            monitor.close()


# -- CONNECT_ROUTING_ID -----------------------------------------------------------------------


@pytest.mark.parametrize("peer_type", [zmq.ROUTER, zmq.DEALER])
def test_connect_routing_id_names_the_peer_locally(peers: Peers, peer_type: int) -> None:
    router = peers.zmtp(zmtp.ROUTER, routing_id=b"zmtp-router", router_mandatory=1)
    peer = peers.libzmq(peer_type)
    endpoint = peers.bind(peer)
    router.connect_routing_id = b"named-here"
    router.connect(endpoint)

    send_routed(router, [b"named-here", b"hello"], peer)
    if peer_type == zmq.ROUTER:
        assert peer.recv_multipart() == [b"zmtp-router", b"hello"]
        peer.send_multipart([b"zmtp-router", b"back"])
    else:
        assert peer.recv_multipart() == [b"hello"]
        peer.send(b"back")
    assert router.recv_multipart() == [b"named-here", b"back"]


# -- ROUTER_HANDOVER --------------------------------------------------------------------------


@pytest.mark.parametrize("handover", [1, 0])
def test_router_handover(peers: Peers, binder: str, handover: int) -> None:
    router = peers.zmtp(zmtp.ROUTER, router_handover=handover)
    first = peers.libzmq(zmq.DEALER, routing_id=b"same")
    second = peers.libzmq(zmq.DEALER, routing_id=b"same")
    if binder == ZMTP_BINDS:
        endpoint = peers.bind(router)
        first.connect(endpoint)
    else:
        router.connect(peers.bind(first))
    first.send(b"one")
    assert router.recv_multipart() == [b"same", b"one"]

    if binder == ZMTP_BINDS:
        second.connect(endpoint)
    else:
        router.connect(peers.bind(second))
    second.send(b"two")
    if handover:
        assert recv_poking(router, second) == [b"same", b"two"]
        router.send_multipart([b"same", b"to the new one"])
        assert recv_poking(second) == [b"to the new one"]
        assert nothing_arrives(first, QUIET_MS)
    else:
        assert nothing_arrives(router, QUIET_MS, second)
        router.send_multipart([b"same", b"to the old one"])
        assert recv_poking(first) == [b"to the old one"]
        assert nothing_arrives(second, QUIET_MS)


# -- PROBE_ROUTER -----------------------------------------------------------------------------


def test_probe_router_from_zmtp_dealer(peers: Peers, binder: str) -> None:
    dealer = peers.zmtp(zmtp.DEALER, routing_id=b"prober", probe_router=1)
    router = peers.libzmq(zmq.ROUTER)
    peers.link(binder, [dealer], [router])
    assert recv_poking(router) == [b"prober", b""]
    router.send_multipart([b"prober", b"seen"])
    assert dealer.recv_multipart() == [b"seen"]


def test_probe_router_from_libzmq_dealer(peers: Peers, binder: str) -> None:
    router = peers.zmtp(zmtp.ROUTER)
    dealer = peers.libzmq(zmq.DEALER, routing_id=b"prober", probe_router=1)
    peers.link(binder, [router], [dealer])
    assert recv_poking(router, dealer) == [b"prober", b""]
    router.send_multipart([b"prober", b"seen"])
    assert dealer.recv_multipart() == [b"seen"]


# -- REQ_RELAXED + REQ_CORRELATE --------------------------------------------------------------


def test_req_relaxed_correlate_against_libzmq_router(peers: Peers, binder: str) -> None:
    req = peers.zmtp(zmtp.REQ, routing_id=b"req", req_relaxed=1, req_correlate=1)
    router = peers.libzmq(zmq.ROUTER)
    peers.link(binder, [req], [router])

    req.send(b"first")
    ident, first_id, empty, body = router.recv_multipart()
    assert (ident, empty, body) == (b"req", b"", b"first")
    assert len(first_id) == 4
    req.send(b"second")  # relaxed: no EFSM
    ident, second_id, empty, body = router.recv_multipart()
    assert (ident, empty, body) == (b"req", b"", b"second")
    assert len(second_id) == 4 and second_id != first_id

    router.send_multipart([b"req", first_id, b"", b"stale"])
    router.send_multipart([b"req", second_id, b"", b"fresh"])
    assert req.recv_multipart() == [b"fresh"]
    assert nothing_arrives(req, QUIET_MS)


# -- XPUB_VERBOSE / XPUB_VERBOSER -------------------------------------------------------------


@pytest.mark.parametrize("option", ["xpub_verbose", "xpub_verboser"])
def test_xpub_verbose_sees_duplicates(peers: Peers, option: str) -> None:
    xpub = peers.zmtp(zmtp.XPUB, **{option: 1})
    subs = [peers.libzmq(zmq.SUB), peers.libzmq(zmq.SUB)]
    peers.join([xpub], subs)
    for sub in subs:
        sub.subscribe(b"t")
        assert recv_poking(xpub, sub) == [b"\x01t"]

    subs[0].unsubscribe(b"t")
    if option == "xpub_verboser":
        assert recv_poking(xpub, subs[0]) == [b"\x00t"]
    else:
        assert nothing_arrives(xpub, QUIET_MS, subs[0])
    subs[1].unsubscribe(b"t")
    assert recv_poking(xpub, subs[1]) == [b"\x00t"]
    assert nothing_arrives(xpub, QUIET_MS, *subs)


def test_xpub_without_verbose_reports_once(peers: Peers) -> None:
    xpub = peers.zmtp(zmtp.XPUB)
    subs = [peers.libzmq(zmq.SUB), peers.libzmq(zmq.SUB)]
    peers.join([xpub], subs)
    subs[0].subscribe(b"t")
    assert recv_poking(xpub, subs[0]) == [b"\x01t"]
    subs[1].subscribe(b"t")
    # The second subscriber is known once a message reaches it.
    send_until_received(lambda: xpub.send(b"t-sync"), subs[1], subs[1])
    assert nothing_arrives(xpub, QUIET_MS, *subs)


# -- XPUB_MANUAL ------------------------------------------------------------------------------


def test_xpub_manual_applies_only_what_the_application_subscribes(peers: Peers) -> None:
    xpub = peers.zmtp(zmtp.XPUB, xpub_manual=1)
    sub = peers.libzmq(zmq.SUB)
    peers.join([xpub], [sub])
    sub.subscribe(b"a")
    sub.subscribe(b"b")
    assert recv_poking(xpub, sub) == [b"\x01a"]
    assert recv_poking(xpub, sub) == [b"\x01b"]
    xpub.subscribe(b"b")  # only b, for the peer the last notice came from

    def publish() -> None:
        xpub.send(b"a-msg")
        xpub.send(b"b-msg")

    received = send_until_received(publish, sub, sub, until=lambda m: m == [b"b-msg"])
    assert all(m == [b"b-msg"] for m in received), received
    xpub.send(b"a-after")
    xpub.send(b"b-after")
    assert recv_poking(sub) == [b"b-after"]


# -- XPUB_WELCOME_MSG -------------------------------------------------------------------------


def test_xpub_welcome_msg_reaches_a_subscribed_libzmq_sub(peers: Peers, binder: str) -> None:
    xpub = peers.zmtp(zmtp.XPUB, xpub_welcome_msg=b"welcome")
    sub = peers.libzmq(zmq.SUB)
    sub.subscribe(b"welcome")
    peers.link(binder, [xpub], [sub])
    assert recv_poking(sub, sub) == [b"welcome"]
    assert recv_poking(xpub) == [b"\x01welcome"]


# -- XPUB_NODROP ------------------------------------------------------------------------------


def fill(sender: Sock, payload: bytes, limit: int = 5000) -> int:
    """Send ``payload`` with DONTWAIT until Again; return how many went (bounded)."""
    deadline = time.monotonic() + WAIT_S
    for sent in range(limit):
        if time.monotonic() > deadline:
            break
        try:
            sender.send(payload, zmq.DONTWAIT)
        except zmtp.Again:
            return sent
    pytest.fail(f"{sender!r} never raised Again")


@pytest.mark.parametrize("nodrop", [1, 0])
def test_xpub_nodrop_raises_again_when_sub_does_not_read(peers: Peers, nodrop: int) -> None:
    xpub = peers.zmtp(zmtp.XPUB, xpub_nodrop=nodrop, sndhwm=2)
    sub = peers.libzmq(zmq.SUB, rcvhwm=2)
    sub.subscribe(b"")
    peers.join([xpub], [sub])
    assert recv_poking(xpub, sub) == [b"\x01"]

    def sync() -> None:
        # Never block here: under NODROP a full pipe would make send() wait out SNDTIMEO.
        with contextlib.suppress(zmtp.Again):
            xpub.send(b"sync", zmtp.DONTWAIT)

    send_until_received(sync, sub, sub)
    payload = b"x" * 100_000
    if nodrop:
        assert fill(xpub, payload) >= 1
    else:
        for _ in range(300):  # far beyond HWM and socket buffers: dropped, never Again
            xpub.send(payload, zmq.DONTWAIT)


# -- INVERT_MATCHING --------------------------------------------------------------------------


def test_invert_matching_pub_and_sub(peers: Peers, binder: str) -> None:
    pub = peers.zmtp(zmtp.PUB, invert_matching=1)
    sub = peers.libzmq(zmq.SUB, invert_matching=1)
    sub.subscribe(b"skip")
    peers.link(binder, [pub], [sub])

    def publish() -> None:
        pub.send(b"skip-me")
        pub.send(b"keep-me")

    received = send_until_received(publish, sub, sub)
    assert all(m == [b"keep-me"] for m in received), received


def test_invert_matching_pub_filters_on_the_wire(peers: Peers) -> None:
    """A libzmq XSUB does no local filtering: what arrives is what the zmtp PUB sent."""
    pub = peers.zmtp(zmtp.PUB, invert_matching=1)
    xsub = peers.libzmq(zmq.XSUB)
    peers.join([pub], [xsub])
    xsub.send(b"\x01skip")
    deadline = time.monotonic() + WAIT_S
    n = 0
    synced = False
    previous = b""
    while not synced:
        if time.monotonic() > deadline:
            pytest.fail("the subscription never took effect on the zmtp PUB")
        n += 1
        pub.send(b"skip-%d" % n)
        pub.send(b"keep-%d" % n)
        poke(xsub)
        while xsub.poll(STEP_MS, zmq.POLLIN):
            got = xsub.recv(zmq.DONTWAIT)
            # Per-pipe order: keep-n without skip-n before it means the filter is on.
            if got.startswith(b"keep-"):
                synced = synced or previous != b"skip-" + got[5:]
            previous = got
    for m in range(n + 1, n + 4):
        pub.send(b"skip-%d" % m)
        pub.send(b"keep-%d" % m)
        assert recv_poking(xsub) == [b"keep-%d" % m]


# -- IMMEDIATE --------------------------------------------------------------------------------


def test_immediate_push_connected_to_nothing_raises_again(peers: Peers) -> None:
    push = peers.zmtp(zmtp.PUSH, immediate=1)
    endpoint = peers.free_endpoint()
    push.connect(endpoint)
    raises_errno(zmtp.EAGAIN, lambda: push.send(b"nowhere", zmtp.DONTWAIT))

    pull = peers.libzmq(zmq.PULL)
    bind_later(pull, endpoint, push)
    deadline = time.monotonic() + WAIT_S
    while True:
        try:
            push.send(b"now connected", zmtp.DONTWAIT)
            break
        except zmtp.Again:
            if time.monotonic() > deadline:
                raise
            push.poll(STEP_MS, zmq.POLLOUT)
    assert pull.recv() == b"now connected"


def test_without_immediate_push_queues_for_a_later_peer(peers: Peers) -> None:
    push = peers.zmtp(zmtp.PUSH)
    endpoint = peers.free_endpoint()
    push.connect(endpoint)
    push.send(b"queued", zmtp.DONTWAIT)
    pull = peers.libzmq(zmq.PULL)
    bind_later(pull, endpoint, push)
    assert pull.recv() == b"queued"


# -- MAXMSGSIZE -------------------------------------------------------------------------------


def test_maxmsgsize_on_zmtp_pull(peers: Peers, binder: str, monitors: list[Monitor]) -> None:
    """An oversized frame is a protocol error: the zmtp PULL drops the connection.

    libzmq's connecting side does not reconnect after a protocol error (session_base.cpp,
    engine_error); a libzmq PUSH that connected sees an ordinary disconnect and reconnects.
    """
    pull = peers.zmtp(zmtp.PULL, maxmsgsize=100)
    push = peers.libzmq(zmq.PUSH)
    monitor = Monitor(push, zmq.EVENT_DISCONNECTED | zmq.EVENT_ACCEPTED)
    monitors.append(monitor)
    peers.link(binder, [pull], [push])
    push.send(b"a" * 100)
    assert pull.recv() == b"a" * 100
    push.send(b"b" * 101)
    monitor.wait(zmq.EVENT_DISCONNECTED, push)
    if binder == ZMTP_BINDS:
        received = send_until_received(lambda: push.send(b"c" * 100, zmq.DONTWAIT), pull, push)
        assert all(m == [b"c" * 100] for m in received)
    else:
        assert nothing_arrives(monitor.pair, 600, push), "zmtp PULL reconnected"
        assert nothing_arrives(pull, QUIET_MS)


def test_maxmsgsize_on_libzmq_pull(peers: Peers, binder: str, monitors: list[Monitor]) -> None:
    push = peers.zmtp(zmtp.PUSH)
    pull = peers.libzmq(zmq.PULL, maxmsgsize=100)
    monitor = Monitor(pull, zmq.EVENT_DISCONNECTED)
    monitors.append(monitor)
    peers.link(binder, [push], [pull])
    push.send(b"a" * 100)
    assert pull.recv() == b"a" * 100
    push.send(b"b" * 101)
    monitor.wait(zmq.EVENT_DISCONNECTED, pull)
    if binder == ZMTP_BINDS:
        # libzmq connected: after its protocol error it does not reconnect.
        assert nothing_arrives(pull, QUIET_MS, pull)
        return

    def again() -> None:
        with contextlib.suppress(zmtp.Again):  # between connections: no pipe to queue on
            push.send(b"c" * 100, zmtp.DONTWAIT)

    received = send_until_received(again, pull, pull)
    assert all(m == [b"c" * 100] for m in received)


# -- HANDSHAKE_IVL ----------------------------------------------------------------------------


def test_handshake_ivl_drops_a_silent_tcp_client(peers: Peers) -> None:
    pull = peers.zmtp(zmtp.PULL, handshake_ivl=200)
    host, port = peers.bind(pull).removeprefix("tcp://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=WAIT_S) as raw:
        start = time.monotonic()
        try:
            while raw.recv(4096):  # zmtp's greeting, then EOF
                pass
        except ConnectionResetError:
            pass
        elapsed = time.monotonic() - start
    assert 0.1 <= elapsed < 2.0, elapsed


# -- SNDHWM -----------------------------------------------------------------------------------


def test_sndhwm_push_to_a_libzmq_pull_that_does_not_read(peers: Peers, binder: str) -> None:
    push = peers.zmtp(zmtp.PUSH, sndhwm=5)
    pull = peers.libzmq(zmq.PULL, rcvhwm=5)
    peers.link(binder, [push], [pull])
    push.send(b"sync")
    assert pull.recv() == b"sync"
    assert fill(push, b"x" * 100_000) >= 5
