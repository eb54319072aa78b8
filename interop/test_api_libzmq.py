"""zmtp's blocking pyzmq-style API against real libzmq peers (pyzmq 27, libzmq 4.3.5).

Each test runs over tcp and ipc, and where both ends can bind, once with the zmtp socket
binding (``zmtp-binds``) and once with libzmq binding (``libzmq-binds``). The tests check the
semantics of the socket types, not only that bytes arrived: envelopes, routing ids,
round-robin, fair-queueing, subscription filtering and notifications, frame sizes, queueing
before a peer exists, timeouts and refused peers. libzmq is only the peer; see api_peers.py
for how every wait is bounded without sleeping.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import zmq
from api_peers import (
    BINDERS,
    ERRORS,
    LIBZMQ_BINDS,
    STEP_MS,
    TIMEOUT_MS,
    TRANSPORTS,
    WAIT_S,
    ZMTP_BINDS,
    Peers,
    nothing_arrives,
    poke,
    raises_errno,
    recv_poking,
    recv_until,
    send_until_received,
    wait_for,
)

import zmtp

# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def no_leaked_threads() -> Iterator[None]:
    """Every zmtp context of this module has stopped its I/O thread by the end (bounded)."""
    before = threading.active_count()
    yield
    deadline = time.monotonic() + WAIT_S
    while threading.active_count() > before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert threading.active_count() <= before, [t.name for t in threading.enumerate()]


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=BINDERS)
def binder(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def peers(transport: str, tmp_path: Path) -> Iterator[Peers]:
    both = Peers(transport, tmp_path)
    try:
        yield both
    finally:
        both.close()


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- request-reply ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["zmtp-REQ-libzmq-REP", "libzmq-REQ-zmtp-REP"])
def test_req_rep_round_trips_hide_the_envelope(peers: Peers, binder: str, role: str) -> None:
    if role == "zmtp-REQ-libzmq-REP":
        req, rep = peers.zmtp(zmtp.REQ), peers.libzmq(zmq.REP)
        peers.link(binder, [req], [rep])
    else:
        req, rep = peers.libzmq(zmq.REQ), peers.zmtp(zmtp.REP)
        peers.link(binder, [rep], [req])
        raises_errno(zmtp.EFSM, lambda: rep.send(b"a reply before any request"))

    for n in range(3):
        # An empty frame inside the body must not be mistaken for the delimiter.
        request = [b"request", b"%d" % n, b"", b"after an empty frame"]
        req.send_multipart(request)
        if role == "zmtp-REQ-libzmq-REP" and n == 0:
            raises_errno(zmtp.EFSM, lambda: req.send(b"a second request"))
        assert rep.recv_multipart() == request
        if role == "libzmq-REQ-zmtp-REP" and n == 0:
            raises_errno(zmtp.EFSM, rep.recv)
        rep.send_multipart([b"reply", b"%d" % n])
        assert req.recv_multipart() == [b"reply", b"%d" % n]


@pytest.mark.parametrize("role", ["zmtp-REQs-libzmq-ROUTER", "libzmq-REQs-zmtp-ROUTER"])
def test_router_sees_req_envelope_and_routes_replies(peers: Peers, binder: str, role: str) -> None:
    if role == "zmtp-REQs-libzmq-ROUTER":
        named, anonymous = peers.zmtp(zmtp.REQ, routing_id=b"named-req"), peers.zmtp(zmtp.REQ)
        router = peers.libzmq(zmq.ROUTER)
        peers.link(binder, [named, anonymous], [router])
    else:
        named, anonymous = peers.libzmq(zmq.REQ, routing_id=b"named-req"), peers.libzmq(zmq.REQ)
        router = peers.zmtp(zmtp.ROUTER)
        peers.link(binder, [router], [named, anonymous])

    named.send_multipart([b"from", b"named"])
    assert router.recv_multipart() == [b"named-req", b"", b"from", b"named"]
    anonymous.send(b"from anonymous")
    anonymous_id, *rest = router.recv_multipart()
    assert rest == [b"", b"from anonymous"]
    # libzmq's generated routing id: 0x00 then a 32-bit counter.
    assert len(anonymous_id) == 5 and anonymous_id[0] == 0, anonymous_id

    # Replies go by routing id, whatever the order.
    router.send_multipart([anonymous_id, b"", b"to anonymous"])
    router.send_multipart([b"named-req", b"", b"to", b"named"])
    assert named.recv_multipart() == [b"to", b"named"]
    assert anonymous.recv_multipart() == [b"to anonymous"]


@pytest.mark.parametrize("role", ["zmtp-DEALER-libzmq-REP", "libzmq-DEALER-zmtp-REP"])
def test_dealer_to_rep_envelopes(peers: Peers, binder: str, role: str) -> None:
    if role == "zmtp-DEALER-libzmq-REP":
        dealer, rep = peers.zmtp(zmtp.DEALER), peers.libzmq(zmq.REP)
        peers.link(binder, [dealer], [rep])
    else:
        dealer, rep = peers.libzmq(zmq.DEALER), peers.zmtp(zmtp.REP)
        peers.link(binder, [rep], [dealer])

    # No empty delimiter: REP discards the request.
    dealer.send(b"no delimiter")
    # A multi-hop envelope comes back untouched; REP's user sees only the body.
    dealer.send_multipart([b"hop-1", b"hop-2", b"", b"question", b"1"])
    assert rep.recv_multipart() == [b"question", b"1"]
    rep.send_multipart([b"answer", b"1"])
    assert dealer.recv_multipart() == [b"hop-1", b"hop-2", b"", b"answer", b"1"]

    dealer.send_multipart([b"", b"question 2"])
    assert rep.recv_multipart() == [b"question 2"]
    rep.send(b"answer 2")
    assert dealer.recv_multipart() == [b"", b"answer 2"]


@pytest.mark.parametrize("role", ["zmtp-DEALERs-libzmq-ROUTER", "libzmq-DEALERs-zmtp-ROUTER"])
def test_dealer_routing_id_seen_by_router(peers: Peers, binder: str, role: str) -> None:
    if role == "zmtp-DEALERs-libzmq-ROUTER":
        dealers = [peers.zmtp(zmtp.DEALER, routing_id=b"dealer-" + n) for n in (b"A", b"B")]
        router = peers.libzmq(zmq.ROUTER)
        peers.link(binder, dealers, [router])
    else:
        dealers = [peers.libzmq(zmq.DEALER, routing_id=b"dealer-" + n) for n in (b"A", b"B")]
        router = peers.zmtp(zmtp.ROUTER)
        peers.link(binder, [router], dealers)
    dealer_a, dealer_b = dealers

    dealer_a.send_multipart([b"hello", b"", b"A"])
    dealer_b.send_multipart([b"hello", b"", b"B"])
    received = {tuple(router.recv_multipart()) for _ in range(2)}
    assert received == {(b"dealer-A", b"hello", b"", b"A"), (b"dealer-B", b"hello", b"", b"B")}

    router.send_multipart([b"dealer-B", b"for", b"B"])
    router.send_multipart([b"nobody", b"unroutable: dropped without an error"])
    router.send_multipart([b"dealer-A", b"for A"])
    assert dealer_b.recv_multipart() == [b"for", b"B"]
    assert dealer_a.recv_multipart() == [b"for A"]

    router.router_mandatory = 1
    raises_errno(zmtp.EHOSTUNREACH, lambda: router.send_multipart([b"nobody", b"x"]))
    assert not dealer_a.poll(0, zmq.POLLIN) and not dealer_b.poll(0, zmq.POLLIN)


def test_router_to_router(peers: Peers, binder: str) -> None:
    ours = peers.zmtp(zmtp.ROUTER, routing_id=b"zmtp-router")
    theirs = peers.libzmq(zmq.ROUTER, routing_id=b"libzmq-router")
    peers.link(binder, [ours], [theirs])
    # The connecting side speaks first; with ROUTER_MANDATORY it is writable (POLLOUT)
    # once the peer's routing id is known, that is once the handshake is done.
    caller, callee = (theirs, ours) if binder == ZMTP_BINDS else (ours, theirs)
    caller_id, callee_id = caller.routing_id, callee.routing_id
    caller.router_mandatory = 1
    wait_for(
        lambda: bool(caller.poll(STEP_MS, zmq.POLLOUT)), "the ROUTER to learn its peer", theirs
    )
    caller.send_multipart([callee_id, b"hello", b""])
    assert callee.recv_multipart() == [caller_id, b"hello", b""]
    callee.send_multipart([caller_id, b"hi", b"back"])
    assert caller.recv_multipart() == [callee_id, b"hi", b"back"]


# -- pipeline and load balancing --------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "peer_kind"),
    [(zmtp.PUSH, zmq.PULL), (zmtp.DEALER, zmq.DEALER)],
    ids=["zmtp-PUSH-to-3-libzmq-PULL", "zmtp-DEALER-to-3-libzmq-DEALER"],
)
def test_round_robin_across_libzmq_peers(
    peers: Peers, binder: str, kind: int, peer_kind: int
) -> None:
    sender = peers.zmtp(kind)
    receivers = [peers.libzmq(peer_kind) for _ in range(3)]
    peers.link(binder, [sender], receivers)

    # Until every connection is up, zmtp can only rotate over the ready ones: send one
    # message at a time until each peer has received one.
    poller = zmq.Poller()
    for receiver in receivers:
        poller.register(receiver, zmq.POLLIN)
    seen: set[object] = set()
    deadline = time.monotonic() + WAIT_S
    while len(seen) < len(receivers):
        assert time.monotonic() < deadline, f"only {len(seen)} peers reached"
        sender.send(b"warm-up")
        ready = dict(poller.poll(TIMEOUT_MS))
        assert len(ready) == 1, "each warm-up message reaches exactly one peer"
        for receiver in ready:
            assert receiver.recv() == b"warm-up"
            seen.add(receiver)

    rounds = 4
    for n in range(3 * rounds):
        sender.send(b"%d" % n)
    got = [[int(r.recv()) for _ in range(rounds)] for r in receivers]
    # Strict rotation: each peer gets every third message, in order, and no two peers
    # share a position in the rotation.
    assert sorted(indices[0] for indices in got) == [0, 1, 2], got
    for indices in got:
        assert indices == list(range(indices[0], 3 * rounds, 3)), got

    if kind == zmtp.DEALER:
        # DEALER also fair-queues what its peers send back.
        for receiver in receivers:
            for _ in range(rounds):
                receiver.send(b"echo")
        assert [sender.recv() for _ in range(3 * rounds)] == [b"echo"] * (3 * rounds)


def test_pull_fair_queues_libzmq_pushers(peers: Peers, binder: str) -> None:
    hwm = 8
    pull = peers.zmtp(zmtp.PULL, rcvhwm=hwm)
    pushers = [peers.libzmq(zmq.PUSH, sndhwm=4, sndbuf=65536) for _ in range(3)]
    peers.link(binder, [pull], pushers)
    for i, push in enumerate(pushers):
        push.send_multipart([b"hello", b"%d" % i])
    assert sorted(pull.recv_multipart()[1] for _ in pushers) == [b"0", b"1", b"2"]

    # Fill each pusher's path until libzmq would block for good: then zmtp has stopped
    # reading that peer, so it holds at least RCVHWM messages from each of the three.
    payload = bytes(64 * 1024)
    deadline = time.monotonic() + WAIT_S
    for i, push in enumerate(pushers):
        sent = 0
        while True:
            assert time.monotonic() < deadline, f"pusher {i} never blocked ({sent} sent)"
            try:
                push.send_multipart([b"%d" % i, b"%d" % sent, payload], zmq.DONTWAIT)
                sent += 1
            except zmq.Again:
                if not push.poll(200, zmq.POLLOUT):
                    break
        assert sent >= hwm

    # With all three queues non-empty, fair-queueing takes one message from each in turn.
    order: list[int] = []
    per_sender: dict[int, list[int]] = {0: [], 1: [], 2: []}
    for _ in range(3 * hwm):
        who, seq, data = pull.recv_multipart()
        assert len(data) == len(payload)
        order.append(int(who))
        per_sender[int(who)].append(int(seq))
    assert sorted(order[:3]) == [0, 1, 2], order
    assert order == order[:3] * hwm, order
    assert per_sender == {i: list(range(hwm)) for i in range(3)}


@pytest.mark.parametrize("early", ["zmtp-PUSH-connects-first", "libzmq-PUSH-connects-first"])
def test_push_queues_until_the_peer_binds(peers: Peers, early: str) -> None:
    endpoint = peers.free_endpoint()
    if early == "zmtp-PUSH-connects-first":
        push, pull = peers.zmtp(zmtp.PUSH), peers.libzmq(zmq.PULL)
    else:
        push, pull = peers.libzmq(zmq.PUSH), peers.zmtp(zmtp.PULL)
    push.connect(endpoint)
    # The connecting pipe exists before the peer does: sending does not block.
    for n in range(5):
        push.send(b"early %d" % n, zmq.DONTWAIT)
    pull.bind(endpoint)
    assert [pull.recv() for _ in range(5)] == [b"early %d" % n for n in range(5)]
    push.send(b"late")
    assert pull.recv() == b"late"


# -- publish-subscribe ------------------------------------------------------------------------


@pytest.mark.parametrize("peer_kind", [zmq.SUB, zmq.XSUB], ids=["libzmq-SUB", "libzmq-XSUB"])
def test_pub_sends_only_matching_topics(peers: Peers, binder: str, peer_kind: int) -> None:
    pub = peers.zmtp(zmtp.PUB)
    sub = peers.libzmq(peer_kind)
    if peer_kind == zmq.SUB:
        sub.subscribe(b"weather.")
    else:
        # XSUB does not filter: whatever arrives, the zmtp PUB chose to send.
        sub.send(b"\x01weather.")
    peers.link(binder, [pub], [sub])

    def publish_probes() -> None:
        pub.send(b"sports.probe")
        pub.send(b"weather.probe")

    assert send_until_received(publish_probes, sub) == [[b"weather.probe"]]
    for n in range(5):
        pub.send_multipart([b"sports.%d" % n, b"no"])
        pub.send_multipart([b"weather", b"shorter than the prefix"])
        pub.send(b"weatherman")
        pub.send(b"")
        pub.send_multipart([b"weather.%d" % n, b"body"])
    pub.send(b"weather.end")
    got = recv_until(sub, lambda message: message == [b"weather.end"])
    got = [message for message in got if message != [b"weather.probe"]]
    assert got == [[b"weather.%d" % n, b"body"] for n in range(5)] + [[b"weather.end"]]


@pytest.mark.parametrize("peer_kind", [zmq.PUB, zmq.XPUB], ids=["libzmq-PUB", "libzmq-XPUB"])
def test_sub_receives_its_prefixes_from_libzmq(peers: Peers, binder: str, peer_kind: int) -> None:
    sub = peers.zmtp(zmtp.SUB)
    sub.subscribe(b"A")
    sub.subscribe("C")
    pub = peers.libzmq(peer_kind)
    peers.link(binder, [sub], [pub])

    def publish_probes() -> None:
        pub.send(b"B-probe")
        pub.send(b"C-probe")

    # C was subscribed after A: once C gets through, A has reached libzmq too.
    assert send_until_received(publish_probes, sub, pub) == [[b"C-probe"]]
    if peer_kind == zmq.XPUB:
        assert {pub.recv() for _ in range(2)} == {b"\x01A", b"\x01C"}
    for n in range(3):
        pub.send(b"A%d" % n)
        pub.send(b"B%d" % n)
        pub.send_multipart([b"C%d" % n, b"more"])
    pub.send(b"C-end")
    got = recv_until(sub, lambda message: message == [b"C-end"])
    got = [message for message in got if message != [b"C-probe"]]
    expected = [[b"A0"], [b"C0", b"more"], [b"A1"], [b"C1", b"more"], [b"A2"], [b"C2", b"more"]]
    assert got == [*expected, [b"C-end"]]

    # Unsubscribing takes effect locally at once (even for messages already in flight).
    sub.unsubscribe(b"A")
    pub.send(b"A-after")
    pub.send(b"C-after")
    assert sub.recv_multipart() == [b"C-after"]
    if peer_kind == zmq.XPUB:
        assert pub.recv() == b"\x00A"


def test_xpub_reports_libzmq_subscriptions(peers: Peers, binder: str) -> None:
    xpub = peers.zmtp(zmtp.XPUB)
    sub = peers.libzmq(zmq.SUB)
    sub.subscribe(b"news")
    sub.subscribe(b"sport")
    peers.link(binder, [xpub], [sub])

    notices = [recv_poking(xpub, sub) for _ in range(2)]
    assert sorted(notices) == [[b"\x01news"], [b"\x01sport"]]
    # XPUB has both subscriptions now: what it sends is filtered accordingly.
    xpub.send(b"weather")
    xpub.send(b"news: one")
    xpub.send_multipart([b"sport", b"two"])
    assert sub.recv_multipart() == [b"news: one"]
    assert sub.recv_multipart() == [b"sport", b"two"]

    sub.unsubscribe(b"news")
    assert recv_poking(xpub, sub) == [b"\x00news"]
    xpub.send(b"news: three")
    xpub.send(b"sport: four")
    assert sub.recv_multipart() == [b"sport: four"]


def test_xsub_subscribes_upstream(peers: Peers, binder: str) -> None:
    xsub = peers.zmtp(zmtp.XSUB)
    xpub = peers.libzmq(zmq.XPUB)
    peers.link(binder, [xsub], [xpub])

    xsub.send(b"\x01alerts")
    assert xpub.recv_multipart() == [b"\x01alerts"]
    xsub.send(b"\x01zz")
    assert xpub.recv_multipart() == [b"\x01zz"]
    # libzmq has applied both: it filters, and XSUB passes on everything it gets.
    xpub.send(b"noise")
    xpub.send_multipart([b"alerts.1", b"fire"])
    xpub.send(b"alerts.2")
    assert xsub.recv_multipart() == [b"alerts.1", b"fire"]
    assert xsub.recv_multipart() == [b"alerts.2"]

    # Anything else an XSUB sends goes upstream as a message.
    xsub.send_multipart([b"upstream", b"data"])
    assert xpub.recv_multipart() == [b"upstream", b"data"]

    xsub.send(b"\x00alerts")
    assert xpub.recv_multipart() == [b"\x00alerts"]
    xpub.send(b"alerts.3")
    xpub.send(b"zz-end")
    assert xsub.recv_multipart() == [b"zz-end"]


@pytest.mark.parametrize(
    "rebinder",
    [
        "libzmq-PUB-rebinds",
        "zmtp-PUB-rebinds",
    ],
)
def test_resubscribe_after_publisher_rebinds(peers: Peers, rebinder: str) -> None:
    if rebinder == "libzmq-PUB-rebinds":
        sub = peers.zmtp(zmtp.SUB)

        def new_pub() -> zmq.Socket[bytes] | zmtp.Socket:
            return peers.libzmq(zmq.PUB)
    else:
        sub = peers.libzmq(zmq.SUB)

        def new_pub() -> zmq.Socket[bytes] | zmtp.Socket:
            return peers.zmtp(zmtp.PUB)

    sub.subscribe(b"t.")
    pub = new_pub()
    endpoint = peers.bind(pub)
    sub.connect(endpoint)

    def publish(tag: bytes) -> None:
        pub.send(b"x." + tag)
        pub.send(b"t." + tag)

    assert send_until_received(lambda: publish(b"before"), sub) == [[b"t.before"]]
    pub.close()

    # libzmq closes its listener asynchronously (reaper thread): retry EADDRINUSE, bounded.
    pub = new_pub()
    deadline = time.monotonic() + WAIT_S
    while True:
        try:
            pub.bind(endpoint)
            break
        except ERRORS as exc:
            if exc.errno != zmq.EADDRINUSE or time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    # The subscriber reconnects by itself and sends its subscription again.
    got = send_until_received(
        lambda: publish(b"after"), sub, until=lambda message: message == [b"t.after"]
    )
    assert {tuple(message) for message in got} <= {(b"t.before",), (b"t.after",)}, got


# -- exclusive pair, frames -------------------------------------------------------------------


def test_pair_talks_both_ways_and_refuses_a_second_peer(peers: Peers, binder: str) -> None:
    ours, theirs = peers.zmtp(zmtp.PAIR), peers.libzmq(zmq.PAIR)
    endpoint = peers.link(binder, [ours], [theirs])[0]
    for n in range(5):
        ours.send_multipart([b"ping", b"%d" % n])
        assert theirs.recv_multipart() == [b"ping", b"%d" % n]
        theirs.send_multipart([b"pong", b"%d" % n])
        assert ours.recv_multipart() == [b"pong", b"%d" % n]

    if binder == ZMTP_BINDS:
        # A second PAIR peer is refused: nothing it sends arrives, nothing goes to it.
        intruder = peers.libzmq(zmq.PAIR)
        intruder.connect(endpoint)
        intruder.send(b"from the intruder", zmq.DONTWAIT)
        ours.send(b"for the first peer")
        assert theirs.recv() == b"for the first peer"
        theirs.send(b"still here")
        assert ours.recv() == b"still here"
        assert nothing_arrives(ours, 200, intruder)
        assert not intruder.poll(0, zmq.POLLIN)


FRAMES = [
    b"",
    b"\x00",
    b"a" * 255,  # the largest short frame
    b"b" * 256,  # the smallest long frame
    b"",
    b"c" * 257,
    bytes(range(256)) * 256,
    b"",
]


@pytest.mark.parametrize("direction", ["zmtp-to-libzmq", "libzmq-to-zmtp"])
def test_multipart_frame_sizes(peers: Peers, binder: str, direction: str) -> None:
    ours, theirs = peers.zmtp(zmtp.DEALER), peers.libzmq(zmq.DEALER)
    peers.link(binder, [ours], [theirs])
    if direction == "zmtp-to-libzmq":
        ours.send_multipart(FRAMES)
        for frame in FRAMES[:-1]:
            ours.send(frame, zmtp.SNDMORE)
        ours.send(FRAMES[-1])
        assert theirs.recv_multipart() == FRAMES
        assert theirs.recv_multipart() == FRAMES
    else:
        theirs.send_multipart(FRAMES)
        theirs.send_multipart(FRAMES)
        assert ours.recv_multipart() == FRAMES
        frames = [ours.recv()]
        while ours.rcvmore:
            assert ours.getsockopt(zmtp.RCVMORE) == 1
            frames.append(ours.recv())
        assert ours.getsockopt(zmtp.RCVMORE) == 0
        assert frames == FRAMES


def test_16_mib_message_both_ways(peers: Peers, binder: str) -> None:
    ours, theirs = peers.zmtp(zmtp.PAIR), peers.libzmq(zmq.PAIR)
    peers.link(binder, [ours], [theirs])
    size = 16 * 1024 * 1024
    outgoing = (b"zmtp->libzmq" + bytes(range(256)) * (size // 256))[:size]
    ours.send(outgoing)
    received = theirs.recv()
    assert (len(received), digest(received)) == (size, digest(outgoing))

    incoming = (b"libzmq->zmtp" + bytes(range(255, -1, -1)) * (size // 256))[:size]
    theirs.send_multipart([b"head", incoming])
    head, body = ours.recv_multipart()
    assert head == b"head"
    assert (len(body), digest(body)) == (size, digest(incoming))


# -- timeouts, non-blocking, polling ----------------------------------------------------------


def test_rcvtimeo_raises_again(peers: Peers, binder: str) -> None:
    pull, push = peers.zmtp(zmtp.PULL), peers.libzmq(zmq.PUSH)
    peers.link(binder, [pull], [push])
    push.send(b"first")
    assert pull.recv() == b"first"

    pull.rcvtimeo = 200
    assert pull.rcvtimeo == 200
    for receive in (pull.recv, pull.recv_multipart):
        started = time.monotonic()
        with pytest.raises(zmtp.Again) as info:
            receive()
        elapsed = time.monotonic() - started
        assert 0.15 <= elapsed < 2.0, elapsed
        assert isinstance(info.value, zmtp.ZMQError)
        assert info.value.errno == zmtp.EAGAIN

    pull.rcvtimeo = TIMEOUT_MS
    push.send(b"second")
    assert pull.recv() == b"second"


@pytest.mark.parametrize(
    ("kind", "peer_kind"),
    [(zmtp.PULL, zmq.PUSH), (zmtp.DEALER, zmq.DEALER), (zmtp.PAIR, zmq.PAIR)],
    ids=["zmtp-PULL", "zmtp-DEALER", "zmtp-PAIR"],
)
def test_dontwait_on_empty_recv_raises_again(
    peers: Peers, binder: str, kind: int, peer_kind: int
) -> None:
    ours, theirs = peers.zmtp(kind), peers.libzmq(peer_kind)
    peers.link(binder, [ours], [theirs])
    theirs.send(b"one")
    assert ours.recv() == b"one"

    for receive, flag in ((ours.recv, zmtp.DONTWAIT), (ours.recv_multipart, zmtp.NOBLOCK)):
        started = time.monotonic()
        with pytest.raises(zmtp.Again):
            receive(flag)
        assert time.monotonic() - started < 0.5, "DONTWAIT must not wait for RCVTIMEO"

    theirs.send(b"two")
    wait_for(lambda: bool(ours.poll(STEP_MS)), "the second message")
    assert ours.recv(zmtp.DONTWAIT) == b"two"


def test_poller_wakes_for_the_socket_libzmq_wrote_to(peers: Peers, binder: str) -> None:
    pulls = [peers.zmtp(zmtp.PULL) for _ in range(2)]
    pushes = [peers.libzmq(zmq.PUSH) for _ in range(2)]
    for pull, push in zip(pulls, pushes, strict=True):
        peers.link(binder, [pull], [push])
    poller = zmtp.Poller()
    for pull in pulls:
        poller.register(pull, zmtp.POLLIN)

    started = time.monotonic()
    assert poller.poll(50) == []
    assert time.monotonic() - started >= 0.04

    for index in (1, 0):
        pushes[index].send(b"to %d" % index)
        assert dict(poller.poll(TIMEOUT_MS)) == {pulls[index]: zmtp.POLLIN}
        assert pulls[index].recv(zmtp.DONTWAIT) == b"to %d" % index


# -- wrong socket types -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "binder",
    [
        ZMTP_BINDS,
        LIBZMQ_BINDS,
    ],
)
@pytest.mark.parametrize("wrong", [zmq.PUB, zmq.DEALER], ids=["libzmq-PUB", "libzmq-DEALER"])
def test_push_delivers_nothing_to_a_wrong_type_peer(peers: Peers, binder: str, wrong: int) -> None:
    push = peers.zmtp(zmtp.PUSH)
    intruder, pull = peers.libzmq(wrong), peers.libzmq(zmq.PULL)
    # The wrong peer comes first, so it would be first in the rotation.
    peers.link(binder, [push], [intruder, pull])

    # Messages sent before the handshake failed may be lost (libzmq loses them too);
    # after it, every message must reach the PULL.
    def batch_arrives(first: int) -> bool:
        batch = [b"%d" % n for n in range(first, first + 6)]
        for message in batch:
            push.send(message)
        got = []
        while len(got) < len(batch) and pull.poll(100, zmq.POLLIN):
            got.append(pull.recv())
        poke(intruder)
        return got == batch

    counter = iter(range(0, 10**6, 6))
    wait_for(lambda: batch_arrives(next(counter)), "every message to reach the PULL", timeout=2.0)
    if wrong != zmq.PUB:
        assert nothing_arrives(intruder, 100)


@pytest.mark.parametrize(
    "kind", [zmtp.DEALER, zmtp.SUB, zmtp.PAIR], ids=["zmtp-DEALER", "zmtp-SUB", "zmtp-PAIR"]
)
def test_libzmq_push_delivers_nothing_to_a_wrong_type(peers: Peers, binder: str, kind: int) -> None:
    ours = peers.zmtp(kind)
    if kind == zmtp.SUB:
        ours.subscribe(b"")
    push = peers.libzmq(zmq.PUSH)
    peers.link(binder, [ours], [push])
    # If libzmq binds, it never attaches the refused peer, so it has nowhere to queue this.
    with contextlib.suppress(zmq.Again):
        push.send(b"must not arrive", zmq.DONTWAIT)
    assert nothing_arrives(ours, 300, push)
    ours.rcvtimeo = 0
    with pytest.raises(zmtp.Again):
        ours.recv()
