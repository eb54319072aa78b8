"""The interface a byte-stream transport implements (tcp://, ipc://, or a third party's).

A transport knows two things: how to read its endpoint strings (with libzmq's errors for bad
ones) and how to open a listening or connected stream socket with asyncio. Everything above
the byte stream (ZMTP, sessions, reconnects) is the engine's job, so a new scheme is a small
class registered under the ``zmtp.transports`` entry-point group.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol


class PeerSocket(Protocol):
    """What a transport reads of a connected socket: a ``socket.socket`` or asyncio's view."""

    def getpeername(self) -> Any:
        """Return the peer's address as the socket family gives it."""

    def getsockopt(self, level: int, option: int, buflen: int, /) -> Any:
        """Read a socket option (ipc reads SO_PEERCRED)."""


@dataclass(frozen=True, slots=True)
class TransportOptions:
    """The socket options a transport needs (libzmq names, libzmq units)."""

    ipv6: bool = False
    backlog: int = 100
    tcp_keepalive: int = -1
    tcp_keepalive_idle: int = -1
    tcp_keepalive_cnt: int = -1
    tcp_keepalive_intvl: int = -1
    connect_timeout_ms: int = 0


@dataclass(frozen=True, slots=True)
class Listening:
    """A bound listener: the asyncio server and the endpoint as LAST_ENDPOINT reports it."""

    server: asyncio.AbstractServer
    endpoint: str


ProtocolFactory = Callable[[], asyncio.Protocol]


class StreamTransport(ABC):
    """A scheme whose peers are reached through a stream socket carrying ZMTP."""

    scheme: ClassVar[str]

    @abstractmethod
    def check_bind(self, address: str, options: TransportOptions) -> None:
        """Raise ZMQError (EINVAL, ENODEV, ...) if ``address`` cannot be bound, as libzmq does."""

    @abstractmethod
    def check_connect(self, address: str, options: TransportOptions) -> None:
        """Raise ZMQError (EINVAL, ...) if ``address`` is not a valid connect address."""

    @abstractmethod
    async def listen(
        self, address: str, options: TransportOptions, factory: ProtocolFactory
    ) -> Listening:
        """Bind and listen; raise ZMQError (EADDRINUSE, EADDRNOTAVAIL, ...) on failure."""

    @abstractmethod
    async def open(
        self, address: str, options: TransportOptions, factory: ProtocolFactory
    ) -> asyncio.Transport:
        """Connect once (the engine retries); raise OSError on failure."""

    def unlisten(self, listening: Listening) -> None:  # noqa: B027 (optional hook, no-op)
        """Release what ``listen`` took beyond the socket (ipc: the socket file)."""

    def peer_address(self, transport: asyncio.BaseTransport) -> bytes:
        """Return the peer address of an asyncio connection as ZAP wants it."""
        sock = transport.get_extra_info("socket")
        return b"" if sock is None else self.socket_peer_address(sock)

    def socket_peer_address(self, sock: PeerSocket) -> bytes:
        """Return the peer address of a connected socket as ZAP and ``Peer-Address`` want it.

        Taking the socket, not an asyncio transport, lets every driver (asyncio's, Twisted's)
        ask the same question. The default, for schemes without addresses, is empty.
        """
        return b""
