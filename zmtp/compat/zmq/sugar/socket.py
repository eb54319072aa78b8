"""``zmq.sugar.socket``: pyzmq's Socket, here :class:`zmtp.Socket`."""

from __future__ import annotations

from zmtp.socket import Socket

SyncSocket = Socket

__all__ = ["Socket", "SyncSocket"]
