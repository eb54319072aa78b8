"""``zmq.sugar.frame``: pyzmq's Frame (alias Message), here :class:`zmtp.Frame`."""

from __future__ import annotations

from zmtp.frame import COPY_THRESHOLD, Frame

Message = Frame

__all__ = ["COPY_THRESHOLD", "Frame", "Message"]
