"""``zmtp.Poller`` and ``zmtp.select``: wait on many sockets (and OS file descriptors) at once.

A zmtp socket has no file descriptor of its own yet, so the poller registers a wake-up callback
with each socket it watches and sleeps on one condition. Plain file descriptors (ints, or
objects with ``fileno()``) are polled with :func:`select.select` in short slices meanwhile.
"""

from __future__ import annotations

import select as _select
import threading
import time
from typing import Any

from zmtp.constants import PollEvent
from zmtp.errors import ContextTerminated
from zmtp.socket import Socket

POLLIN = PollEvent.POLLIN
POLLOUT = PollEvent.POLLOUT
POLLERR = PollEvent.POLLERR

# How long one select() on plain descriptors lasts while zmtp sockets are watched too.
_FD_SLICE = 0.01


class Poller:
    """pyzmq's Poller: register sockets or descriptors, then poll them together."""

    def __init__(self) -> None:
        self.sockets: list[tuple[Any, int]] = []
        self._map: dict[Any, int] = {}

    def __contains__(self, socket: Any) -> bool:
        """Whether ``socket`` is registered (with some events: flags 0 unregisters)."""
        return socket in self._map

    def register(self, socket: Any, flags: int = POLLIN | POLLOUT) -> None:
        """Watch ``socket`` for ``flags``; flags 0 unregisters, as in pyzmq."""
        if not flags:
            if socket in self._map:
                self.unregister(socket)
            return  # pyzmq ignores an unknown socket registered with no events
        if socket in self._map:
            self.sockets[self._map[socket]] = (socket, flags)
        else:
            self._map[socket] = len(self.sockets)
            self.sockets.append((socket, flags))

    def modify(self, socket: Any, flags: int = POLLIN | POLLOUT) -> None:
        """Change the flags of a registered socket."""
        self.register(socket, flags)

    def unregister(self, socket: Any) -> None:
        """Stop watching ``socket`` (KeyError if it was not registered)."""
        index = self._map.pop(socket)
        self.sockets.pop(index)
        for other, position in self._map.items():
            if position > index:
                self._map[other] = position - 1

    def poll(self, timeout: float | None = None) -> list[tuple[Any, int]]:
        """Wait up to ``timeout`` ms (None or negative: forever); return (socket, events) pairs."""
        deadline = None if timeout is None or timeout < 0 else time.monotonic() + timeout / 1000
        zmtp_sockets = [(s, f) for s, f in self.sockets if isinstance(s, Socket)]
        descriptors = [(s, f) for s, f in self.sockets if not isinstance(s, Socket)]
        woken = threading.Condition()
        changed = [False]

        def wake() -> None:
            with woken:
                changed[0] = True
                woken.notify()

        for sock, _ in zmtp_sockets:
            sock._watchers.add(wake)
        try:
            while True:
                if any(s._terminated for s, _ in zmtp_sockets):
                    raise ContextTerminated()  # zmq_poll fails with ETERM, as libzmq's does
                ready = [(s, s._events() & f) for s, f in zmtp_sockets]
                ready = [(s, e) for s, e in ready if e]
                ready += _select_fds(descriptors, 0)
                if ready:
                    return ready
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return []
                if descriptors:
                    wait = _FD_SLICE if zmtp_sockets else remaining
                    if remaining is not None and wait is not None:
                        wait = min(wait, remaining)
                    found = _select_fds(descriptors, wait)
                    if found:
                        return found
                    continue
                with woken:
                    if not changed[0]:
                        woken.wait(remaining)
                    changed[0] = False
        finally:
            for sock, _ in zmtp_sockets:
                sock._watchers.discard(wake)


def _select_fds(descriptors: list[tuple[Any, int]], timeout: float | None) -> list[tuple[Any, int]]:
    if not descriptors:
        return []
    readers = [s for s, f in descriptors if f & POLLIN]
    writers = [s for s, f in descriptors if f & POLLOUT]
    errors = [s for s, f in descriptors if f & POLLERR]
    rlist, wlist, xlist = _select.select(readers, writers, errors, timeout)
    # pyzmq reports a plain descriptor by its number, whatever object was registered.
    rlist, wlist, xlist = (
        [s if isinstance(s, int) else s.fileno() for s in ready] for ready in (rlist, wlist, xlist)
    )
    events: dict[Any, int] = {}
    for s in rlist:
        events[s] = events.get(s, 0) | POLLIN
    for s in wlist:
        events[s] = events.get(s, 0) | POLLOUT
    for s in xlist:
        events[s] = events.get(s, 0) | POLLERR
    return list(events.items())


def select(
    rlist: list[Any], wlist: list[Any], xlist: list[Any], timeout: float | None = None
) -> tuple[list[Any], list[Any], list[Any]]:
    """Wait like pyzmq's ``zmq.select``: :func:`select.select` for sockets; timeout in s."""
    wanted: dict[Any, int] = {}
    for sockets, flag in ((rlist, POLLIN), (wlist, POLLOUT), (xlist, POLLERR)):
        for sock in sockets:
            wanted[sock] = wanted.get(sock, 0) | flag
    poller = Poller()
    for sock, flags in wanted.items():
        poller.register(sock, flags)
    ready = poller.poll(None if timeout is None else timeout * 1000)
    # As pyzmq: results come in poll order, and plain descriptors as their numbers.
    return (
        [s for s, events in ready if events & POLLIN],
        [s for s, events in ready if events & POLLOUT],
        [s for s, events in ready if events & POLLERR],
    )
