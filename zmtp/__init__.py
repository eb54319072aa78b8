"""zmtp: ZeroMQ's wire protocol (ZMTP 3.x) in pure Python, with pyzmq's API.

``import zmtp as zmq`` gives pyzmq's names: constants (``zmq.REQ``, ``zmq.NOBLOCK``,
``zmq.LINGER``, ...), ``Context``, ``Socket``, ``Poller``, ``ZMQError`` and friends. Underneath,
the protocol core is sans-IO: :class:`zmtp.connection.Connection` turns received bytes into
events and messages into bytes, and never touches a socket, a thread or a clock.
"""

from zmtp.connection import Connection, ConnectionOptions, State
from zmtp.constants import *  # noqa: F403  (pyzmq exposes every libzmq constant at top level)
from zmtp.constants import (
    ContextOption,
    DeviceType,
    Errno,
    Event,
    Flag,
    MessageOption,
    PollEvent,
    SecurityMechanism,
    SocketOption,
    SocketType,
)
from zmtp.context import Context
from zmtp.curve_keys import curve_keypair, curve_public
from zmtp.errors import (
    Again,
    ContextTerminated,
    InterruptedSystemCall,
    NotDone,
    ZMQBindError,
    ZMQError,
    ZMQVersionError,
    strerror,
)
from zmtp.frame import COPY_THRESHOLD, Frame
from zmtp.metadata import Metadata
from zmtp.poll import Poller, select
from zmtp.proxy import device, proxy, proxy_steerable
from zmtp.socket import Socket
from zmtp.tracker import MessageTracker

__version__ = "0.1.0"

__all__ = [
    "COPY_THRESHOLD",
    "Again",
    "Connection",
    "ConnectionOptions",
    "Context",
    "ContextOption",
    "ContextTerminated",
    "DeviceType",
    "Errno",
    "Event",
    "Flag",
    "Frame",
    "InterruptedSystemCall",
    "MessageOption",
    "MessageTracker",
    "Metadata",
    "NotDone",
    "PollEvent",
    "Poller",
    "SecurityMechanism",
    "Socket",
    "SocketOption",
    "SocketType",
    "State",
    "ZMQBindError",
    "ZMQError",
    "ZMQVersionError",
    "__version__",
    "curve_keypair",
    "curve_public",
    "device",
    "proxy",
    "proxy_steerable",
    "select",
    "strerror",
]
