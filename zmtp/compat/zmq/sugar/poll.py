"""``zmq.sugar.poll``: pyzmq's Poller and select, here :mod:`zmtp.poll`'s."""

from __future__ import annotations

from zmtp.poll import Poller, select

__all__ = ["Poller", "select"]
