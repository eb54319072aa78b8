"""Socket-type semantics, sans-IO: one class per libzmq socket type, all over pipes."""

from __future__ import annotations

from zmtp.constants import Errno, SocketType
from zmtp.errors import ZMQError
from zmtp.options import initial_values
from zmtp.sockets.base import Options, SocketCore
from zmtp.sockets.pair import Pair
from zmtp.sockets.pipeline import Pull, Push
from zmtp.sockets.pubsub import Pub, Sub, XPub, XSub
from zmtp.sockets.reqrep import Dealer, Rep, Req, Router

SOCKET_CLASSES: dict[SocketType, type[SocketCore]] = {
    cls.socket_type: cls
    for cls in (Pair, Pub, Sub, Req, Rep, Dealer, Router, Pull, Push, XPub, XSub)
}


def create_socket_core(socket_type: int, options: Options | None = None) -> SocketCore:
    """Create the semantics of ``socket_type`` with libzmq's default options (or ``options``)."""
    try:
        cls = SOCKET_CLASSES[SocketType(socket_type)]
    except (ValueError, KeyError):
        raise ZMQError(Errno.EINVAL, f"socket type {socket_type!r} is not supported") from None
    return cls(initial_values(cls.socket_type) if options is None else options)


__all__ = ["SOCKET_CLASSES", "Options", "SocketCore", "create_socket_core"]
