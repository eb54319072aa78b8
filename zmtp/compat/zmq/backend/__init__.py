"""``zmq.backend``: what pyzmq's compiled backend exports, here zmtp's pure-Python classes.

Code that inspects the backend (``zmq.backend.Socket.__module__``) finds zmtp, neither
pyzmq's Cython nor its CFFI backend. ``has()`` answers for zmtp itself, never for a libzmq.
"""

from __future__ import annotations

import socket as _socket
from collections.abc import Sequence
from typing import Any

from transports.ipc import SUN_PATH_SIZE
from zmtp import Context, Frame, Socket, curve_keypair, curve_public, proxy, proxy_steerable
from zmtp.errors import strerror
from zmtp.poll import Poller

from ..sugar.version import zmq_version_info

Message = Frame
#: The longest ipc:// path the ipc transport accepts (sun_path less its terminating NUL).
IPC_PATH_MAX_LEN = SUN_PATH_SIZE - 1
#: pyzmq's build flag for libzmq's DRAFT API, which this package does not offer.
PYZMQ_DRAFT_API = False

# zmq_has(3)'s names: only what zmtp really implements answers True. ipc needs AF_UNIX;
# CURVE is built in (cryptography, or PyNaCl when installed). No PGM, TIPC, NORM, VMCI,
# GSSAPI, WebSocket transports, and not the DRAFT API as a whole.
_CAPABILITIES = {"ipc": hasattr(_socket, "AF_UNIX"), "curve": True}

__all__ = [
    "IPC_PATH_MAX_LEN",
    "PYZMQ_DRAFT_API",
    "Context",
    "Frame",
    "Message",
    "Socket",
    "curve_keypair",
    "curve_public",
    "has",
    "proxy",
    "proxy_steerable",
    "strerror",
    "zmq_poll",
    "zmq_version_info",
]


def has(capability: str) -> bool:
    """Say whether zmtp supports ``capability`` (a zmq_has(3) name such as "ipc", "curve")."""
    return _CAPABILITIES.get(capability, False)


def zmq_poll(sockets: Sequence[tuple[Any, int]], timeout: int | None = -1) -> list[tuple[Any, int]]:
    """Poll ``(socket or fd, events)`` pairs for up to ``timeout`` ms (-1 or None: forever)."""
    poller = Poller()
    for sock, events in sockets:
        poller.register(sock, events)
    return poller.poll(None if timeout is None or timeout < 0 else timeout)
