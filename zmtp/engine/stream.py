"""asyncio glue between a stream transport (tcp, ipc) and a :class:`~zmtp.session.Session`.

The protocol only moves bytes and time: received data goes to the session, the session's output
goes to the transport, and the session's timer becomes a ``call_at``. Back-pressure flows both
ways: a full inbound pipe pauses reading (so TCP pushes back on the peer), and a transport whose
write buffer is full stops the session from draining its pipe (so SNDHWM applies to senders).

Every callback takes the socket's lock, because the blocking API's threads touch the same pipes.
A send from such a thread only *schedules* a flush here: one wake-up serves a burst of sends.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager

from zmtp.pipe import Pipe
from zmtp.session import Session

# How many queued messages one flush moves into the transport before yielding to the loop.
_FLUSH_BUDGET = 4096


class StreamProtocol(asyncio.Protocol):
    """One ZMTP connection over an asyncio stream transport."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        lock: AbstractContextManager[object],
        make_session: Callable[[StreamProtocol], Session],
        on_lost: Callable[[StreamProtocol], None],
    ) -> None:
        self._loop = loop
        self._lock = lock
        self._make_session = make_session
        self._on_lost = on_lost
        self.session: Session | None = None
        self.transport: asyncio.Transport | None = None
        self._write_paused = False
        self._flush_scheduled = False
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None
        self._loop_thread = threading.get_ident()
        self.lost = loop.create_future()
        self.fd = -1

    def itself(self) -> StreamProtocol:
        """Serve as the protocol factory of a connection made for this very protocol."""
        return self

    # -- asyncio callbacks --------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Start the greeting as soon as the stream is up."""
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        sock = transport.get_extra_info("socket")
        self.fd = sock.fileno() if sock is not None else -1
        with self._lock:
            session = self._make_session(self)
            self.session = session
            self._watch_pipe(session.pipe)
            session.start(self._loop.time())
            self._after(session)

    def data_received(self, data: bytes) -> None:
        """Feed the session and write whatever it answers."""
        session = self.session
        assert session is not None
        with self._lock:
            session.receive(data, self._loop.time())
            self._watch_pipe(session.pipe)
            self._after(session)

    def eof_received(self) -> bool:
        """End the connection: the peer closed its side."""
        session = self.session
        if session is not None:
            with self._lock:
                session.receive(b"", self._loop.time())
                self._after(session)
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        """Tell the session (if it does not know yet) and the engine."""
        session = self.session
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if session is not None and not session.closed:
            with self._lock:
                session.receive(b"", self._loop.time())
        if not self.lost.done():
            self.lost.set_result(None)
        self._on_lost(self)

    def pause_writing(self) -> None:
        """Leave messages in the pipe while the transport's buffer is full (SNDHWM applies)."""
        self._write_paused = True

    def resume_writing(self) -> None:
        """Move more messages out of the pipe: the transport drained."""
        self._write_paused = False
        self.flush()

    # -- driving the session ------------------------------------------------------------------

    def flush(self) -> None:
        """Write what the session has (in the loop thread)."""
        self._flush_scheduled = False
        session = self.session
        if session is None:
            return
        with self._lock:
            self._after(session)

    def schedule_flush(self, _pipe: Pipe | None = None) -> None:
        """Ask the loop to flush soon; safe from any thread, and only once per burst."""
        if self._flush_scheduled:
            return
        self._flush_scheduled = True
        if threading.get_ident() == self._loop_thread:
            self._loop.call_soon(self.flush)
        else:
            self._loop.call_soon_threadsafe(self.flush)

    def close(self) -> None:
        """Close locally: write what is pending, then close the transport."""
        if self.session is not None:
            with self._lock:
                self.session.close()
                self._after(self.session)

    def abort(self) -> None:
        """Close at once, dropping whatever the transport still buffers (LINGER 0)."""
        if self.session is not None:
            with self._lock:
                self.session.close()
        if self.transport is not None:
            self.transport.abort()

    def _watch_pipe(self, pipe: Pipe | None) -> None:
        if pipe is not None and pipe.on_outbound is not self.schedule_flush:
            pipe.on_outbound = self.schedule_flush
            pipe.on_resume_reading = self._resume_reading
            pipe.on_terminate = lambda _pipe: self.close()

    def _resume_reading(self, _pipe: Pipe) -> None:
        transport = self.transport
        if transport is None:
            return
        if threading.get_ident() == self._loop_thread:
            transport.resume_reading()
        else:
            self._loop.call_soon_threadsafe(transport.resume_reading)

    def _after(self, session: Session) -> None:
        """Write output, apply back-pressure, re-arm the timer, close when the session ended."""
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        if not self._write_paused:
            buffers = session.output(_FLUSH_BUDGET)
            if buffers:
                transport.writelines(buffers)
            pipe = session.pipe
            if pipe is not None and pipe.outbound and session.handshake_complete:
                self.schedule_flush()
        if session.closed:
            transport.close()
            return
        if not session.reading:
            transport.pause_reading()
        deadline = session.get_timer()
        if deadline != self._timer_at:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = None if deadline is None else self._loop.call_at(deadline, self._tick)
            self._timer_at = deadline

    def _tick(self) -> None:
        self._timer = None
        self._timer_at = None
        session = self.session
        if session is None:
            return
        with self._lock:
            session.handle_timer(self._loop.time())
            self._after(session)
