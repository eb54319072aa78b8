"""``zmq.error``: pyzmq's exception names, zmtp's exceptions."""

from __future__ import annotations

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

ZMQBaseError = ZMTPError

__all__ = [
    "Again",
    "ContextTerminated",
    "DraftFDWarning",
    "InterruptedSystemCall",
    "NotDone",
    "ZMQBaseError",
    "ZMQBindError",
    "ZMQError",
    "ZMQVersionError",
    "strerror",
]


class DraftFDWarning(RuntimeWarning):
    """pyzmq's warning about its emulated FD on thread-safe DRAFT sockets.

    zmtp never issues it; it exists so that programs filtering it
    (``warnings.simplefilter("ignore", zmq.error.DraftFDWarning)``) run unchanged.
    """
