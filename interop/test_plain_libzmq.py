"""PLAIN (RFC 24) and ZAP (RFC 27) between zmtp and libzmq 4.3.5 (pyzmq), both ways.

Every case runs over tcp and ipc, once with the zmtp socket binding and once with libzmq
binding: who binds and who is the PLAIN server are independent. On the libzmq side ZAP is
pyzmq's ``ThreadAuthenticator``; on the zmtp side it is a REP socket bound at
``inproc://zeromq.zap.01`` in the zmtp context, answering from a password table and recording
the requests it saw, so the tests can check what a zmtp server asks.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
import zmq
from api_peers import BINDERS, TIMEOUT_MS, Peers, nothing_arrives
from zap_support import Verdict, ZapHandler
from zmq.auth.thread import ThreadAuthenticator

import zmtp
from zmtp.monitor import recv_monitor_message

PASSWORDS = {b"admin": b"secret"}


@pytest.fixture
def libzmq_auth(peers: Peers) -> Iterator[ThreadAuthenticator]:
    auth = ThreadAuthenticator(peers.pctx)
    auth.start()
    auth.configure_plain(domain="*", passwords={"admin": "secret"})
    try:
        yield auth
    finally:
        auth.stop()


def check_password(request: list[bytes]) -> Verdict:
    """Accept the user names and passwords of PASSWORDS; the user id is the user name."""
    user, password = [*request[6:8], b"", b""][:2]
    return PASSWORDS.get(user) == password, user


@pytest.fixture
def zap(peers: Peers) -> Iterator[ZapHandler]:
    handler = ZapHandler(peers.zctx, check_password)
    try:
        yield handler
    finally:
        handler.stop()


def _join(peers: Peers, binder: str, ours: zmtp.Socket, theirs: zmq.Socket[bytes]) -> None:
    peers.link(binder, [ours], [theirs])


def _zmtp_monitor(peers: Peers, sock: zmtp.Socket) -> zmtp.Socket:
    """A monitor socket that the fixture closes with the others."""
    monitor = sock.get_monitor_socket()
    peers._zmtp.append(monitor)
    return monitor


def _auth_failures(monitor: zmtp.Socket) -> list[int]:
    """HANDSHAKE_FAILED_AUTH values seen within the timeout (stops at the first one)."""
    monitor.rcvtimeo = TIMEOUT_MS
    while True:
        event = recv_monitor_message(monitor)
        if event["event"] == zmtp.EVENT_HANDSHAKE_FAILED_AUTH:
            return [event["value"]]


@pytest.mark.parametrize("binder", BINDERS)
def test_zmtp_client_libzmq_server(
    peers: Peers, libzmq_auth: ThreadAuthenticator, binder: str
) -> None:
    """A zmtp PLAIN client is accepted by libzmq's ZAP; libzmq sees its User-Id."""
    client = peers.zmtp(zmtp.REQ, plain_username=b"admin", plain_password=b"secret")
    server = peers.libzmq(zmq.REP, plain_server=True)
    _join(peers, binder, client, server)
    client.send(b"request")
    frame = server.recv(copy=False)
    assert frame.bytes == b"request"
    assert frame.get("User-Id") == "admin"
    server.send(b"reply")
    assert client.recv() == b"reply"
    assert client.getsockopt(zmtp.MECHANISM) == zmq.PLAIN


@pytest.mark.parametrize("binder", BINDERS)
def test_libzmq_client_zmtp_server(peers: Peers, zap: ZapHandler, binder: str) -> None:
    """libzmq's PLAIN client is checked by the zmtp context's ZAP handler and served."""
    server = peers.zmtp(zmtp.REP, plain_server=True, zap_domain=b"global")
    client = peers.libzmq(zmq.REQ, plain_username=b"admin", plain_password=b"secret")
    _join(peers, binder, server, client)
    client.send(b"request")
    frame = server.recv(copy=False)
    assert frame.bytes == b"request"
    # The properties libzmq would give the message: ZAP's user id, the peer's type and address.
    assert frame.get("User-Id") == "admin"
    assert frame.get("Socket-Type") == "REQ"
    if peers.transport == "tcp":
        assert frame.get("Peer-Address") == "127.0.0.1"
    server.send(b"reply")
    assert client.recv() == b"reply"
    # The handler is a REP: it only hands over requests that came with the empty delimiter.
    version, request_id, domain, _address, _identity, mechanism, *credentials = zap.requests[0]
    assert (version, request_id, domain, mechanism) == (b"1.0", b"1", b"global", b"PLAIN")
    assert credentials == [b"admin", b"secret"]


def test_zmtp_and_libzmq_clients_on_one_zmtp_server(peers: Peers, zap: ZapHandler) -> None:
    """One zmtp PLAIN server serves a zmtp and a libzmq client side by side."""
    server = peers.zmtp(zmtp.ROUTER, plain_server=True)
    endpoint = peers.bind(server)
    client = peers.zmtp(zmtp.DEALER, plain_username=b"admin", plain_password=b"secret")
    other = peers.libzmq(zmq.DEALER, plain_username=b"admin", plain_password=b"secret")
    client.connect(endpoint)
    other.connect(endpoint)
    client.send(b"from zmtp")
    other.send(b"from libzmq")
    got = sorted(server.recv_multipart()[1] for _ in range(2))
    assert got == [b"from libzmq", b"from zmtp"]


@pytest.mark.parametrize("binder", BINDERS)
def test_wrong_password_refused_by_libzmq(
    peers: Peers, libzmq_auth: ThreadAuthenticator, binder: str
) -> None:
    """libzmq's ERROR (in its own 5E "RROR" encoding) ends a zmtp client's handshake: nothing
    is delivered, the monitor says HANDSHAKE_FAILED_AUTH 400, and there is no retry."""
    client = peers.zmtp(zmtp.DEALER, plain_username=b"admin", plain_password=b"wrong")
    monitor = _zmtp_monitor(peers, client)
    server = peers.libzmq(zmq.ROUTER, plain_server=True)
    _join(peers, binder, client, server)
    with contextlib.suppress(zmtp.Again):  # a binding DEALER has no peer to queue for
        client.send(b"must not arrive", zmtp.NOBLOCK)
    assert _auth_failures(monitor) == [400]
    assert nothing_arrives(server, 200)


@pytest.mark.parametrize("binder", BINDERS)
def test_wrong_password_refused_by_zmtp(peers: Peers, zap: ZapHandler, binder: str) -> None:
    """A zmtp server sends ERROR 400 on the handler's verdict, delivers nothing from the
    refused client and keeps serving an honest one."""
    server = peers.zmtp(zmtp.ROUTER, plain_server=True)
    monitor = _zmtp_monitor(peers, server)
    liar = peers.libzmq(zmq.DEALER, plain_username=b"admin", plain_password=b"wrong")
    liar_monitor = liar.get_monitor_socket()
    peers._libzmq.append(liar_monitor)
    _join(peers, binder, server, liar)
    with contextlib.suppress(zmq.Again):  # a binding DEALER has no peer to queue for
        liar.send(b"must not arrive", zmq.NOBLOCK)
    assert _auth_failures(monitor) == [400]
    # libzmq's client only understands its own misencoded ERROR (see plain.py), so it ends
    # the handshake on our RFC-form ERROR as an unexpected command: refused all the same.
    assert _libzmq_handshake_failure(liar_monitor) == (
        zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL,
        zmq.PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND,
    )
    honest = peers.libzmq(zmq.DEALER, plain_username=b"admin", plain_password=b"secret")
    _join(peers, binder, server, honest)
    honest.send(b"honest")
    assert server.recv_multipart()[1] == b"honest"


def _libzmq_handshake_failure(monitor: zmq.Socket[bytes]) -> tuple[int, int]:
    """The first HANDSHAKE_FAILED_* event a libzmq monitor reports, as (event, value)."""
    from zmq.utils.monitor import recv_monitor_message as recv_libzmq_event  # noqa: PLC0415

    failures = (
        zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL
        | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL
        | zmq.EVENT_HANDSHAKE_FAILED_AUTH
    )
    monitor.rcvtimeo = TIMEOUT_MS
    while True:
        event = recv_libzmq_event(monitor)
        if event["event"] & failures:
            return int(event["event"]), int(event["value"])


@pytest.mark.parametrize("binder", BINDERS)
def test_zmtp_server_without_zap_handler_accepts_nobody(peers: Peers, binder: str) -> None:
    """As libzmq: a PLAIN server with no ZAP handler closes after HELLO, whatever the password."""
    server = peers.zmtp(zmtp.ROUTER, plain_server=True)
    client = peers.libzmq(zmq.DEALER, plain_username=b"admin", plain_password=b"secret")
    _join(peers, binder, server, client)
    with contextlib.suppress(zmq.Again):
        client.send(b"must not arrive", zmq.NOBLOCK)
    assert nothing_arrives(server, 300)


@pytest.mark.parametrize("binder", BINDERS)
def test_mechanism_mismatch(peers: Peers, binder: str) -> None:
    """A zmtp PLAIN client and a libzmq NULL server never exchange a message."""
    client = peers.zmtp(zmtp.DEALER, plain_username=b"admin", plain_password=b"secret")
    server = peers.libzmq(zmq.ROUTER)
    _join(peers, binder, client, server)
    with contextlib.suppress(zmtp.Again):
        client.send(b"must not arrive", zmtp.NOBLOCK)
    assert nothing_arrives(server, 300)
