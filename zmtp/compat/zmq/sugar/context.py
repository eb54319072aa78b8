"""``zmq.sugar.context``: pyzmq's Context, here :class:`zmtp.Context`."""

from __future__ import annotations

from zmtp.context import Context

SyncContext = Context

__all__ = ["Context", "SyncContext"]
