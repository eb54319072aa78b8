"""What a :class:`~zmtp.connection.Connection` reports, as small immutable values.

Messages are reported in batches: one :class:`MessagesReceived` per run of consecutive messages
decoded from the received bytes. Creating one event object per 16-byte message would cost more
than decoding it, and a batch keeps the order of messages relative to every other event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeAlias

from zmtp.constants import SocketType
from zmtp.errors import ZMTPError
from zmtp.metadata import Metadata
from zmtp.zap import ZapRequest


@dataclass(frozen=True, slots=True)
class HandshakeComplete:
    """Greeting and security handshake are done; messages may flow both ways.

    ``metadata`` is what the peer sent in its READY (or INITIATE), plus the ZAP handler's
    metadata and ``User-Id`` when ZAP was consulted. ``peer_socket_type`` is None when the
    peer sent no ``Socket-Type`` property (libzmq accepts such peers, and so do we).
    """

    peer_socket_type: SocketType | None
    metadata: Metadata
    peer_version: tuple[int, int]
    mechanism: bytes
    routing_id: bytes = b""
    user_id: bytes = b""


@dataclass(frozen=True, slots=True)
class MessagesReceived:
    """One or more complete multipart messages, in the order they arrived."""

    messages: list[list[bytes]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SubscribeReceived:
    """The peer subscribed to ``topic`` (a SUBSCRIBE command, or a ``0x01`` message)."""

    topic: bytes


@dataclass(frozen=True, slots=True)
class CancelReceived:
    """The peer cancelled one subscription to ``topic`` (CANCEL, or a ``0x00`` message)."""

    topic: bytes


@dataclass(frozen=True, slots=True)
class AuthenticationRequested:
    """The mechanism needs a ZAP verdict: answer with ``Connection.receive_zap_reply``."""

    request: ZapRequest


@dataclass(frozen=True, slots=True)
class ConnectionClosed:
    """The connection is over; ``error`` says why (None after a local ``close()``).

    Any bytes still in ``data_to_send()`` (an ERROR for the peer, say) should be written
    before the transport is closed.
    """

    error: ZMTPError | None


Event: TypeAlias = (
    HandshakeComplete
    | MessagesReceived
    | SubscribeReceived
    | CancelReceived
    | AuthenticationRequested
    | ConnectionClosed
)
