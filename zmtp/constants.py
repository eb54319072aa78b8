"""libzmq's numbers, mirrored so that ``zmtp.ROUTER == 6`` agrees with ``zmq.ROUTER``.

Only the numbers the protocol core needs live here so far; the socket API adds options,
events and errnos to this module as it grows.
"""

from __future__ import annotations

from enum import IntEnum


class SocketType(IntEnum):
    """Socket types with libzmq's values (``zmq.h``); 12-20 are libzmq DRAFT types."""

    PAIR = 0
    PUB = 1
    SUB = 2
    REQ = 3
    REP = 4
    DEALER = 5
    ROUTER = 6
    PULL = 7
    PUSH = 8
    XPUB = 9
    XSUB = 10
    STREAM = 11
    SERVER = 12
    CLIENT = 13
    RADIO = 14
    DISH = 15
    GATHER = 16
    SCATTER = 17
    DGRAM = 18
    PEER = 19
    CHANNEL = 20


PAIR = SocketType.PAIR
PUB = SocketType.PUB
SUB = SocketType.SUB
REQ = SocketType.REQ
REP = SocketType.REP
DEALER = SocketType.DEALER
ROUTER = SocketType.ROUTER
PULL = SocketType.PULL
PUSH = SocketType.PUSH
XPUB = SocketType.XPUB
XSUB = SocketType.XSUB
STREAM = SocketType.STREAM
