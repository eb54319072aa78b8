"""``zmq.utils.garbage``: which zero-copy frames the messaging layer still holds.

In pyzmq, ``gc`` is a thread that learns from libzmq when it has finished with a buffer it
borrowed from Python, and ``gc.refs`` holds those buffers until then. zmtp needs no such
thread: its tracked frames are Python objects that announce their own release (see
:mod:`zmtp.tracker`). ``gc`` here is that registry: ``gc.refs`` maps a key to each tracked
frame zmtp holds (its size and the event its release sets), and empties as zmtp lets go.
pyzmq's ``GarbageCollector`` class (a thread to start and stop) has no counterpart.
"""

from __future__ import annotations

from zmtp.tracker import TRACKED as gc

__all__ = ["gc"]
