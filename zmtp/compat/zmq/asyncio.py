"""``zmq.asyncio``: awaitable sockets, from :mod:`zmtp.asyncio`."""

from __future__ import annotations

from zmtp.asyncio import Context, Poller, Socket

__all__ = ["Context", "Poller", "Socket"]
