"""Run one sans-IO :class:`zmtp.Connection` over a real socket, for tests against libzmq.

The protocol core never touches a socket or a clock, so the interop tests need a tiny driver:
a non-blocking TCP or AF_UNIX socket, ``select`` for readiness, ``time.monotonic()`` for the
connection's clock, and a loop (:meth:`Wire.pump`) that moves bytes both ways, fires the
connection's timers and collects its events.

Two rules make the tests trustworthy:

* **Every wait is bounded.** A wait names what it expects and, when it gives up, raises
  :class:`WireTimeout` (an ``AssertionError``) listing the events seen so far, so a failure
  says what libzmq did instead of hanging until pytest-timeout kills the run.
* **No sleeps as synchronisation.** Waits end as soon as their condition holds. libzmq only
  makes some progress when its application thread calls into the socket (it attaches pipes
  and sends cached subscriptions lazily, see ZMTP-NOTES section 8), so a wait may carry a
  *poke*: a callable run on every turn of the loop (``lambda: zsock.getsockopt(zmq.EVENTS)``),
  with ``select`` sliced to :data:`POKE_INTERVAL` so that the poke runs often enough. The poke
  keeps the libzmq side moving; it never replaces the condition being waited for.

This module does not import pyzmq: it only speaks ZMTP, and the libzmq peer lives in the
tests (see ``conftest.py``).
"""

from __future__ import annotations

import select
import socket
import time
from collections import deque
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import TypeVar

from zmtp import Connection, ConnectionOptions
from zmtp.events import (
    CancelReceived,
    ConnectionClosed,
    Event,
    HandshakeComplete,
    MessagesReceived,
    SubscribeReceived,
)

DEFAULT_TIMEOUT = 5.0
"""Seconds a wait may take before it fails: loopback handshakes take about a millisecond,
so this is only ever reached when something is wrong."""

POKE_INTERVAL = 0.005
"""Longest ``select`` slice while a poke is set (seconds): how often the libzmq side is nudged."""

RECV_SIZE = 1 << 18
"""Bytes read per ``recv`` call; large frames arrive in several reads, which the decoder joins."""

Address = tuple[str, int] | str
"""A TCP ``(host, port)`` pair, or an AF_UNIX path."""

Poke = Callable[[], object]
Until = Callable[[], object]

_E = TypeVar("_E", bound=Event)


class WireError(AssertionError):
    """A wait could not be satisfied; the message says what was expected and what was seen.

    It derives from ``AssertionError`` so that pytest reports it as a test failure with the
    message in full, rather than as an error in the test's machinery.
    """


class WireTimeout(WireError):
    """A bounded wait ran out of time."""


class WireClosed(WireError):
    """The connection or its transport ended before the awaited condition held."""


def _preview(frame: bytes, limit: int = 24) -> str:
    if len(frame) <= limit:
        return repr(frame)
    return f"<{len(frame)} bytes {frame[:8]!r}...>"


def describe_event(event: Event) -> str:
    """Return a one-line summary of an event; large message bodies are abbreviated."""
    if isinstance(event, MessagesReceived):
        shown = [
            "[" + ", ".join(_preview(frame) for frame in message) + "]"
            for message in event.messages[:4]
        ]
        more = f" +{len(event.messages) - 4} more" if len(event.messages) > 4 else ""
        return f"MessagesReceived({', '.join(shown)}{more})"
    if isinstance(event, HandshakeComplete):
        peer = event.peer_socket_type.name if event.peer_socket_type is not None else None
        return (
            f"HandshakeComplete(peer={peer}, version={event.peer_version}, "
            f"routing_id={event.routing_id!r})"
        )
    if isinstance(event, ConnectionClosed):
        return f"ConnectionClosed({type(event.error).__name__}: {event.error})"
    return repr(event)


class Wire:
    """One :class:`Connection` driven over one connected stream socket.

    Build it with :meth:`connect` (we dial a listening libzmq socket) or :meth:`accept` (a
    libzmq socket dials our listening socket), or wrap an already connected socket. Everything
    the connection reports is kept: ``events`` is the full history (for diagnostics), and the
    queues ``messages`` and ``subscriptions`` are consumed by the ``recv_*``/``wait_*`` helpers.
    With ``record=True`` every byte read and written is kept in ``received_bytes`` and
    ``sent_bytes``, so a test can check the exact wire form of a command.
    """

    def __init__(
        self,
        sock: socket.socket,
        connection: Connection,
        *,
        started: bool = False,
        record: bool = False,
        poke: Poke | None = None,
    ) -> None:
        sock.setblocking(False)
        self.sock = sock
        self.connection = connection
        self.poke = poke
        self.record = record
        self.events: list[Event] = []
        self.messages: deque[list[bytes]] = deque()
        self.subscriptions: deque[SubscribeReceived | CancelReceived] = deque()
        self.handshake: HandshakeComplete | None = None
        self.closed: ConnectionClosed | None = None
        self.received_bytes = bytearray()
        self.sent_bytes = bytearray()
        self.eof = False
        """The peer closed the stream (recv returned nothing, or the connection was reset)."""
        self.write_error: OSError | None = None
        self.written = 0
        """Bytes accepted by the socket so far."""
        self.write_cap: int | None = None
        """When set, at most this many bytes in total are written (the rest waits in order).

        Lets a test order events across the wire: cap at 64 and libzmq gets our greeting but
        not yet our READY, so its READY reaches us first whatever the scheduling.
        """
        self._out = bytearray()
        if not started:
            connection.start(time.monotonic())
        self._take_output()

    # -- construction ----------------------------------------------------------------------

    @classmethod
    def connect(
        cls,
        address: Address,
        options: ConnectionOptions,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        record: bool = False,
        poke: Poke | None = None,
    ) -> Wire:
        """Dial ``address`` (TCP ``(host, port)`` or an AF_UNIX path) and start a connection."""
        sock = cls.dial(address, timeout=timeout)
        return cls(sock, Connection(options), record=record, poke=poke)

    @classmethod
    def accept(
        cls,
        listener: socket.socket,
        options: ConnectionOptions,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        record: bool = False,
        poke: Poke | None = None,
    ) -> Wire:
        """Accept one connection on ``listener`` (bounded) and start a connection on it.

        A ``poke`` matters here too: a libzmq socket that connects to us does its TCP connect
        in its I/O thread on its own, but giving it the poke early costs nothing.
        """
        sock = cls.accept_socket(listener, timeout=timeout, poke=poke)
        return cls(sock, Connection(options), record=record, poke=poke)

    @staticmethod
    def dial(address: Address, *, timeout: float = DEFAULT_TIMEOUT) -> socket.socket:
        """Open a connected stream socket to ``address`` (a blocking connect, bounded)."""
        if isinstance(address, str):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        else:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(timeout)
        try:
            sock.connect(address)
        except OSError:
            sock.close()
            raise
        return sock

    @staticmethod
    def accept_socket(
        listener: socket.socket, *, timeout: float = DEFAULT_TIMEOUT, poke: Poke | None = None
    ) -> socket.socket:
        """Wait (bounded) for one incoming connection on ``listener`` and return it."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WireTimeout(
                    f"no connection arrived on {listener.getsockname()!r} within {timeout} s"
                )
            slice_ = min(remaining, POKE_INTERVAL) if poke is not None else remaining
            readable, _, _ = select.select([listener], [], [], slice_)
            if readable:
                sock, _ = listener.accept()
                if sock.family == socket.AF_INET:
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                return sock
            if poke is not None:
                poke()

    # -- the loop --------------------------------------------------------------------------

    def pump(
        self,
        until: Until | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        *,
        what: str = "",
        poke: Poke | None = None,
        stop_on_close: bool = True,
    ) -> None:
        """Move bytes and run timers until ``until()`` is true, or for ``timeout`` seconds.

        With ``until`` the wait is bounded by ``timeout`` and fails with :class:`WireTimeout`;
        without it the loop simply runs for ``timeout`` seconds (answering PINGs and the like)
        and returns. ``stop_on_close`` fails the wait at once with :class:`WireClosed` when the
        connection reports :class:`ConnectionClosed` and ``until()`` still does not hold, so a
        refused handshake is reported as such instead of as a timeout. ``poke`` (default: the
        one given at construction) runs on every turn, to keep a libzmq peer moving.
        """
        poke = poke if poke is not None else self.poke
        label = what or (getattr(until, "__name__", "condition") if until else "time to pass")
        deadline = time.monotonic() + timeout
        while True:
            self._take_output()
            if until is not None:
                if until():
                    return
                if stop_on_close and self.closed is not None:
                    raise WireClosed(self._report(f"connection closed while waiting for {label}"))
            now = time.monotonic()
            if now >= deadline:
                if until is None:
                    return
                raise WireTimeout(self._report(f"timed out after {timeout} s waiting for {label}"))
            reading = not self.eof
            writing = self._writable() > 0
            if not reading and not writing and poke is None:
                # Nothing can arrive and nothing is left to write: only time would pass.
                if until is None:
                    return
                raise WireClosed(self._report(f"transport finished while waiting for {label}"))
            wait = deadline - now
            timer = self.connection.get_timer()
            if timer is not None:
                wait = min(wait, max(0.0, timer - now))
            if poke is not None:
                wait = min(wait, POKE_INTERVAL)
            if reading or writing:
                readable, writable, _ = select.select(
                    [self.sock] if reading else [], [self.sock] if writing else [], [], wait
                )
                if readable:
                    self._read()
                if writable:
                    self._write()
            else:
                # Transport done; only the poke (libzmq side) can still change anything.
                select.select([], [], [], wait)
            timer = self.connection.get_timer()
            now = time.monotonic()
            if timer is not None and now >= timer:
                self.connection.handle_timer(now)
            self._collect()
            if poke is not None:
                poke()

    def run_for(self, seconds: float, *, poke: Poke | None = None) -> None:
        """Keep the connection serviced (reads, writes, timers) for ``seconds``, then return.

        Used for idle periods in the heartbeat tests: the point is to let time pass while we
        keep answering, not to wait for an event.
        """
        self.pump(None, seconds, poke=poke)

    # -- helpers ---------------------------------------------------------------------------

    def wait_handshake(self, timeout: float = DEFAULT_TIMEOUT) -> HandshakeComplete:
        """Pump until the handshake is complete and return its :class:`HandshakeComplete`."""
        self.pump(lambda: self.handshake is not None, timeout, what="HandshakeComplete")
        assert self.handshake is not None
        return self.handshake

    def send(self, frames: Sequence[bytes], timeout: float = DEFAULT_TIMEOUT) -> None:
        """Queue one multipart message and pump until every queued byte has been written.

        Before the handshake completes the connection keeps the message in its backlog, in
        which case nothing is written yet and this returns at once.
        """
        self.connection.send_message(frames)
        self.flush(timeout)

    def subscribe(self, topic: bytes, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Send a subscription (SUBSCRIBE to a 3.1 peer) and flush it."""
        self.connection.subscribe(topic)
        self.flush(timeout)

    def cancel(self, topic: bytes, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Cancel a subscription and flush it."""
        self.connection.cancel(topic)
        self.flush(timeout)

    def flush(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Pump until everything the connection produced has been written to the socket."""
        self._take_output()
        self.pump(lambda: not self._out, timeout, what="our output to be written")

    def recv_messages(self, n: int = 1, timeout: float = DEFAULT_TIMEOUT) -> list[list[bytes]]:
        """Pump until ``n`` messages are queued, then remove and return exactly ``n``."""
        self.pump(lambda: len(self.messages) >= n, timeout, what=f"{n} message(s)")
        return [self.messages.popleft() for _ in range(n)]

    def recv_message(self, timeout: float = DEFAULT_TIMEOUT) -> list[bytes]:
        """Pump until one message is queued and return it."""
        return self.recv_messages(1, timeout)[0]

    def wait_subscription(
        self, timeout: float = DEFAULT_TIMEOUT
    ) -> SubscribeReceived | CancelReceived:
        """Pump until a subscription change arrives; remove and return the oldest one."""
        self.pump(lambda: bool(self.subscriptions), timeout, what="SubscribeReceived/Cancel")
        return self.subscriptions.popleft()

    def wait_closed(self, timeout: float = DEFAULT_TIMEOUT) -> ConnectionClosed:
        """Pump until the connection reports :class:`ConnectionClosed` and return it."""
        self.pump(
            lambda: self.closed is not None,
            timeout,
            what="ConnectionClosed",
            stop_on_close=False,
        )
        assert self.closed is not None
        return self.closed

    def wait_eof(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Pump until the peer has closed the transport (EOF or reset)."""
        self.pump(
            lambda: self.eof, timeout, what="the peer to close the socket", stop_on_close=False
        )

    @property
    def unwritten(self) -> int:
        """Bytes taken from the connection but not yet accepted by the socket."""
        return len(self._out)

    def first(self, kind: type[_E]) -> _E | None:
        """Return the first event of ``kind`` in the history, or None."""
        for event in self.events:
            if isinstance(event, kind):
                return event
        return None

    def close(self) -> None:
        """Close the socket (the connection object is left as it is)."""
        self.sock.close()

    def __enter__(self) -> Wire:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- internals -------------------------------------------------------------------------

    def _take_output(self) -> None:
        data = self.connection.data_to_send()
        if data:
            if self.write_error is None:
                self._out += data
            if self.record:
                self.sent_bytes += data

    def _read(self) -> None:
        try:
            data = self.sock.recv(RECV_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except ConnectionResetError:
            data = b""
        if not data:
            self.eof = True
        elif self.record:
            self.received_bytes += data
        self.connection.receive_data(data, time.monotonic())
        self._collect()

    def _writable(self) -> int:
        if self.write_error is not None:
            return 0
        if self.write_cap is None:
            return len(self._out)
        return max(0, min(len(self._out), self.write_cap - self.written))

    def _write(self) -> None:
        size = self._writable()
        # Under a cap, send a copy of the allowed prefix (a memoryview would pin the buffer).
        data = self._out if size == len(self._out) else self._out[:size]
        try:
            sent = self.sock.send(data)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            # The peer is gone; the read side will see the EOF or reset and report it to the
            # connection, in order, after whatever the peer sent before leaving.
            self.write_error = exc
            self._out.clear()
            return
        del self._out[:sent]
        self.written += sent

    def _collect(self) -> None:
        for event in self.connection.events():
            self.events.append(event)
            if isinstance(event, MessagesReceived):
                self.messages.extend(event.messages)
            elif isinstance(event, SubscribeReceived | CancelReceived):
                self.subscriptions.append(event)
            elif isinstance(event, HandshakeComplete):
                self.handshake = event
            elif isinstance(event, ConnectionClosed):
                self.closed = event

    def _report(self, headline: str) -> str:
        shown = self.events[-20:]
        lines = [headline, f"events seen ({len(self.events)}, last {len(shown)} shown):"]
        lines.extend(f"  {describe_event(event)}" for event in shown)
        if not self.events:
            lines.append("  (none)")
        lines.append(
            f"queued: {len(self.messages)} message(s), {len(self.subscriptions)} subscription(s); "
            f"state={self.connection.state.value}, eof={self.eof}, "
            f"unwritten={len(self._out)} bytes (cap {self.write_cap}), "
            f"write_error={self.write_error!r}"
        )
        return "\n".join(lines)
