"""zmtp: ZeroMQ's wire protocol (ZMTP 3.x) in pure Python.

The protocol core is sans-IO: :class:`Connection` turns received bytes into events and
messages into bytes, and never touches a socket, a thread or a clock.
"""

from zmtp.connection import Connection, ConnectionOptions, State
from zmtp.constants import (
    DEALER,
    PAIR,
    PUB,
    PULL,
    PUSH,
    REP,
    REQ,
    ROUTER,
    STREAM,
    SUB,
    XPUB,
    XSUB,
    SocketType,
)
from zmtp.events import (
    AuthenticationRequested,
    CancelReceived,
    ConnectionClosed,
    Event,
    HandshakeComplete,
    MessagesReceived,
    SubscribeReceived,
)
from zmtp.metadata import Metadata

__version__ = "0.1.0"

__all__ = [
    "DEALER",
    "PAIR",
    "PUB",
    "PULL",
    "PUSH",
    "REP",
    "REQ",
    "ROUTER",
    "STREAM",
    "SUB",
    "XPUB",
    "XSUB",
    "AuthenticationRequested",
    "CancelReceived",
    "Connection",
    "ConnectionClosed",
    "ConnectionOptions",
    "Event",
    "HandshakeComplete",
    "MessagesReceived",
    "Metadata",
    "SocketType",
    "State",
    "SubscribeReceived",
    "__version__",
]
