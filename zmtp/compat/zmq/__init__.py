"""pyzmq's ``zmq`` module, backed by zmtp (no libzmq): see :mod:`zmtp.compat`.

Version functions are honest about what answers: ``zmq_version()`` is the libzmq release whose
behaviour zmtp reproduces (4.3.5), ``pyzmq_version()``/``__version__`` the pyzmq API level
followed, marked with zmtp's own version, and ``has()`` reports what zmtp really supports.
"""

from __future__ import annotations

import zmtp
from zmtp import *  # noqa: F403  (pyzmq's top level is every constant plus the classes)
from zmtp import (
    Context,
    Frame,
    Poller,
    Socket,
    curve_keypair,
    curve_public,
    device,
    proxy,
    proxy_steerable,
    select,
)
from zmtp.constants import *  # noqa: F403
from zmtp.errors import (
    Again,
    ContextTerminated,
    InterruptedSystemCall,
    NotDone,
    ZMQBindError,
    ZMQError,
    ZMQVersionError,
    ZMTPError,
    strerror,
)

from . import asyncio, auth, constants, error, utils

__all__ = [
    "Again",
    "Context",
    "ContextTerminated",
    "Frame",
    "InterruptedSystemCall",
    "Message",
    "NotDone",
    "Poller",
    "Socket",
    "SyncContext",
    "SyncSocket",
    "ZMQBaseError",
    "ZMQBindError",
    "ZMQError",
    "ZMQVersionError",
    "asyncio",
    "auth",
    "backend",
    "constants",
    "curve_keypair",
    "curve_public",
    "device",
    "error",
    "has",
    "proxy",
    "proxy_steerable",
    "pyzmq_version",
    "pyzmq_version_info",
    "select",
    "strerror",
    "utils",
    "zmq_version",
    "zmq_version_info",
]

Message = Frame
SyncContext = Context
SyncSocket = Socket
ZMQBaseError = ZMTPError

_LIBZMQ = (4, 3, 5)
_PYZMQ = (27, 2, 0)
__version__ = f"{'.'.join(map(str, _PYZMQ))}+zmtp.{zmtp.__version__}"
_CAPABILITIES = {"ipc": True, "curve": True}


def zmq_version_info() -> tuple[int, int, int]:
    """Return the libzmq release whose behaviour zmtp reproduces on the wire and in the API."""
    return _LIBZMQ


def zmq_version() -> str:
    """Return :func:`zmq_version_info` as text."""
    return ".".join(map(str, _LIBZMQ))


def pyzmq_version_info() -> tuple[int, int, int]:
    """Return the pyzmq API level this package follows."""
    return _PYZMQ


def pyzmq_version() -> str:
    """Return the pyzmq API level, marked as zmtp's (``27.2.0+zmtp.<zmtp version>``)."""
    return __version__


def has(capability: str) -> bool:
    """Say whether zmtp supports ``capability`` (ipc, curve; not pgm, tipc, norm, gssapi, draft)."""
    return _CAPABILITIES.get(capability, False)


# Imported last: it takes the version functions above from this module.
from . import backend  # noqa: E402
