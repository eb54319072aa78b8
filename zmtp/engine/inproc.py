"""inproc:// — two sockets of one context joined by a pair of pipes, no bytes at all.

Messages move as the same Python objects the sender passed (lists of frames): nothing is
encoded. Each side keeps its own pipe; a transfer moves items from one side's outbound queue
to the other's inbound queue, up to the receiver's RCVHWM, so the link holds SNDHWM + RCVHWM
messages as libzmq's does. Subscriptions cross as calls on the publisher's socket core.

Transfers run on the context's event loop, holding both sockets' locks. That is deadlock-free
because a user thread only ever holds its own socket's lock, and never while it waits.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from zmtp.commands import Cancel, Subscribe
from zmtp.constants import Errno, SocketOption
from zmtp.engine import settings
from zmtp.errors import ZMQError
from zmtp.pipe import Pipe
from zmtp.socket_types import is_valid_peer
from zmtp.sockets.base import SocketCore

_RLOCK = type(threading.RLock())


class Scheduler(Protocol):
    """What a link needs of its event loop: an asyncio loop, or the Twisted driver's adapter."""

    def call_soon(self, callback: Callable[[], object], /) -> object:
        """Run ``callback`` soon, in the loop's thread (called from that thread)."""

    def call_soon_threadsafe(self, callback: Callable[[], object], /) -> object:
        """Run ``callback`` soon, in the loop's thread (called from any thread)."""


@dataclass(eq=False)
class InprocSide:
    """One socket's end of a link: its core, its lock, and how to wake its users."""

    core: SocketCore
    lock: AbstractContextManager[object]
    notify: Callable[[], None]
    routing_id: bytes = b""
    pipe: Pipe = field(init=False)


class InprocLink:
    """A connection between two sockets of one context."""

    def __init__(
        self,
        loop: Scheduler,
        connecter: InprocSide,
        binder: InprocSide,
        connecter_pipe: Pipe | None = None,
    ) -> None:
        self._loop = loop
        # A connect made before the bind already has its pipe, attached and maybe queueing.
        self._connecter_pipe = connecter_pipe
        self._loop_thread = threading.get_ident()
        self.sides = (connecter, binder)
        self._scheduled = False
        self._moved_here = False
        self.closed = False

    def open(self) -> bool:
        """Attach a pipe to each socket; False if either refuses (PAIR's second peer)."""
        first, second = self.sides
        with first.lock, second.lock:
            for side, other in ((first, second), (second, first)):
                given = self._connecter_pipe if side is first else None
                side.pipe = side.core.new_pipe() if given is None else given
                side.pipe.routing_id = other.routing_id
                side.pipe.on_outbound = self._schedule
                side.pipe.on_resume_reading = self._schedule
                side.pipe.on_terminate = lambda _pipe: self.close()
            if self._connecter_pipe is None and not first.core.attach(first.pipe):
                return False
            if not second.core.attach(second.pipe):
                first.core.detach(first.pipe)
                return False
        self._schedule()
        return True

    def close(self) -> None:
        """Detach both pipes; what was queued is dropped, as with a closed connection."""
        if self.closed:
            return
        self.closed = True
        first, second = self.sides
        with first.lock, second.lock:
            first.core.detach(first.pipe)
            second.core.detach(second.pipe)
        first.notify()
        second.notify()

    def _schedule(self, pipe: Pipe | None = None) -> None:
        if self.closed:
            return
        on_loop = threading.get_ident() == self._loop_thread
        if (
            not on_loop
            and pipe is not None
            and pipe.outbound
            and type(pipe.outbound[0]) is not list
        ):
            # A subscription crosses at once, from the subscriber's own thread: libzmq's PUB
            # applies the subscriptions waiting in its pipes before its next send, so a send
            # made right after a SUB subscribed over inproc reaches it.
            self._moved_here |= self._move_if_unlocked()
        if self._scheduled:
            return
        self._scheduled = True
        if on_loop:
            self._loop.call_soon(self._transfer)
        else:
            self._loop.call_soon_threadsafe(self._transfer)

    def _move_if_unlocked(self) -> bool:
        """Move both ways now if the other socket's lock is free (the caller holds its own).

        Never waits for a lock, so it cannot deadlock with a thread doing the same from the
        other side; whatever it cannot move, the scheduled transfer moves on the loop.
        """
        locks = [side.lock for side in self.sides]
        if not all(isinstance(lock, _RLOCK) for lock in locks):
            return False
        taken: list[Any] = []
        try:
            for lock in locks:
                if not lock.acquire(blocking=False):  # type: ignore[attr-defined]
                    return False
                taken.append(lock)
            first, second = self.sides
            return self._move(first, second) | self._move(second, first)
        finally:
            for lock in reversed(taken):
                lock.release()

    def _transfer(self) -> None:
        self._scheduled = False
        if self.closed:
            return
        first, second = self.sides
        with first.lock, second.lock:
            moved = self._move(first, second) | self._move(second, first)
        # What a user thread moved is announced here: it may not wake the other socket's
        # users itself, as that takes the other socket's lock while it holds its own.
        moved |= self._moved_here
        self._moved_here = False
        if moved:
            first.notify()
            second.notify()

    @staticmethod
    def _move(source: InprocSide, target: InprocSide) -> bool:
        outbound = source.pipe.outbound
        if not outbound:
            return False
        was_full = not source.pipe.writable()
        pipe = target.pipe
        inbound = pipe.inbound
        unbounded = not pipe.rcvhwm or pipe.conflate
        room = len(outbound) if unbounded else pipe.rcvhwm - len(inbound)
        moved = False
        while outbound and room > 0:
            item = outbound.popleft()
            moved = True
            if type(item) is list:
                if target.core.receives:
                    pipe.deliver([item])
                    room -= 1
            elif isinstance(item, Subscribe | Cancel):
                target.core.subscription(pipe, item.topic, isinstance(item, Subscribe))
        if outbound:
            pipe.reading_paused = True  # the receiver's RCVHWM is reached
        return moved or was_full


_Driver = TypeVar("_Driver", bound="InprocEndpoints")


class InprocNames(Generic[_Driver]):
    """The inproc names of one context (or Twisted factory): bound sockets, waiting connects."""

    def __init__(self) -> None:
        self.bound: dict[str, _Driver] = {}
        # A connect waiting for its bind, with the pipe it already queues messages in.
        self.pending: dict[str, list[tuple[_Driver, bytes, Pipe]]] = {}


class InprocEndpoints:
    """``bind``/``connect``/``unbind`` of ``inproc://`` names, for any socket driver.

    The asyncio engine and the Twisted driver both mix this in; they differ only in the
    attributes below (their lock, their scheduler, their names registry) and in how they log.
    """

    core: SocketCore
    lock: AbstractContextManager[object]
    inproc: InprocNames[Any]
    last_endpoint: str
    notify: Callable[[], None]
    _inproc_links: dict[str, list[InprocLink]]
    _inproc_bound: set[str]
    # Where inproc names live, for error messages: "context" or "factory".
    _inproc_scope: ClassVar[str] = "context"

    def _inproc_scheduler(self) -> Scheduler:
        """Return what runs this driver's inproc transfers."""
        raise NotImplementedError

    def _inproc_refused(self, endpoint: str, binder: SocketCore) -> None:
        """Log a connect refused because the two socket types cannot talk."""
        raise NotImplementedError

    def inproc_side(self, routing_id: bytes = b"") -> InprocSide:
        """Return this socket as one end of an inproc link (its core, lock and wake-up)."""
        return InprocSide(
            self.core,
            self.lock,
            self.notify,
            routing_id or settings.bytes_option(self.core, SocketOption.ROUTING_ID),
        )

    def _bind_inproc(self, endpoint: str) -> str:
        if endpoint in self.inproc.bound:
            raise ZMQError(
                Errno.EADDRINUSE, f"{endpoint} is already bound in this {self._inproc_scope}"
            )
        self.inproc.bound[endpoint] = self
        self._inproc_bound.add(endpoint)
        for driver, routing_id, pipe in self.inproc.pending.pop(endpoint, []):
            driver._link_inproc(endpoint, self, routing_id, pipe)
        self.last_endpoint = endpoint
        return endpoint

    def _unbind_inproc(self, endpoint: str) -> None:
        if self.inproc.bound.get(endpoint) is not self:
            raise ZMQError(Errno.ENOENT, f"{endpoint} is not bound by this socket")
        del self.inproc.bound[endpoint]
        self._inproc_bound.discard(endpoint)

    def _disconnect_inproc(self, endpoint: str) -> None:
        links = self._inproc_links.pop(endpoint, None)
        if links is None:
            raise ZMQError(Errno.ENOENT, f"{endpoint} is not connected")
        for link in links:
            link.close()

    def _connect_inproc(self, endpoint: str, routing_id: bytes) -> None:
        binder = self.inproc.bound.get(endpoint)
        if binder is None:
            # Since libzmq 4.0 connect may come first. As in libzmq, the connecting side's
            # pipe exists at once, so messages sent now are delivered once the bind comes.
            pipe = self.core.new_pipe()
            with self.lock:
                attached = self.core.attach(pipe)
            if attached:
                self.inproc.pending.setdefault(endpoint, []).append((self, routing_id, pipe))
                self.notify()
            return
        self._link_inproc(endpoint, binder, routing_id)

    def _link_inproc(
        self, endpoint: str, binder: InprocEndpoints, routing_id: bytes, pipe: Pipe | None = None
    ) -> None:
        if not is_valid_peer(self.core.socket_type, binder.core.socket_type):
            self._inproc_refused(endpoint, binder.core)
            if pipe is not None:
                with self.lock:
                    self.core.detach(pipe)
            return
        link = InprocLink(
            self._inproc_scheduler(), self.inproc_side(), binder.inproc_side(routing_id), pipe
        )
        if link.open():
            self._inproc_links.setdefault(endpoint, []).append(link)
            binder._inproc_links.setdefault(endpoint, []).append(link)
            self.notify()
            binder.notify()
