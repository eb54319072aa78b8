"""Fixtures for the wire tests: a libzmq peer (through pyzmq) and plain listening sockets.

pyzmq is used only as the *peer*: the code under test is ``zmtp``, driven over a plain socket
by :mod:`wire`. Everything stays on 127.0.0.1 (ephemeral ports) or AF_UNIX paths in pytest's
temporary directories, and every wait is bounded.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from socket import socket as PlainSocket
from typing import Any

import pytest
import zmq
from api_peers import Peers
from wire import DEFAULT_TIMEOUT, Wire, WireTimeout
from zmq.utils.monitor import recv_monitor_message


def _type_name(sock: zmq.Socket[bytes]) -> str:
    return zmq.SocketType(int(sock.type)).name


class Libzmq:
    """Makes pyzmq sockets in one context and moves messages to and from them, bounded.

    The send/recv helpers take the :class:`Wire` on our side and keep pumping it while they
    wait, because the two ends are single-threaded on our side: a libzmq socket can only
    receive what we write, and we only write while we pump.
    """

    def __init__(self, context: zmq.Context[zmq.Socket[bytes]], ipc_dir: Path) -> None:
        self.context = context
        self.ipc_dir = ipc_dir
        self._ipc_count = 0

    def socket(self, socket_type: int, **options: Any) -> zmq.Socket[bytes]:
        """Return a socket with LINGER=0 and the given options (``HEARTBEAT_IVL=100``...)."""
        sock = self.context.socket(socket_type)
        sock.setsockopt(zmq.LINGER, 0)
        for name, value in options.items():
            sock.setsockopt(getattr(zmq, name), value)
        return sock

    def bind_tcp(self, sock: zmq.Socket[bytes]) -> tuple[str, int]:
        """Bind on an ephemeral loopback port; return ``(host, port)`` for :meth:`Wire.dial`."""
        sock.bind("tcp://127.0.0.1:*")
        endpoint = sock.getsockopt_string(zmq.LAST_ENDPOINT)
        host, _, port = endpoint.removeprefix("tcp://").rpartition(":")
        return host, int(port)

    def ipc_path(self) -> str:
        """Return a fresh AF_UNIX path in this test's temporary directory."""
        self._ipc_count += 1
        path = str(self.ipc_dir / f"s{self._ipc_count}")
        assert len(path.encode()) < 100, f"ipc path too long for AF_UNIX: {path}"
        return path

    def bind_ipc(self, sock: zmq.Socket[bytes]) -> str:
        """Bind on ``ipc://`` in the temporary directory; return the filesystem path."""
        path = self.ipc_path()
        sock.bind(f"ipc://{path}")
        return path

    @staticmethod
    def poker(sock: zmq.Socket[bytes]) -> Callable[[], object]:
        """Return a poke for :meth:`Wire.pump` that keeps ``sock`` moving.

        Asking for EVENTS makes libzmq process its pending commands (attach a new pipe, send
        cached subscriptions), which it otherwise does only on send/recv/poll (ZMTP-NOTES 8).
        """
        return lambda: sock.getsockopt(zmq.EVENTS)

    @staticmethod
    def connect_to(sock: zmq.Socket[bytes], listener: PlainSocket) -> None:
        """Make ``sock`` dial our plain ``listener`` (TCP on 127.0.0.1, or AF_UNIX)."""
        address = listener.getsockname()
        if listener.family == socket.AF_UNIX:
            sock.connect(f"ipc://{address}")
        else:
            host, port = address
            sock.connect(f"tcp://{host}:{port}")

    def monitor(self, sock: zmq.Socket[bytes]) -> zmq.Socket[bytes]:
        """Return a monitor socket for ``sock``; create it before bind/connect to see all."""
        mon = sock.get_monitor_socket(zmq.EVENT_ALL)
        mon.setsockopt(zmq.LINGER, 0)
        return mon

    def recv(
        self, sock: zmq.Socket[bytes], wire: Wire, timeout: float = DEFAULT_TIMEOUT
    ) -> list[bytes]:
        """Receive one multipart message on the libzmq side while our side keeps pumping."""
        wire.pump(
            lambda: sock.poll(0, zmq.POLLIN),
            timeout,
            what=f"the libzmq {_type_name(sock)} socket to receive a message",
            poke=self.poker(sock),
        )
        return sock.recv_multipart(zmq.NOBLOCK)

    def send(
        self,
        sock: zmq.Socket[bytes],
        frames: list[bytes],
        wire: Wire,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        """Send one multipart message from the libzmq side once it can (bounded, pumping).

        A bound libzmq socket attaches a new peer only when its application thread calls in,
        so "writable" is polled rather than assumed.
        """
        wire.pump(
            lambda: sock.poll(0, zmq.POLLOUT),
            timeout,
            what=f"the libzmq {_type_name(sock)} socket to become writable",
            poke=self.poker(sock),
        )
        sock.send_multipart(frames, zmq.NOBLOCK)

    @staticmethod
    def drain_monitor(mon: zmq.Socket[bytes]) -> list[int]:
        """Return the monitor events queued right now (event numbers), without waiting."""
        events = []
        while mon.poll(0, zmq.POLLIN):
            events.append(recv_monitor_message(mon, zmq.NOBLOCK)["event"])
        return events

    @staticmethod
    def wait_monitor(
        mon: zmq.Socket[bytes],
        event: int,
        timeout: float = DEFAULT_TIMEOUT,
        wire: Wire | None = None,
    ) -> list[int]:
        """Wait (bounded) until ``event`` arrives on ``mon``; return every event seen so far.

        With ``wire`` our side keeps being pumped meanwhile; without it our side stays silent,
        which is what the "stop answering" heartbeat tests need.
        """
        seen: list[int] = []

        def arrived() -> bool:
            seen.extend(Libzmq.drain_monitor(mon))
            return event in seen

        name = zmq.Event(event).name
        if wire is not None:
            wire.pump(arrived, timeout, what=f"libzmq monitor event {name}", stop_on_close=False)
            return seen
        deadline = time.monotonic() + timeout
        while not arrived():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                names = [zmq.Event(e).name for e in seen]
                raise WireTimeout(f"no {name} monitor event within {timeout} s; saw {names}")
            mon.poll(max(1, int(remaining * 1000)), zmq.POLLIN)
        return seen


@pytest.fixture
def zctx() -> Iterator[zmq.Context[zmq.Socket[bytes]]]:
    """A private pyzmq context; every socket in it is closed with LINGER=0 and it is terminated."""
    context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
    yield context
    context.destroy(linger=0)


@pytest.fixture
def libzmq(
    zctx: zmq.Context[zmq.Socket[bytes]], tmp_path_factory: pytest.TempPathFactory
) -> Libzmq:
    """The libzmq peer factory (see :class:`Libzmq`); ipc paths live in a short tmp dir.

    ``tmp_path_factory.mktemp`` keeps the paths short: AF_UNIX paths are limited to about
    107 bytes, and a parametrized test's own ``tmp_path`` can be longer than that.
    """
    return Libzmq(zctx, tmp_path_factory.mktemp("ipc"))


@pytest.fixture
def tcp_listener() -> Iterator[socket.socket]:
    """A plain TCP socket listening on an ephemeral port of 127.0.0.1, for libzmq to dial."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield sock
    sock.close()


@pytest.fixture
def ipc_listener(libzmq: Libzmq) -> Iterator[tuple[socket.socket, str]]:
    """A plain AF_UNIX socket listening in the test's temporary directory, and its path."""
    path = libzmq.ipc_path()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(path)
    sock.listen(8)
    yield sock, path
    sock.close()


@pytest.fixture(params=("tcp", "ipc"))
def peers(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Peers]:
    """A zmtp context and a libzmq context for one test over tcp, then over ipc."""
    both = Peers(str(request.param), tmp_path)
    try:
        yield both
    finally:
        both.close()
