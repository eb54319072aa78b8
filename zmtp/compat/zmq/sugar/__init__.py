"""``zmq.sugar``: where pyzmq keeps its Python classes; here they are zmtp's own.

pyzmq programs (and pyzmq's tests) reach into this layout, e.g. ``zmq.sugar.context.Context``
to reset the shared instance, or ``zmq.sugar.version`` for the version parts.
"""

from __future__ import annotations

from zmtp.proxy import device

from ..error import (
    Again,
    ContextTerminated,
    DraftFDWarning,
    InterruptedSystemCall,
    NotDone,
    ZMQBaseError,
    ZMQBindError,
    ZMQError,
    ZMQVersionError,
    strerror,
)
from . import attrsettr, context, frame, poll, socket, stopwatch, tracker, version  # noqa: F401
from .context import Context, SyncContext
from .frame import Frame, Message
from .poll import Poller, select
from .socket import Socket, SyncSocket
from .stopwatch import Stopwatch
from .tracker import _FINISHED_TRACKER, MessageTracker
from .version import (
    __revision__,
    __version__,
    pyzmq_version,
    pyzmq_version_info,
    zmq_version,
    zmq_version_info,
)

__all__ = [
    "_FINISHED_TRACKER",
    "Again",
    "Context",
    "ContextTerminated",
    "DraftFDWarning",
    "Frame",
    "InterruptedSystemCall",
    "Message",
    "MessageTracker",
    "NotDone",
    "Poller",
    "Socket",
    "Stopwatch",
    "SyncContext",
    "SyncSocket",
    "ZMQBaseError",
    "ZMQBindError",
    "ZMQError",
    "ZMQVersionError",
    "__revision__",
    "__version__",
    "device",
    "pyzmq_version",
    "pyzmq_version_info",
    "select",
    "strerror",
    "zmq_version",
    "zmq_version_info",
]
