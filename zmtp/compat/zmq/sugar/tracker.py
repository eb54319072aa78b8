"""``zmq.sugar.tracker``: pyzmq's MessageTracker, here :class:`zmtp.tracker.MessageTracker`."""

from __future__ import annotations

from zmtp.tracker import FINISHED_TRACKER as _FINISHED_TRACKER
from zmtp.tracker import MessageTracker

__all__ = ["_FINISHED_TRACKER", "MessageTracker"]
