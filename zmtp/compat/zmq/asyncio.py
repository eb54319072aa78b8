"""``zmq.asyncio``: sockets whose send, recv and poll return Futures, from :mod:`zmtp.asyncio`.

``ZMQEventLoop`` and ``install()`` are the names pyzmq has kept, deprecated, since pyzmq 17
made any asyncio loop able to run its sockets: the same holds for zmtp, so they only warn.
"""

from __future__ import annotations

import asyncio
import selectors
import warnings

from zmtp.asyncio import Context, Poller, Socket

_DEPRECATED = (
    "ZMQEventLoop and zmq.asyncio.install are deprecated since pyzmq 17: any asyncio event loop"
    " runs zmq.asyncio sockets"
)

# What repr() shows, as in pyzmq.
Context._repr_cls = "zmq.asyncio.Context"
Socket._repr_cls = "zmq.asyncio.Socket"


class ZMQEventLoop(asyncio.SelectorEventLoop):
    """Deprecated: a plain selector event loop (any loop runs zmq.asyncio sockets)."""

    def __init__(self, selector: selectors.BaseSelector | None = None) -> None:
        warnings.warn(_DEPRECATED, DeprecationWarning, stacklevel=2)
        super().__init__(selector)


def install() -> None:
    """Warn that this is deprecated: there is nothing to install."""
    warnings.warn(_DEPRECATED, DeprecationWarning, stacklevel=2)


__all__ = ["Context", "Poller", "Socket", "ZMQEventLoop", "install"]
