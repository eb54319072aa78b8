"""Both ends for test_api_libzmq.py: zmtp sockets (the code under test) and libzmq peers.

pyzmq (libzmq 4.3.5) is only ever the *peer*. :class:`Peers` makes sockets on both sides with
LINGER 0 and bounded RCVTIMEO/SNDTIMEO, binds them on ephemeral tcp ports or on ipc paths in
the test's temporary directory, and closes and terminates everything at the end of the test.

The wait helpers never sleep for synchronisation: they poll a socket with a short timeout in a
loop bounded by ``WAIT_S``, and poke libzmq sockets meanwhile, because a libzmq socket attaches
a new connection (and replays its subscriptions to it) only when its owner calls into it
(ZMTP-NOTES section 8).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import pytest
import zmq

import zmtp

WAIT_S = 5.0
"""Upper bound of every wait in these tests (seconds)."""
TIMEOUT_MS = int(WAIT_S * 1000)
STEP_MS = 20
"""How long one round of a polling loop waits on a socket (milliseconds)."""

TRANSPORTS = ("tcp", "ipc")
ZMTP_BINDS = "zmtp-binds"
LIBZMQ_BINDS = "libzmq-binds"
BINDERS = (ZMTP_BINDS, LIBZMQ_BINDS)

Sock = Any
"""A zmtp.Socket or a zmq.Socket: both have pyzmq's blocking API."""

ERRORS = (zmtp.ZMQError, zmq.ZMQError)


def is_zmtp(sock: Sock) -> bool:
    return isinstance(sock, zmtp.Socket)


def side(sock: Sock) -> str:
    """Name a socket for messages: ``zmtp PUSH`` or ``libzmq PULL``."""
    if is_zmtp(sock):
        return f"zmtp {zmtp.SocketType(sock.socket_type).name}"
    return f"libzmq {zmq.SocketType(sock.type).name}"


def last_endpoint(sock: Sock) -> str:
    """The resolved endpoint of the socket's last bind, as a str."""
    # Both read it as pyzmq does: bytes, from the LAST_ENDPOINT option.
    return sock.getsockopt_string(zmq.LAST_ENDPOINT)


def poke(*socks: Sock) -> None:
    """Make libzmq sockets process pending commands (attach pipes, send subscriptions)."""
    for sock in socks:
        if not is_zmtp(sock):
            sock.getsockopt(zmq.EVENTS)


class Peers:
    """The sockets of one test, both sides; :meth:`close` ends them all."""

    def __init__(self, transport: str, ipc_dir: Path) -> None:
        assert transport in TRANSPORTS
        self.transport = transport
        self.ipc_dir = ipc_dir
        self.zctx = zmtp.Context()
        self.pctx: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
        self._zmtp: list[zmtp.Socket] = []
        self._libzmq: list[zmq.Socket[bytes]] = []
        self._paths = 0

    # -- sockets ------------------------------------------------------------------------------

    def zmtp(self, socket_type: int, **options: Any) -> zmtp.Socket:
        """A zmtp socket: LINGER 0, RCVTIMEO/SNDTIMEO bounded, then ``options`` (attributes)."""
        sock = self.zctx.socket(socket_type)
        self._zmtp.append(sock)
        sock.linger = 0
        sock.rcvtimeo = TIMEOUT_MS
        sock.sndtimeo = TIMEOUT_MS
        for name, value in options.items():
            setattr(sock, name, value)
        return sock

    def libzmq(self, socket_type: int, **options: Any) -> zmq.Socket[bytes]:
        """A pyzmq socket, configured like :meth:`zmtp`."""
        sock = self.pctx.socket(socket_type)
        self._libzmq.append(sock)
        sock.linger = 0
        sock.rcvtimeo = TIMEOUT_MS
        sock.sndtimeo = TIMEOUT_MS
        for name, value in options.items():
            setattr(sock, name, value)
        return sock

    # -- endpoints ----------------------------------------------------------------------------

    def endpoint(self) -> str:
        """An endpoint to bind: an ephemeral loopback port, or a fresh path in tmp_path."""
        if self.transport == "tcp":
            return "tcp://127.0.0.1:*"
        self._paths += 1
        path = self.ipc_dir / f"s{self._paths}"
        assert len(str(path).encode()) < 100, f"ipc path too long for AF_UNIX: {path}"
        return f"ipc://{path}"

    def free_endpoint(self) -> str:
        """An endpoint nobody listens on yet, for connect-before-bind."""
        if self.transport == "ipc":
            return self.endpoint()
        probe = self.pctx.socket(zmq.PULL)
        try:
            probe.linger = 0
            probe.bind("tcp://127.0.0.1:*")
            return probe.getsockopt_string(zmq.LAST_ENDPOINT)
        finally:
            probe.close()

    def bind(self, sock: Sock, endpoint: str | None = None) -> str:
        """Bind ``sock`` (a fresh endpoint unless given); return its resolved endpoint."""
        sock.bind(endpoint or self.endpoint())
        return last_endpoint(sock)

    def join(self, binders: Sequence[Sock], connecters: Sequence[Sock]) -> list[str]:
        """Each binder binds its own endpoint; each connecter connects to all of them."""
        endpoints = [self.bind(sock) for sock in binders]
        for sock in connecters:
            for endpoint in endpoints:
                sock.connect(endpoint)
        return endpoints

    def link(self, binder: str, ours: Sequence[Sock], theirs: Sequence[Sock]) -> list[str]:
        """Join zmtp sockets ``ours`` and libzmq sockets ``theirs``; ``binder`` says who binds."""
        assert binder in BINDERS
        if binder == ZMTP_BINDS:
            return self.join(ours, theirs)
        return self.join(theirs, ours)

    # -- the end ------------------------------------------------------------------------------

    def close(self) -> None:
        """Close every socket (LINGER 0) and terminate both contexts."""
        try:
            for zsock in self._zmtp:
                zsock.close(linger=0)
            for psock in self._libzmq:
                psock.close(linger=0)
        finally:
            self.zctx.term()
            self.pctx.term()


# -- bounded waits ------------------------------------------------------------------------------


def wait_for(
    condition: Callable[[], bool], what: str, *pokes: Sock, timeout: float = WAIT_S
) -> None:
    """Poll ``condition`` (poking libzmq sockets between rounds) until true, or fail."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        poke(*pokes)


def recv_poking(sock: Sock, *pokes: Sock, timeout: float = WAIT_S) -> list[bytes]:
    """Receive one message on ``sock`` while poking libzmq ``pokes`` (bounded)."""
    ready = lambda: bool(sock.poll(STEP_MS, zmq.POLLIN))  # noqa: E731
    wait_for(ready, f"{side(sock)} to receive", *pokes, timeout=timeout)
    return sock.recv_multipart(zmq.DONTWAIT)


def send_until_received(
    send: Callable[[], object],
    receiver: Sock,
    *pokes: Sock,
    until: Callable[[list[bytes]], bool] = lambda message: True,
    timeout: float = WAIT_S,
) -> list[list[bytes]]:
    """Call ``send`` each round until ``receiver`` gets a message for which ``until``.

    Returns every message received, that one last. For pub/sub, where the publisher drops
    everything until the subscription has reached it.
    """
    received: list[list[bytes]] = []
    deadline = time.monotonic() + timeout
    while True:
        send()
        poke(*pokes)
        while receiver.poll(STEP_MS, zmq.POLLIN):
            received.append(receiver.recv_multipart(zmq.DONTWAIT))
            if until(received[-1]):
                return received
        if time.monotonic() > deadline:
            pytest.fail(f"{side(receiver)} got no final message within {timeout} s: {received}")


def recv_until(sock: Sock, last: Callable[[list[bytes]], bool]) -> list[list[bytes]]:
    """Receive messages (each bounded by RCVTIMEO) up to and including one for which ``last``."""
    messages = []
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        message = sock.recv_multipart()
        messages.append(message)
        if last(message):
            return messages
    pytest.fail(f"{side(sock)} did not receive the final message; got {messages[:10]}...")


def raises_errno(errno: int, call: Callable[[], object]) -> BaseException:
    """Run ``call`` and check that it raises a ZMQError (zmtp or pyzmq) with ``errno``."""
    with pytest.raises(ERRORS) as info:
        call()
    assert info.value.errno == errno, f"expected errno {errno}, got {info.value!r}"
    return info.value


def nothing_arrives(sock: Sock, within_ms: int, *pokes: Sock) -> bool:
    """Whether ``sock`` stays unreadable for ``within_ms`` (poking libzmq ``pokes``)."""
    deadline = time.monotonic() + within_ms / 1000
    while time.monotonic() < deadline:
        poke(*pokes)
        if sock.poll(STEP_MS, zmq.POLLIN):
            return False
    return True


def drain(socks: Iterable[Sock]) -> None:
    """Throw away whatever is queued on ``socks`` right now."""
    for sock in socks:
        while sock.poll(0, zmq.POLLIN):
            sock.recv_multipart(zmq.DONTWAIT)
