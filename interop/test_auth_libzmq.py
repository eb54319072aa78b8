"""zmtp's ``ThreadAuthenticator`` deciding on libzmq 4.3.5 (pyzmq) clients of zmtp servers.

The authenticator runs in the zmtp context of the server; the clients are libzmq's. Each case
pairs a refused client with an accepted one on the same server: the accepted client's message
must arrive and the refused one's must not (it sends first, so its message would be ahead of
the other's). PLAIN and CURVE run over tcp and ipc; the IP checks need tcp, whose ZAP address
is the client's IP.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import zmq
from api_peers import Peers, nothing_arrives

import zmtp
from zmtp.auth import CURVE_ALLOW_ANY, ThreadAuthenticator, create_certificates, load_certificate

QUIET_MS = 300
"""How long a refused client's message is given to (wrongly) arrive."""


@pytest.fixture
def tcp_peers(tmp_path: Path) -> Iterator[Peers]:
    both = Peers("tcp", tmp_path)
    try:
        yield both
    finally:
        both.close()


def _authenticator(peers: Peers) -> Iterator[ThreadAuthenticator]:
    auth = ThreadAuthenticator(peers.zctx)
    auth.start()
    try:
        yield auth
    finally:
        auth.stop()


@pytest.fixture
def auth(peers: Peers) -> Iterator[ThreadAuthenticator]:
    yield from _authenticator(peers)


@pytest.fixture
def tcp_auth(tcp_peers: Peers) -> Iterator[ThreadAuthenticator]:
    yield from _authenticator(tcp_peers)


def send_refused(sock: zmq.Socket[bytes], message: bytes = b"must not arrive") -> None:
    """Queue a message if the socket can (a DEALER without a peer cannot, and must not block)."""
    with contextlib.suppress(zmq.Again):
        sock.send(message, zmq.NOBLOCK)


def refused_then_accepted(
    server: zmtp.Socket, refused: zmq.Socket[bytes], accepted: zmq.Socket[bytes]
) -> None:
    """The accepted client's message arrives, and nothing from the refused one does."""
    send_refused(refused)
    accepted.send(b"accepted")
    assert server.recv_multipart()[-1] == b"accepted"
    assert nothing_arrives(server, QUIET_MS, refused, accepted)


def test_plain_password(peers: Peers, auth: ThreadAuthenticator) -> None:
    auth.configure_plain(domain="*", passwords={"admin": "secret"})
    server = peers.zmtp(zmtp.ROUTER, plain_server=True)
    endpoint = peers.bind(server)
    liar = peers.libzmq(zmq.DEALER, plain_username=b"admin", plain_password=b"wrong")
    honest = peers.libzmq(zmq.DEALER, plain_username=b"admin", plain_password=b"secret")
    liar.connect(endpoint)
    honest.connect(endpoint)
    refused_then_accepted(server, liar, honest)


def test_plain_domain(peers: Peers, auth: ThreadAuthenticator) -> None:
    """The server's ZAP_DOMAIN picks the password table."""
    auth.configure_plain(domain="global", passwords={"admin": "secret"})
    auth.configure_plain(domain="other", passwords={"guest": "guest"})
    server = peers.zmtp(zmtp.ROUTER, plain_server=True, zap_domain=b"global")
    endpoint = peers.bind(server)
    guest = peers.libzmq(zmq.DEALER, plain_username=b"guest", plain_password=b"guest")
    admin = peers.libzmq(zmq.DEALER, plain_username=b"admin", plain_password=b"secret")
    guest.connect(endpoint)
    admin.connect(endpoint)
    refused_then_accepted(server, guest, admin)


def _curve_server(peers: Peers, tmp_path: Path) -> tuple[zmtp.Socket, bytes]:
    """A zmtp CURVE server with keys from a certificate; returns it and its public key."""
    server_dir = tmp_path / "server"
    server_dir.mkdir()
    _, secret_file = create_certificates(server_dir, "server")
    public, secret = load_certificate(secret_file)
    server = peers.zmtp(zmtp.ROUTER, curve_server=True, curve_secretkey=secret)
    return server, public


def _curve_client(peers: Peers, server_key: bytes, keys: tuple[bytes, bytes]) -> zmq.Socket[bytes]:
    public, secret = keys
    return peers.libzmq(
        zmq.DEALER, curve_serverkey=server_key, curve_publickey=public, curve_secretkey=secret
    )


def test_curve_certificate_directory(
    peers: Peers, auth: ThreadAuthenticator, tmp_path: Path
) -> None:
    clients = tmp_path / "clients"
    clients.mkdir()
    _, friend_secret_file = create_certificates(clients, "friend")
    friend_public, friend_secret = load_certificate(friend_secret_file)
    assert friend_secret is not None
    auth.configure_curve(domain="*", location=clients)
    server, server_key = _curve_server(peers, tmp_path)
    endpoint = peers.bind(server)
    stranger = _curve_client(peers, server_key, zmq.curve_keypair())
    friend = _curve_client(peers, server_key, (friend_public, friend_secret))
    stranger.connect(endpoint)
    friend.connect(endpoint)
    refused_then_accepted(server, stranger, friend)


def test_curve_allow_any(peers: Peers, auth: ThreadAuthenticator, tmp_path: Path) -> None:
    """Any key gets in; a client that does not know the server's key still does not."""
    auth.configure_curve(domain="*", location=CURVE_ALLOW_ANY)
    server, server_key = _curve_server(peers, tmp_path)
    endpoint = peers.bind(server)
    wrong_server_key, _ = zmq.curve_keypair()
    lost = _curve_client(peers, wrong_server_key, zmq.curve_keypair())
    anyone = _curve_client(peers, server_key, zmq.curve_keypair())
    lost.connect(endpoint)
    anyone.connect(endpoint)
    refused_then_accepted(server, lost, anyone)


def test_null_deny_by_address(tcp_peers: Peers, tcp_auth: ThreadAuthenticator) -> None:
    """A NULL server with a ZAP domain asks ZAP, which denies 127.0.0.1; a server without a
    domain does not ask, so the same client gets through to it."""
    tcp_auth.deny("127.0.0.1")
    guarded = tcp_peers.zmtp(zmtp.ROUTER, zap_domain=b"global")
    open_server = tcp_peers.zmtp(zmtp.ROUTER)
    client = tcp_peers.libzmq(zmq.DEALER)
    client.connect(tcp_peers.bind(guarded))
    send_refused(client)
    other = tcp_peers.libzmq(zmq.DEALER)
    other.connect(tcp_peers.bind(open_server))
    other.send(b"no ZAP here")
    assert open_server.recv_multipart()[-1] == b"no ZAP here"
    assert nothing_arrives(guarded, QUIET_MS, client)


def test_null_allow_by_address(tcp_peers: Peers, tcp_auth: ThreadAuthenticator) -> None:
    tcp_auth.allow("127.0.0.1")
    server = tcp_peers.zmtp(zmtp.ROUTER, zap_domain=b"global")
    client = tcp_peers.libzmq(zmq.DEALER)
    client.connect(tcp_peers.bind(server))
    client.send(b"allowed")
    assert server.recv_multipart()[-1] == b"allowed"


def test_null_allow_list_refuses_other_addresses(
    tcp_peers: Peers, tcp_auth: ThreadAuthenticator
) -> None:
    """Only 10.0.0.1 is allowed: a loopback client is refused."""
    tcp_auth.allow("10.0.0.1")
    server = tcp_peers.zmtp(zmtp.ROUTER, zap_domain=b"global")
    client = tcp_peers.libzmq(zmq.DEALER)
    client.connect(tcp_peers.bind(server))
    send_refused(client)
    assert nothing_arrives(server, QUIET_MS, client)
