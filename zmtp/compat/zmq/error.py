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
    "InterruptedSystemCall",
    "NotDone",
    "ZMQBaseError",
    "ZMQBindError",
    "ZMQError",
    "ZMQVersionError",
    "strerror",
]
