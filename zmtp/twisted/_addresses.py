"""tcp:// and ipc:// endpoints opened with the reactor's own listeners and connectors.

The endpoint grammar, its libzmq errors and the ipc file rules are the transports' (module
:mod:`transports.tcp` and :mod:`transports.ipc`); their parsers and file helpers are used here
as they are, so a string the blocking API refuses is refused here with the same errno, and an
ipc file is taken over and cleaned up by the same rules. Only the sockets differ: they are
``reactor.listenTCP``/``listenUNIX`` ports and ``connectTCP``/``connectUNIX`` connectors, so the
reactor (select, poll, epoll, asyncio...) drives them natively.

Host names: a bind name is looked up when ``bind()`` is called, blocking, as libzmq's bind does;
a connect name is looked up at every attempt by the reactor's resolver (Twisted's default one
runs ``getaddrinfo`` in the reactor's thread pool; numeric addresses never touch it).
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from typing import Any

from twisted.internet import tcp, unix
from twisted.internet.address import IPv6Address
from twisted.internet.error import CannotListenError
from twisted.internet.protocol import ClientFactory, ServerFactory
from twisted.python.failure import Failure

from transports import get_transport
from transports import ipc as ipc_transport
from transports import tcp as tcp_transport
from transports.base import TransportOptions
from zmtp.constants import Errno
from zmtp.errors import zmq_error
from zmtp.twisted._types import Connector, ListeningPort, Reactor, Transport

# Twisted's own default for connectTCP/connectUNIX when CONNECT_TIMEOUT is 0 (OS default).
_DEFAULT_CONNECT_TIMEOUT = 30.0


@dataclass(eq=False)
class Listener:
    """A bound endpoint: the reactor's listening port and LAST_ENDPOINT."""

    port: ListeningPort
    endpoint: str


class _IpcPort(unix.Port):
    """A listening Unix socket that removes its file by the ipc transport's rules.

    Twisted's own port unlinks whatever is at its path when it closes; the ipc transport
    removes the file only if it is still the one this listener created (another process may
    have taken the path over), and also removes the ``ipc://*`` directory.
    """

    def __init__(
        self, path: bytes, factory: ServerFactory, backlog: int, reactor: Reactor, cleanup: Any
    ) -> None:
        super().__init__(path, factory, backlog, reactor=reactor)  # type: ignore[arg-type]
        self._cleanup = cleanup

    def connectionLost(self, reason: Failure) -> None:
        self._cleanup()
        tcp.Port.connectionLost(self, reason)  # type: ignore[no-untyped-call]


def check_bind(scheme: str, address: str, options: TransportOptions) -> None:
    """Refuse what libzmq's bind refuses (the transport's own check)."""
    get_transport(scheme).check_bind(address, options)


def check_connect(scheme: str, address: str, options: TransportOptions) -> None:
    """Refuse what libzmq's connect refuses (the transport's own check)."""
    get_transport(scheme).check_connect(address, options)


def listen(
    reactor: Reactor, scheme: str, address: str, options: TransportOptions, factory: ServerFactory
) -> Listener:
    """Bind and listen on ``scheme://address``; raise ZMQError (EADDRINUSE...) on failure."""
    check_bind(scheme, address, options)
    if scheme == "tcp":
        return _listen_tcp(reactor, address, options, factory)
    if scheme == "ipc":
        return _listen_ipc(reactor, address, options, factory)
    raise zmq_error(Errno.EPROTONOSUPPORT, f"{scheme}:// is not supported by zmtp.twisted")


def connect(
    reactor: Reactor, scheme: str, address: str, options: TransportOptions, factory: ClientFactory
) -> Connector:
    """Start one connection attempt; the factory hears of success or failure."""
    timeout = options.connect_timeout_ms / 1000 or _DEFAULT_CONNECT_TIMEOUT
    if scheme == "tcp":
        endpoint = f"tcp://{address}"
        target = tcp_transport.parse_connect(address, options.ipv6, endpoint)
        bind_address = None
        if target.source is not None:
            source = tcp_transport.resolve_local(
                target.source, options.ipv6, endpoint, allow_dns=False
            )
            assert source is not None  # allow_dns=False never defers
            bind_address = (source.sockaddr[0], source.sockaddr[1])
        host = target.peer.host
        if target.peer.zone:
            host = f"{host}%{target.peer.zone}"
        connector: Connector = reactor.connectTCP(
            host, target.peer.port, factory, timeout=timeout, bindAddress=bind_address
        )
        return connector
    if scheme == "ipc":
        raw = ipc_transport.encoded_path(address, f"ipc://{address}")
        path = raw.decode("utf-8", "surrogateescape")
        connector = reactor.connectUNIX(path, factory, timeout=timeout)
        return connector
    raise zmq_error(Errno.EPROTONOSUPPORT, f"{scheme}:// is not supported by zmtp.twisted")


def tune(scheme: str, transport: Transport, options: TransportOptions) -> None:
    """Apply libzmq's per-connection TCP settings (TCP_NODELAY, keepalives) to a new stream."""
    if scheme != "tcp":
        return
    handle = transport.getHandle()
    if isinstance(handle, socket.socket):
        tcp_transport.tune(handle, options)


def peer_address(scheme: str, transport: Transport) -> bytes:
    """Return the peer address as ZAP and ``Peer-Address`` want it, as the transports do."""
    handle = transport.getHandle()
    if not isinstance(handle, socket.socket):
        return b""
    return get_transport(scheme).socket_peer_address(handle)


def _listen_error(endpoint: str, exc: CannotListenError) -> Exception:
    cause = exc.socketError
    errno = getattr(cause, "errno", None) or Errno.EINVAL
    reason = getattr(cause, "strerror", None) or str(cause)
    return zmq_error(errno, f"{endpoint}: cannot bind: {reason}")


def _listen_tcp(
    reactor: Reactor, address: str, options: TransportOptions, factory: ServerFactory
) -> Listener:
    transport = get_transport("tcp")
    assert isinstance(transport, tcp_transport.TcpTransport)
    endpoint, local = transport.bind_target(address, options)
    resolved = tcp_transport.resolve_local(local, options.ipv6, endpoint, allow_dns=True)
    if resolved is None:
        resolved = tcp_transport.resolve_bind_name(local, options.ipv6, endpoint)
    host = resolved.sockaddr[0]
    if len(resolved.sockaddr) == 4 and resolved.sockaddr[3]:
        host = f"{host}%{resolved.sockaddr[3]}"
    try:
        port: ListeningPort = reactor.listenTCP(
            resolved.sockaddr[1], factory, backlog=options.backlog, interface=host
        )
    except CannotListenError as exc:
        raise _listen_error(endpoint, exc) from exc
    bound = port.getHost()
    if isinstance(bound, IPv6Address):
        last = f"tcp://[{bound.host}]:{bound.port}"
    else:
        last = f"tcp://{bound.host}:{bound.port}"
    return Listener(port, last)


def _listen_ipc(
    reactor: Reactor, address: str, options: TransportOptions, factory: ServerFactory
) -> Listener:
    endpoint = f"ipc://{address}"
    directory = None
    if address.startswith("*"):
        directory = ipc_transport.make_wildcard_directory(endpoint)
        address = f"{directory}/socket"
    try:
        raw = ipc_transport.encoded_path(address, endpoint)
        abstract = raw.startswith(b"\0")
        if not abstract:
            ipc_transport.remove_stale_socket(address)
        # Known once bound: the file (device, inode) that closing may remove.
        created: list[ipc_transport.BoundFile] = []
        port = _IpcPort(raw, factory, options.backlog, reactor, lambda: _remove_files(created))
        try:
            port.startListening()  # type: ignore[no-untyped-call]
        except CannotListenError as exc:
            raise _listen_error(endpoint, exc) from exc
        created.append(
            ipc_transport.BoundFile(
                os.path.abspath(address),
                None if abstract else ipc_transport.device_inode(address),
                os.path.abspath(directory) if directory is not None else None,
            )
        )
    except BaseException:
        if directory is not None:
            os.rmdir(directory)
        raise
    return Listener(port, f"ipc://{address}")


def _remove_files(created: list[ipc_transport.BoundFile]) -> None:
    for bound in created:
        ipc_transport.remove_bound_file(bound)
