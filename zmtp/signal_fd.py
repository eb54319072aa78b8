"""The socket's file descriptor (``getsockopt(FD)``): readable when its events may have changed.

Event loops that do not know zmtp (Twisted's ``addReader``, tornado, asyncio's ``add_reader``,
a plain ``select``) can then wait on a zmtp socket exactly as they wait on a libzmq one. The
contract is libzmq's, edge-triggered: the descriptor becomes readable when something happened
to the socket (a message arrived, room freed up, the context is ending), and reading EVENTS
resets it. A program must check EVENTS after every wake-up *and* after its own send/recv, and
act while EVENTS says so; then it neither misses a wake-up (a change after EVENTS was read
makes the descriptor readable again) nor spins (nothing pending means nothing readable).

A pipe carries the signal; at most one byte is ever in it, so it never fills.
"""

from __future__ import annotations

import os
import threading


class SignalFD:
    """A pipe whose read end is readable while a signal is pending."""

    def __init__(self) -> None:
        self._read, self._write = os.pipe()
        os.set_blocking(self._read, False)
        os.set_blocking(self._write, False)
        self._lock = threading.Lock()
        self._pending = False

    def fileno(self) -> int:
        """Return the descriptor to watch for readability."""
        return self._read

    def signal(self) -> None:
        """Make the descriptor readable (from any thread); idempotent until :meth:`clear`."""
        with self._lock:
            if self._pending or self._write < 0:
                return
            self._pending = True
            os.write(self._write, b"\x00")

    def clear(self) -> None:
        """Make the descriptor unreadable until the next :meth:`signal`."""
        with self._lock:
            if not self._pending:
                return
            self._pending = False
            os.read(self._read, 16)  # the one byte signal() wrote

    def close(self) -> None:
        """Release both descriptors; signals after this are ignored."""
        with self._lock:
            if self._write < 0:
                return
            os.close(self._read)
            os.close(self._write)
            self._read = self._write = -1
