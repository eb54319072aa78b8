"""pyzmq's ``zmq`` module, backed by zmtp (no libzmq): see :mod:`zmtp.compat`.

The layout is pyzmq's: ``zmq.backend`` (what pyzmq compiles, here zmtp's classes),
``zmq.sugar`` (pyzmq's Python layer), ``zmq.constants``, ``zmq.error``, and the pure-Python
helpers (``zmq.utils``, ``zmq.log``, ``zmq.decorators``, ``zmq.ssh``, ``zmq.auth``).

Version functions are honest about what answers (see :mod:`zmq.sugar.version`):
``zmq_version()`` is the libzmq release whose behaviour zmtp reproduces (4.3.5),
``pyzmq_version()``/``__version__`` the pyzmq API level followed, marked with zmtp's own
version, and ``has()`` reports what zmtp really supports.
"""

from __future__ import annotations

from zmtp.constants import *  # noqa: F403  (pyzmq's top level is every constant plus the classes)

# Submodules are attributes of the package, as in pyzmq (not in __all__, as there).
from . import asyncio, auth, backend, constants, error, sugar, utils  # noqa: F401
from .backend import (
    IPC_PATH_MAX_LEN,
    PYZMQ_DRAFT_API,
    Context,
    Frame,
    Message,
    Socket,
    curve_keypair,
    curve_public,
    has,
    proxy,
    proxy_steerable,
    strerror,
    zmq_poll,
)
from .error import (
    Again,
    ContextTerminated,
    DraftFDWarning,
    InterruptedSystemCall,
    NotDone,
    ZMQBaseError,
    ZMQBindError,
    ZMQError,
    ZMQVersionError,
)
from .sugar import _FINISHED_TRACKER, MessageTracker, Stopwatch, SyncContext, SyncSocket, device
from .sugar.frame import COPY_THRESHOLD
from .sugar.poll import Poller, select
from .sugar.version import (
    __revision__,
    __version__,
    pyzmq_version,
    pyzmq_version_info,
    zmq_version,
    zmq_version_info,
)

#: Whether libzmq's DRAFT API is available (pyzmq: built and loaded with it); it is not.
DRAFT_API = False

__all__ = [
    "COPY_THRESHOLD",
    "DRAFT_API",
    "IPC_PATH_MAX_LEN",
    "PYZMQ_DRAFT_API",
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
    "curve_keypair",
    "curve_public",
    "device",
    "has",
    "proxy",
    "proxy_steerable",
    "pyzmq_version",
    "pyzmq_version_info",
    "select",
    "strerror",
    "zmq_poll",
    "zmq_version",
    "zmq_version_info",
]
__all__ += constants.__all__

# Under pyzmq's name the classes present themselves as pyzmq's do (``<zmq.Context(1 socket)
# at 0x...>``), so that a pyzmq program's logs read as before; zmtp.Context is zmq.Context.
Context._repr_cls = "zmq.Context"
Socket._repr_cls = "zmq.Socket"
Frame._repr_cls = "zmq.Frame"
