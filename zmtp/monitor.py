"""Socket monitoring in libzmq's format, so code that parses libzmq monitor messages works.

A monitored socket reports events to a PAIR socket bound at an inproc endpoint. Each event is a
two-frame message (libzmq's version 1 format): six octets holding the event number (u16) and
its value (u32) in host byte order, then the endpoint as text. The values follow libzmq: a file
descriptor for CONNECTED/ACCEPTED/LISTENING/CLOSED/DISCONNECTED, an errno for the *_FAILED
events and CONNECT_DELAYED, the next interval in ms for CONNECT_RETRIED, the protocol error code
for HANDSHAKE_FAILED_PROTOCOL and the ZAP status for HANDSHAKE_FAILED_AUTH.
"""

from __future__ import annotations

import errno as _errno
import inspect
import struct
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, TypedDict, overload

from zmtp.constants import Event
from zmtp.errors import (
    AuthenticationFailed,
    HandshakeTimeout,
    PeerRefused,
    ProtocolError,
    ZapReplyError,
    ZapUnavailable,
    ZMQError,
    ZMTPError,
)

if TYPE_CHECKING:
    from zmtp.asyncio import Socket as AsyncSocket
    from zmtp.socket import Socket

_HEADER = struct.Struct("=HI")
_ZAP_CODES = frozenset({b"300", b"400", b"500"})


class MonitorEvent(TypedDict):
    """One parsed monitor message, as pyzmq's ``zmq.utils.monitor`` returns it."""

    event: Event
    value: int
    endpoint: bytes


def encode_event(event: int, value: int, endpoint: str) -> list[bytes]:
    """Return the two frames libzmq sends for ``event``."""
    return [_HEADER.pack(event & 0xFFFF, value & 0xFFFFFFFF), endpoint.encode()]


def parse_monitor_message(msg: list[bytes]) -> MonitorEvent:
    """Parse a monitor message into ``{"event", "value", "endpoint"}``."""
    if len(msg) != 2 or len(msg[0]) != _HEADER.size:
        raise ZMQError(_errno.EINVAL, "a monitor message is two frames, the first of 6 bytes")
    event, value = _HEADER.unpack(msg[0])
    return {"event": Event(event), "value": value, "endpoint": msg[1]}


@overload
def recv_monitor_message(  # type: ignore[overload-overlap]  # the asyncio Socket subclasses Socket
    socket: AsyncSocket, flags: int = 0
) -> Awaitable[MonitorEvent]: ...


@overload
def recv_monitor_message(socket: Socket, flags: int = 0) -> MonitorEvent: ...


def recv_monitor_message(socket: Any, flags: int = 0) -> MonitorEvent | Awaitable[MonitorEvent]:
    """Receive and parse one monitor message from ``socket``.

    From an asyncio socket (whose ``recv_multipart`` returns an awaitable) the result is an
    awaitable of the parsed event, as in pyzmq.
    """
    msg = socket.recv_multipart(flags)
    if inspect.isawaitable(msg):
        return _parse_when_received(msg)
    return parse_monitor_message(msg)


async def _parse_when_received(msg: Awaitable[list[bytes]]) -> MonitorEvent:
    return parse_monitor_message(await msg)


def handshake_failure(error: ZMTPError | None) -> tuple[Event, int]:
    """Return the HANDSHAKE_FAILED_* event and value libzmq reports for ``error``."""
    if isinstance(error, ProtocolError):
        return Event.HANDSHAKE_FAILED_PROTOCOL, error.code
    if isinstance(error, ZapReplyError):
        return Event.HANDSHAKE_FAILED_PROTOCOL, error.code
    if isinstance(error, PeerRefused) and error.reason in _ZAP_CODES:
        # libzmq reports a peer's ERROR carrying a ZAP status as an authentication failure.
        return Event.HANDSHAKE_FAILED_AUTH, int(error.reason)
    if isinstance(error, AuthenticationFailed):
        try:
            return Event.HANDSHAKE_FAILED_AUTH, int(error.status_code)
        except ValueError:
            return Event.HANDSHAKE_FAILED_AUTH, 0
    if isinstance(error, ZapUnavailable):
        return Event.HANDSHAKE_FAILED_NO_DETAIL, _errno.EFAULT
    if isinstance(error, HandshakeTimeout):
        return Event.HANDSHAKE_FAILED_NO_DETAIL, _errno.ETIMEDOUT
    return Event.HANDSHAKE_FAILED_NO_DETAIL, _errno.ECONNRESET
