"""A pipe: one peer as a socket sees it, two bounded queues of whole messages.

libzmq's model (``pipe.cpp``): every peer of a socket is a pipe with an outbound queue (what the
socket wrote for that peer) and an inbound queue (what the peer sent). High-water marks count
whole messages per pipe; 0 means no limit. The socket-type logic in :mod:`zmtp.sockets` only
ever talks to pipes, so it cannot tell whether the peer is a ZMTP connection over tcp or ipc,
or another socket of this process over inproc.

A pipe is plain data plus two notifications for the driver that moves its messages:
``on_outbound`` says the outbound queue went from empty to non-empty (so one wake-up serves a
burst of sends), and ``on_resume_reading`` says the socket has drained a full inbound queue.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TypeAlias

from zmtp.commands import Cancel, Subscribe
from zmtp.metadata import Metadata

Message: TypeAlias = list[bytes]
OutboundItem: TypeAlias = Message | Subscribe | Cancel
"""What a socket queues for a peer: a message, or a subscription change (SUB/XSUB)."""


class Pipe:
    """Two message queues between a socket and one peer, with that peer's identity."""

    __slots__ = (
        "answering",
        "attached",
        "conflate",
        "connections",
        "inbound",
        "metadata",
        "on_outbound",
        "on_resume_reading",
        "on_terminate",
        "outbound",
        "rcvhwm",
        "reading_paused",
        "routing_id",
        "sndhwm",
        "subscriptions",
    )

    def __init__(self, sndhwm: int = 1000, rcvhwm: int = 1000, conflate: bool = False) -> None:
        self.sndhwm = sndhwm
        self.rcvhwm = rcvhwm
        # CONFLATE: each queue keeps only the newest message, and HWMs do not apply.
        self.conflate = conflate
        self.outbound: deque[OutboundItem] = deque()
        self.inbound: deque[Message] = deque()
        self.routing_id = b""
        self.metadata = Metadata()
        # PUB/XPUB: the topics this peer subscribed to (one entry per topic: the peer
        # counts its own repeated subscriptions, as libzmq's SUB does).
        self.subscriptions: set[bytes] = set()
        self.on_outbound: Callable[[Pipe], None] | None = None
        # Inbound back-pressure: the driver stops reading from the peer when the inbound
        # queue reaches RCVHWM, and is told to resume once the socket has read it down to
        # half (libzmq's low-water mark), so TCP pushes back on the sender meanwhile.
        self.reading_paused = False
        self.on_resume_reading: Callable[[Pipe], None] | None = None
        # The socket wants this peer gone (ROUTER_HANDOVER replaced it): the driver closes it.
        self.on_terminate: Callable[[Pipe], None] | None = None
        self.attached = False
        # Set when the socket read the last message queued from this peer: the next write to
        # it is probably the reply the peer waits for (drivers may write it out at once).
        self.answering = False
        # How many connections this pipe has served (connecting pipes outlive connections).
        self.connections = 0

    def writable(self) -> bool:
        """Whether one more message fits under SNDHWM."""
        return not self.sndhwm or len(self.outbound) < self.sndhwm or self.conflate

    def write(self, item: OutboundItem) -> None:
        """Queue ``item`` for the peer; the caller has checked :meth:`writable` if it cares."""
        outbound = self.outbound
        if self.conflate and type(item) is list:
            # A newer message replaces an unsent one; subscription changes are kept.
            kept = [queued for queued in outbound if type(queued) is not list]
            outbound.clear()
            outbound.extend(kept)
        outbound.append(item)
        if len(outbound) == 1 and self.on_outbound is not None:
            self.on_outbound(self)

    def deliver(self, messages: list[Message]) -> None:
        """Queue messages from the peer; pause reading once RCVHWM is reached."""
        if self.conflate:
            self.inbound.clear()
            self.inbound.append(messages[-1])
            return
        self.inbound.extend(messages)
        if self.inbound_full():
            self.reading_paused = True

    def read(self) -> Message:
        """Take the oldest inbound message (the caller knows there is one)."""
        message = self.inbound.popleft()
        self.answering = not self.inbound
        if self.reading_paused and len(self.inbound) <= self.rcvhwm // 2:
            self.reading_paused = False
            if self.on_resume_reading is not None:
                self.on_resume_reading(self)
        return message

    def terminate(self) -> None:
        """Ask the driver to close this peer's connection."""
        if self.on_terminate is not None:
            self.on_terminate(self)

    def inbound_full(self) -> bool:
        """Whether the inbound queue has reached RCVHWM (the driver stops reading then)."""
        return bool(self.rcvhwm) and len(self.inbound) >= self.rcvhwm

    def matches(self, topic_frame: bytes) -> bool:
        """Whether a message whose first frame is ``topic_frame`` matches a subscription."""
        # bytes.startswith takes a tuple of prefixes: the whole match runs in C.
        return topic_frame.startswith(tuple(self.subscriptions))

    def __repr__(self) -> str:
        return (
            f"<Pipe routing_id={self.routing_id!r} out={len(self.outbound)} in={len(self.inbound)}>"
        )
