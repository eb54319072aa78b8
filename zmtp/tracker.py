"""``zmtp.MessageTracker``: knowing when zmtp has let go of a message it was given to send.

In pyzmq a tracker answers "has libzmq finished with this zero-copy buffer?", so that a program
knows when it may reuse or free the memory. zmtp never lets its I/O thread share a mutable
buffer: every frame it queues is an immutable ``bytes``. A *tracked* frame is therefore a
``bytes`` of zmtp's own, a :class:`TrackedBytes` made with one copy of the caller's data, and
its tracker completes when the last reference to that object goes: when the Frame holding it is
gone and every pipe, connection write buffer and inproc peer that queued it has dropped it. A
tracker is thus never done while zmtp still holds the message, on any transport.

:data:`TRACKED` lists the tracked frames alive right now (pyzmq's ``zmq.utils.garbage.gc.refs``
plays that part for the buffers libzmq borrows): a way to see what zmtp is still holding.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from zmtp.errors import NotDone

__all__ = [
    "FINISHED_TRACKER",
    "TRACKED",
    "HeldFrame",
    "MessageTracker",
    "TrackedBytes",
    "TrackedFrames",
]


class MessageTracker:
    """Whether zmtp is done with one or more messages (pyzmq's ``zmq.MessageTracker``).

    It watches :class:`threading.Event` objects (set when a tracked frame is released), other
    trackers, and tracked :class:`~zmtp.frame.Frame` objects (their ``tracker``). A tracker of
    nothing is done from the start.
    """

    def __init__(self, *towatch: Any) -> None:
        self.events: set[threading.Event] = set()
        self.peers: set[MessageTracker] = set()
        for obj in towatch:
            if isinstance(obj, threading.Event):
                self.events.add(obj)
            elif isinstance(obj, MessageTracker):
                self.peers.add(obj)
            else:
                self.peers.add(_frame_tracker(obj))

    @property
    def done(self) -> bool:
        """Whether zmtp has released every message this tracker watches."""
        return all(event.is_set() for event in self.events) and all(
            peer.done for peer in self.peers
        )

    def wait(self, timeout: float | None = -1) -> None:
        """Wait up to ``timeout`` seconds (negative, None or False: no limit) for :attr:`done`.

        Raises :class:`~zmtp.errors.NotDone` if the time runs out first.
        """
        deadline = None
        if not (timeout is None or timeout is False or timeout < 0):
            deadline = time.monotonic() + timeout
        for event in self._all_events():
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not event.wait(remaining):
                raise NotDone(msg=f"zmtp still holds a tracked message after {timeout} s")

    def _all_events(self) -> Iterator[threading.Event]:
        yield from self.events
        for peer in self.peers:
            yield from peer._all_events()

    def __repr__(self) -> str:
        return f"<{type(self).__module__}.{type(self).__qualname__} done={self.done}>"


def _frame_tracker(obj: Any) -> MessageTracker:
    """Return the tracker of a tracked Frame; refuse anything else."""
    from zmtp.frame import Frame  # noqa: PLC0415  (frame makes trackers: import it late)

    if not isinstance(obj, Frame):
        raise TypeError(
            "a MessageTracker watches Events, MessageTrackers or tracked Frames,"
            f" not {type(obj).__name__}"
        )
    if obj.tracker is None:
        raise ValueError("the Frame is not tracked: make it with track=True")
    return obj.tracker


FINISHED_TRACKER = MessageTracker()
"""The tracker of a message zmtp copied at once, so it never held the caller's buffer."""


@dataclass(frozen=True, slots=True)
class HeldFrame:
    """One tracked frame zmtp holds: its size, and the event its release sets."""

    nbytes: int
    event: threading.Event


class TrackedFrames:
    """The registry of tracked frames still alive, by key (see :data:`TRACKED`)."""

    def __init__(self) -> None:
        self.refs: dict[int, HeldFrame] = {}
        self._keys = itertools.count(1)

    def store(self, nbytes: int, event: threading.Event) -> int:
        """Record a new tracked frame; return its key."""
        key = next(self._keys)
        self.refs[key] = HeldFrame(nbytes, event)
        return key

    def release(self, key: int) -> None:
        """Forget a tracked frame whose last reference went, and complete its trackers."""
        held = self.refs.pop(key, None)
        if held is not None:
            held.event.set()


TRACKED = TrackedFrames()
"""Every :class:`TrackedBytes` alive in this process."""


class TrackedBytes(bytes):
    """A frame's bytes whose release is observed: it sets its event when collected.

    A ``bytes`` subclass, so every layer below the front end (pipes, encoders, inproc) handles
    it as any frame, and holds it exactly as long as it needs it.
    """

    _key: int
    # Bound here, not looked up as a module global: a frame may be collected while the
    # interpreter shuts down, after module globals are cleared.
    _release = TRACKED.release

    def __new__(cls, data: Any, event: threading.Event) -> TrackedBytes:
        """Copy ``data`` into a new tracked frame whose release will set ``event``."""
        self = super().__new__(cls, data)
        self._key = TRACKED.store(len(self), event)
        return self

    def __del__(self) -> None:
        self._release(self._key)
