"""CURVE (RFC 25/26) between zmtp and libzmq 4.3.5 (pyzmq), both ways, with and without ZAP.

Every case runs over tcp and ipc, once with the zmtp socket binding and once with libzmq
binding. Messages cross in both directions after the handshake, multipart and large ones
included, so the MESSAGE framing (inner MORE/COMMAND flags, nonces) is exercised as well as
the handshake; PUB/SUB puts SUBSCRIBE inside the boxes, and short heartbeats put PING/PONG
there.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
import zmq
from api_peers import BINDERS, TIMEOUT_MS, Peers, nothing_arrives, wait_for
from zap_support import Verdict, ZapHandler
from zmq.auth.thread import ThreadAuthenticator

import zmtp
from zmtp import z85
from zmtp.monitor import recv_monitor_message

pytestmark = pytest.mark.usefixtures("curve_backend")

SERVER_PUBLIC, SERVER_SECRET = zmq.curve_keypair()
CLIENT_PUBLIC, CLIENT_SECRET = zmq.curve_keypair()
STRANGER_PUBLIC, STRANGER_SECRET = zmq.curve_keypair()


def server_options() -> dict[str, object]:
    return {"curve_server": True, "curve_secretkey": SERVER_SECRET}


def client_options(
    public: bytes = CLIENT_PUBLIC, secret: bytes = CLIENT_SECRET, server: bytes = SERVER_PUBLIC
) -> dict[str, object]:
    return {"curve_serverkey": server, "curve_publickey": public, "curve_secretkey": secret}


def allow_client_key(request: list[bytes]) -> Verdict:
    """Accept CLIENT_PUBLIC only; the user id is the key in Z85, as zmq.auth does."""
    key = request[6] if len(request) > 6 else b""
    accepted = key == z85.decode(CLIENT_PUBLIC)
    return accepted, z85.encode(key) if accepted else b""


@pytest.fixture
def key_handler(peers: Peers) -> Iterator[ZapHandler]:
    handler = ZapHandler(peers.zctx, allow_client_key)
    try:
        yield handler
    finally:
        handler.stop()


def _exchange(ours: zmtp.Socket, theirs: zmq.Socket[bytes]) -> None:
    """DEALER/ROUTER-agnostic round trip: multipart and a 200 kB frame, both directions."""
    big = bytes(range(256)) * 800
    ours.send_multipart([b"from zmtp", b"", big])
    got = theirs.recv_multipart()
    assert got[-3:] == [b"from zmtp", b"", big]
    theirs.send_multipart([*got[:-3], b"from libzmq", big])
    assert ours.recv_multipart()[-2:] == [b"from libzmq", big]


@pytest.mark.parametrize("binder", BINDERS)
def test_zmtp_client_libzmq_server(peers: Peers, binder: str) -> None:
    """zmtp's CURVE client against libzmq's server (no ZAP: any client key is accepted)."""
    client = peers.zmtp(zmtp.DEALER, **client_options())
    server = peers.libzmq(zmq.ROUTER, **server_options())
    peers.link(binder, [client], [server])
    _exchange(client, server)
    assert client.getsockopt(zmtp.MECHANISM) == zmq.CURVE


@pytest.mark.parametrize("binder", BINDERS)
def test_libzmq_client_zmtp_server(peers: Peers, binder: str) -> None:
    """libzmq's CURVE client against zmtp's server (no ZAP handler: every key accepted)."""
    server = peers.zmtp(zmtp.ROUTER, **server_options())
    client = peers.libzmq(zmq.DEALER, **client_options())
    peers.link(binder, [server], [client])
    client.send_multipart([b"hello", b"", b"x" * 70000])
    envelope, *body = server.recv_multipart()
    assert body == [b"hello", b"", b"x" * 70000]
    server.send_multipart([envelope, b"back", b"y" * 70000])
    assert client.recv_multipart() == [b"back", b"y" * 70000]


@pytest.mark.parametrize("binder", BINDERS)
def test_libzmq_authenticator_allows_zmtp_client(peers: Peers, binder: str) -> None:
    """pyzmq's ThreadAuthenticator (libzmq ZAP) sees our long-term key and lets us in."""
    auth = ThreadAuthenticator(peers.pctx)
    auth.start()
    try:
        auth.configure_curve(domain="*", location=zmq.auth.CURVE_ALLOW_ANY)
        client = peers.zmtp(zmtp.DEALER, **client_options())
        server = peers.libzmq(zmq.ROUTER, **server_options())
        peers.link(binder, [client], [server])
        client.send(b"via ZAP")
        frames = server.recv_multipart(copy=False)
        assert frames[-1].bytes == b"via ZAP"
        assert frames[-1].get("User-Id") == CLIENT_PUBLIC.decode()
    finally:
        auth.stop()


@pytest.mark.parametrize("binder", BINDERS)
def test_zmtp_zap_allow_list(peers: Peers, key_handler: ZapHandler, binder: str) -> None:
    """Our ZAP handler gets the client's long-term key; an unknown key is refused and the
    server keeps serving the allowed client."""
    server = peers.zmtp(zmtp.ROUTER, **server_options())
    stranger = peers.libzmq(
        zmq.DEALER, **client_options(public=STRANGER_PUBLIC, secret=STRANGER_SECRET)
    )
    monitor = server.get_monitor_socket()
    peers._zmtp.append(monitor)
    peers.link(binder, [server], [stranger])
    with contextlib.suppress(zmq.Again):
        stranger.send(b"must not arrive", zmq.NOBLOCK)
    monitor.rcvtimeo = TIMEOUT_MS
    while recv_monitor_message(monitor)["event"] != zmtp.EVENT_HANDSHAKE_FAILED_AUTH:
        pass
    friend = peers.libzmq(zmq.DEALER, **client_options())
    peers.link(binder, [server], [friend])
    friend.send(b"allowed")
    assert server.recv_multipart()[-1] == b"allowed"
    mechanisms = {request[5] for request in key_handler.requests}
    keys = {request[6] for request in key_handler.requests}
    assert mechanisms == {b"CURVE"}
    assert keys == {z85.decode(CLIENT_PUBLIC), z85.decode(STRANGER_PUBLIC)}


@pytest.mark.parametrize("binder", BINDERS)
def test_wrong_server_key_is_refused(peers: Peers, binder: str) -> None:
    """A client that does not know the server's key cannot make a HELLO it accepts."""
    client = peers.zmtp(zmtp.DEALER, **client_options(server=STRANGER_PUBLIC))
    server = peers.libzmq(zmq.ROUTER, **server_options())
    peers.link(binder, [client], [server])
    with contextlib.suppress(zmtp.Again):
        client.send(b"must not arrive", zmtp.NOBLOCK)
    assert nothing_arrives(server, 300)


@pytest.mark.parametrize("binder", BINDERS)
def test_libzmq_client_with_wrong_server_key(peers: Peers, binder: str) -> None:
    """zmtp's server refuses a libzmq HELLO boxed for another server key."""
    server = peers.zmtp(zmtp.ROUTER, **server_options())
    client = peers.libzmq(zmq.DEALER, **client_options(server=STRANGER_PUBLIC))
    peers.link(binder, [server], [client])
    with contextlib.suppress(zmq.Again):
        client.send(b"must not arrive", zmq.NOBLOCK)
    assert nothing_arrives(server, 300)


@pytest.mark.parametrize("binder", BINDERS)
def test_pubsub_subscriptions_travel_boxed(peers: Peers, binder: str) -> None:
    """SUBSCRIBE goes inside MESSAGE boxes: libzmq's PUB filters for our SUB, and ours for its."""
    pub = peers.libzmq(zmq.PUB, **server_options())
    sub = peers.zmtp(zmtp.SUB, **client_options())
    sub.subscribe(b"yes")
    peers.link(binder, [sub], [pub])

    def published() -> bool:
        pub.send(b"no thanks")
        pub.send(b"yes please")
        return sub.poll(20) != 0

    wait_for(published, "a matching message through libzmq's PUB")
    assert sub.recv().startswith(b"yes")

    zpub = peers.zmtp(zmtp.PUB, **server_options())
    lsub = peers.libzmq(zmq.SUB, **client_options())
    lsub.subscribe(b"yes")
    peers.link(binder, [zpub], [lsub])

    def ours_published() -> bool:
        zpub.send(b"no thanks")
        zpub.send(b"yes please")
        return lsub.poll(20) != 0

    wait_for(ours_published, "a matching message through zmtp's PUB")
    assert lsub.recv().startswith(b"yes")


@pytest.mark.parametrize("binder", BINDERS)
def test_heartbeats_inside_boxes(peers: Peers, binder: str) -> None:
    """PING/PONG travel boxed both ways: with 50 ms heartbeats and a 150 ms timeout on both
    sides, the connection survives a quiet half second and still carries messages."""
    hb = {"heartbeat_ivl": 50, "heartbeat_timeout": 150}
    client = peers.zmtp(zmtp.DEALER, **client_options(), **hb)
    server = peers.libzmq(zmq.ROUTER, **server_options(), **hb)
    monitor = client.get_monitor_socket()
    peers._zmtp.append(monitor)
    peers.link(binder, [client], [server])
    client.send(b"first")
    envelope, first = server.recv_multipart()
    assert first == b"first"
    assert nothing_arrives(client, 500)
    server.send_multipart([envelope, b"still here"])
    assert client.recv() == b"still here"
    events = []
    while monitor.poll(0):
        events.append(recv_monitor_message(monitor)["event"])
    assert zmtp.EVENT_DISCONNECTED not in events
