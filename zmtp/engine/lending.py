"""Connections whose reading the I/O thread lends to an application thread blocked in recv().

Why: through the I/O thread, every message that arrives for a blocking ``recv()`` crosses two
threads. The I/O thread wakes, reads and decodes it, wakes the waiting thread through the
socket's condition, and that thread then waits for the GIL the I/O thread still holds. On this
kind of machine those hand-offs are most of a request/reply round trip. A thread that is blocked
in ``recv()`` anyway can instead wait on the connection's descriptor and read it itself: one
wake-up per message, and no thread hand-off.

The rules that keep two threads from ever reading one connection at once:

- Only the I/O thread lends and takes back (it stops and restarts polling the descriptor), and
  only under the socket's lock. A lent connection is never polled by the I/O thread.
- The application thread reads a connection only while it is lent, and only under the lock, so
  bytes reach the session in the order the kernel gave them, whoever read them.
- A thread finding no message and nothing lent sets :attr:`ReadLending.wanted` and waits on the
  socket's condition as before; the I/O thread lends a connection right after its next read
  while ``wanted`` is set.
- The I/O thread takes a connection back when the application has stopped reading it (checked
  every :data:`IDLE_CHECK`, paused while a thread stays blocked on it), so heartbeats, the end
  of the connection and RCVHWM work while nobody calls ``recv()``; when the socket is waited on
  in any other way (``poll()``, a Poller, FD and EVENTS, zmtp.asyncio, a blocked send); and when
  the connection closes.

While the application thread waits on lent descriptors it also waits on a wake-up descriptor
of this object, so that anything the condition would have told it (a message from another
peer, the context ending, a connection taken back) still reaches it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import weakref
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from zmtp.engine.stream import StreamProtocol

# How often the I/O thread checks whether a lent connection is still being read. A connection
# nobody read since the last check is taken back; this bounds how long bytes can wait in the
# kernel unread (a heartbeat, the peer's disconnection) while the application does other work.
# A check that finds the thread still blocked, with nothing read, stops checking until that
# wait ends: a recv() that waits for hours costs no wake-ups, however many peers are lent.
IDLE_CHECK = 0.010


class ReadLending:
    """The lent connections of one socket, and the wake-up descriptor of its waiting thread."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        lock: AbstractContextManager[object],
        notify: Callable[[], None],
    ) -> None:
        self._loop = loop
        self._lock = lock
        # Wakes a thread waiting on the socket's condition (the socket's own notification).
        self._notify = notify
        # The application thread would like connections lent (it blocked in recv()).
        self.wanted = False
        self.lent: list[StreamProtocol] = []
        # A thread is waiting on the lent descriptors (so wake() must write).
        self.polling = False
        # An idle check found the thread blocked and stopped checking: the end of the wait
        # must start the checks again.
        self.unchecked = False
        self._taking_back = False
        self._wake_r = -1
        self._wake_w = -1
        self._close_pipe: weakref.finalize[[int, int], ReadLending] | None = None
        self._poller: select.poll | None = None
        self._polled: dict[int, StreamProtocol] = {}

    def add(self, connection: StreamProtocol) -> None:
        """Lend ``connection`` (the I/O thread, under the lock, has stopped polling it)."""
        self.lent.append(connection)
        # The thread that asked may still wait on the socket's condition, and nothing else
        # may come to wake it (a partly received message delivers nothing): wake it, so it
        # waits on the connection's descriptor instead.
        self._notify()

    def remove(self, connection: StreamProtocol) -> None:
        """Take ``connection`` back (I/O thread, under the lock), before it polls it again."""
        self.lent.remove(connection)
        if connection in self._polled.values():
            # Rebuilt at the next wait anyway; dropped now so a closed connection is freed.
            self._poller = None
            self._polled = {}
        # The waiting thread may be polling this descriptor: it must stop before it is closed.
        self.wake()

    def read_now(self) -> bool:
        """Read every lent connection without waiting (the caller holds the lock)."""
        got = False
        for connection in list(self.lent):
            got = connection.read_lent() or got
        return got

    def wait(
        self,
        release: Callable[[], object],
        reacquire: Callable[[object], None],
        timeout: float | None,
    ) -> None:
        """Wait for a lent descriptor or a wake-up, the lock released; then read what came.

        The caller holds the socket's lock, found nothing to receive, and calls again if this
        returns with still nothing (a wake-up, a timeout, bytes that were not a whole message).
        """
        # A connection that ended (or stopped reading) is left out: its descriptor would stay
        # readable until the I/O thread takes it back.
        polled = {}
        for connection in self.lent:
            fd = connection.lent_fd()
            if fd >= 0:
                polled[fd] = connection
        poller = self._poller_for(polled)
        self.polling = True
        saved = release()
        try:
            events = poller.poll(None if timeout is None else max(0, int(timeout * 1000 + 0.999)))
        finally:
            reacquire(saved)
            self.polling = False
        if self.unchecked:
            # The checks stopped during this wait. The thread may stop receiving now, so they
            # start again (one loop wake-up per long wait, none in a busy exchange): a peer's
            # PING is then read within about 2 * IDLE_CHECK.
            self.unchecked = False
            self._loop.call_soon_threadsafe(self._check_soon)
        for fd, _ in events:
            ready = polled.get(fd)
            if ready is not None:
                ready.read_lent()  # nothing if it was taken back meanwhile
            elif fd == self._wake_r:
                self._drain()

    def _poller_for(self, polled: dict[int, StreamProtocol]) -> select.poll:
        """Return a poll object for ``polled`` and the wake-up pipe (rebuilt on a change)."""
        if self._wake_r < 0:
            self._wake_r, self._wake_w = os.pipe()
            os.set_blocking(self._wake_r, False)
            os.set_blocking(self._wake_w, False)
            self._close_pipe = weakref.finalize(self, _close_pair, self._wake_r, self._wake_w)
        if self._poller is None or polled != self._polled:
            poller = select.poll()
            poller.register(self._wake_r, select.POLLIN)
            for fd in polled:
                poller.register(fd, select.POLLIN)
            self._poller = poller
            self._polled = polled
        return self._poller

    def wake(self) -> None:
        """Wake the thread waiting on the lent descriptors, if any (any thread, under the lock)."""
        if self.polling and self._wake_w >= 0:
            # A full pipe holds earlier wake-ups already: the thread will see those.
            with contextlib.suppress(BlockingIOError):
                os.write(self._wake_w, b"\0")

    def _drain(self) -> None:
        try:
            while os.read(self._wake_r, 4096):
                pass
        except BlockingIOError:
            pass

    def close(self) -> None:
        """Close the wake-up pipe (the socket is closed), unless a thread still waits on it.

        Such a thread (one blocked in recv() while another closed the socket) leaves the pipe
        to the garbage collector, which closes it with this object.
        """
        if not self.polling and self._close_pipe is not None:
            self._close_pipe()
            self._close_pipe = None
            self._poller = None
            self._polled = {}
            self._wake_r = self._wake_w = -1

    def take_back(self) -> None:
        """Ask the I/O thread to take every lent connection back (any thread, under the lock).

        Called when the socket is about to be waited on in another way (poll, FD, EVENTS).
        """
        self.wanted = False
        if self.lent and not self._taking_back:
            self._taking_back = True
            self._loop.call_soon_threadsafe(self._take_back_all)

    def _check_soon(self) -> None:
        with self._lock:
            for connection in self.lent:
                connection.check_lent_soon()

    def _take_back_all(self) -> None:
        with self._lock:
            self._taking_back = False
            for connection in list(self.lent):
                connection.take_back()


def _close_pair(read_fd: int, write_fd: int) -> None:
    os.close(read_fd)
    os.close(write_fd)
