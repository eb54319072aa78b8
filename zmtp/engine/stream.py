"""asyncio glue between a stream socket (tcp, ipc) and a :class:`~zmtp.session.Session`.

The transports open connections with asyncio (connect, accept, socket options), but the bytes
of an established connection do not go through asyncio's transport: its ``writelines`` joins
every buffer into one copy, it copies what the kernel did not take into a bytearray and moves
the rest of that bytearray down after every partial send, and it can only be written from the
loop thread. This driver keeps its own handle on the socket instead (a ``dup`` of the
transport's descriptor, so the idle asyncio transport still owns the original and reports the
end of the connection through ``connection_lost`` as before) and:

- reads with one ``recv`` per readiness event and hands the bytes to the session;
- writes with ``sendmsg``: small buffers (frame headers, short bodies) are joined into one,
  large bodies go to the kernel as they are, and a partial write keeps a ``memoryview`` of the
  rest, so a payload is never copied on the way out;
- lets the application thread write a reply itself (see :meth:`StreamProtocol.schedule_flush`)
  and, while it is blocked in ``recv()``, read and decode the connection itself (lending, see
  :mod:`zmtp.engine.lending`), which saves the thread hand-offs that dominated a request/reply
  round trip.

Back-pressure flows both ways: a full inbound pipe stops reading (so TCP pushes back on the
peer), and while more than ``_HIGH_WATER`` bytes wait for the kernel no further messages leave
the pipe (so SNDHWM applies to senders). Every callback holds the socket's lock, because the
blocking API's threads touch the same pipes, and everything that touches ``_out`` does too.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager

from zmtp.engine.lending import IDLE_CHECK, ReadLending
from zmtp.frames import Buffer
from zmtp.pipe import Pipe
from zmtp.session import Session

# How many queued messages one flush moves into the connection before yielding to the loop.
_FLUSH_BUDGET = 4096
# Bytes asked of the kernel per read, adapted to the traffic. CPython allocates the whole size
# before the call, so a small read size suits small messages and latency; under a stream of
# large messages, reads that fill their buffer double it (up to _STREAM_READ): fewer wake-ups
# and reads per message, and fewer bodies split across two reads (each split costs a join).
# A read that returns less than a quarter of its size halves it again. A large frame body in
# progress is read whole (up to _MAX_READ), so its bytes are allocated once.
_READ_SIZE = 64 * 1024
_STREAM_READ = 1 << 20
_MAX_READ = 8 << 20
# A read that filled its buffer is followed by more (up to this many) before the session sees
# them: under load, one wake-up of the application thread then serves several messages.
_READS_PER_WAKE = 4
# Buffers at least this large are handed to sendmsg as they are; smaller ones are joined.
_LARGE = 16 * 1024
# sendmsg takes at most IOV_MAX buffers per call.
_IOV_MAX = min(os.sysconf("SC_IOV_MAX") if hasattr(os, "sysconf") else 1024, 1024)
# No more messages are taken from the pipe while this many bytes wait for the kernel.
_HIGH_WATER = 1 << 20


class ReadSizer:
    """How many bytes the next read asks for: grows with full reads, shrinks with short ones."""

    __slots__ = ("size",)

    def __init__(self) -> None:
        self.size = _READ_SIZE

    def filled(self) -> None:
        """Double the size after a read that filled its buffer: more is waiting."""
        if self.size < _STREAM_READ:
            self.size <<= 1

    def short(self, got: int) -> None:
        """Halve the size after a read that returned ``got`` bytes, far fewer than asked."""
        if got < self.size >> 2 and self.size > _READ_SIZE:
            self.size >>= 1


class StreamProtocol(asyncio.Protocol):
    """One ZMTP connection over a stream socket that asyncio connected or accepted."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        lock: AbstractContextManager[object],
        make_session: Callable[[StreamProtocol], Session],
        on_lost: Callable[[StreamProtocol], None],
        lending: ReadLending | None = None,
    ) -> None:
        self._loop = loop
        self._lock = lock
        self._make_session = make_session
        self._on_lost = on_lost
        self.session: Session | None = None
        self.transport: asyncio.Transport | None = None
        self._sock: socket.socket | None = None
        # Bytes accepted for the peer but not yet taken by the kernel, oldest first.
        self._out: list[Buffer] = []
        self._out_bytes = 0
        self._writer_armed = False
        self._reading = False
        self._reads = ReadSizer()
        self._flush_scheduled = False
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None
        self._loop_thread = threading.get_ident()
        self.lost = loop.create_future()
        self.fd = -1
        # Lending this connection's reads to a thread blocked in recv() (zmtp.engine.lending):
        # whether it is lent now, how many reads that thread made, and how many the last idle
        # check saw.
        self._lending = lending
        self._lent = False
        self._lent_reads = 0
        self._lent_reads_seen = 0
        self._lend_timer: asyncio.TimerHandle | None = None

    def itself(self) -> StreamProtocol:
        """Serve as the protocol factory of a connection made for this very protocol."""
        return self

    # -- asyncio callbacks --------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Take over the socket's I/O and start the greeting."""
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        raw = transport.get_extra_info("socket")
        if raw is None:  # not a socket transport: nothing this driver can drive
            transport.abort()
            return
        self.fd = raw.fileno()
        # asyncio's transport must stop reading the descriptor; the dup is ours to poll.
        transport.pause_reading()
        sock = socket.socket(fileno=os.dup(self.fd))
        sock.setblocking(False)
        self._sock = sock
        with self._lock:
            session = self._make_session(self)
            self.session = session
            session.start(self._loop.time())
            self._start_reading()
            self._after(session)

    def connection_lost(self, exc: Exception | None) -> None:
        """Report the end: asyncio closed the transport (after :meth:`_finish`, or at exit)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        session = self.session
        if session is not None and not session.closed:
            with self._lock:
                session.receive(b"", self._loop.time())
        self._release_socket()
        if not self.lost.done():
            self.lost.set_result(None)
        self._on_lost(self)

    # -- reading ------------------------------------------------------------------------------

    def _start_reading(self) -> None:
        sock = self._sock
        if not self._reading and not self._lent and sock is not None:
            self._reading = True
            self._loop.add_reader(sock.fileno(), self._readable)

    def _stop_reading(self) -> None:
        sock = self._sock
        if self._reading and sock is not None:
            self._reading = False
            self._loop.remove_reader(sock.fileno())

    def _readable(self) -> None:
        sock = self._sock
        session = self.session
        if sock is None or session is None:
            return
        chunks = self._read(sock, session)
        if not chunks:
            return
        with self._lock:
            now = self._loop.time()
            for data in chunks:
                session.receive(data, now)
            self._after(session)
            lending = self._lending
            if lending is not None and lending.wanted:
                self._lend(lending, session)

    def _read(self, sock: socket.socket, session: Session) -> list[bytes]:
        """Read what the kernel has (several reads while they fill their buffers)."""
        chunks: list[bytes] = []
        reads = self._reads
        for _ in range(_READS_PER_WAKE):
            size = min(max(reads.size, session.connection.body_missing), _MAX_READ)
            try:
                data = sock.recv(size)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                data = b""  # reset by the peer: the session reports the connection lost
            chunks.append(data)
            if len(data) < size:
                reads.short(len(data))
                break
            reads.filled()
        return chunks

    # -- lending reads to a thread blocked in recv() (see zmtp.engine.lending) ---------------

    def _lend(self, lending: ReadLending, session: Session) -> None:
        """Stop polling and let the waiting application thread read (loop thread, locked)."""
        if self._lent or self._sock is None or session.closed or not session.reading:
            return
        if not session.handshake_complete:
            return
        self._stop_reading()
        self._lent = True
        self._lent_reads_seen = self._lent_reads
        lending.add(self)
        self._lend_timer = self._loop.call_later(IDLE_CHECK, self._check_lent)

    def _check_lent(self) -> None:
        """Take the connection back if the application thread stopped reading it."""
        self._lend_timer = None
        lending = self._lending
        with self._lock:
            if not self._lent or lending is None:
                return
            if self._lent_reads == self._lent_reads_seen:
                if lending.polling:
                    # Blocked since the last check, and nothing came: the wait's end restarts
                    # the checks (ReadLending.wait), so none are needed meanwhile.
                    lending.unchecked = True
                    return
                lending.wanted = False
                self.take_back()
                return
            self._lent_reads_seen = self._lent_reads
            self._lend_timer = self._loop.call_later(IDLE_CHECK, self._check_lent)

    def check_lent_soon(self) -> None:
        """Check IDLE_CHECK from now whether the connection is still read (loop, locked)."""
        if not self._lent:
            return
        if self._lend_timer is not None:
            self._lend_timer.cancel()
        self._lend_timer = self._loop.call_later(IDLE_CHECK, self._check_lent)

    def take_back(self) -> None:
        """Poll the connection in the I/O thread again (loop thread, under the lock)."""
        lending = self._lending
        if not self._lent or lending is None:
            return
        self._lent = False
        lending.remove(self)
        if self._lend_timer is not None:
            self._lend_timer.cancel()
            self._lend_timer = None
        session = self.session
        if session is not None and session.reading:
            self._start_reading()

    def lent_fd(self) -> int:
        """Return the descriptor the application thread should wait on, or -1 (nothing to read)."""
        sock = self._sock
        session = self.session
        if not self._lent or sock is None or session is None or not session.reading:
            return -1
        return sock.fileno()

    def read_lent(self) -> bool:
        """Read and decode what the kernel holds, in the application thread (under the lock).

        What only the loop thread may do afterwards (arming the writer or the timer, closing)
        is left to a flush scheduled in that thread.
        """
        sock = self._sock
        session = self.session
        if not self._lent or sock is None or session is None or not session.reading:
            return False
        chunks = self._read(sock, session)
        if not chunks:
            return False
        self._lent_reads += 1
        now = self._loop.time()
        only_messages = True
        for data in chunks:
            only_messages = session.receive(data, now) and only_messages
        if only_messages:
            # Messages only: no answer to write, no timer sooner, still open (the usual case).
            return True
        if not self._out and session.connection.has_output:
            # A PONG or another command's answer: written here, as schedule_flush does.
            self._queue(session.output(_FLUSH_BUDGET))
            self._send()
        deadline = session.get_timer()
        sooner = deadline is not None and (self._timer_at is None or deadline < self._timer_at)
        if (session.closed or not session.reading or self._out or sooner) and (
            not self._flush_scheduled
        ):
            self._flush_scheduled = True
            self._loop.call_soon_threadsafe(self.flush)
        return True

    # -- writing ------------------------------------------------------------------------------

    def _queue(self, buffers: list[Buffer]) -> None:
        """Add ``buffers`` to ``_out``, joining runs of small ones into one buffer."""
        out = self._out
        if len(buffers) == 1:  # one encoded batch or one message: nothing to join
            self._out_bytes += len(buffers[0])
            out.append(buffers[0])
            return
        small: list[Buffer] = []
        for buffer in buffers:
            size = len(buffer)
            self._out_bytes += size
            if size < _LARGE:
                small.append(buffer)
                continue
            if small:
                out.append(small[0] if len(small) == 1 else b"".join(small))
                small = []
            out.append(buffer)
        if small:
            out.append(small[0] if len(small) == 1 else b"".join(small))

    def _send(self) -> bool:
        """Give ``_out`` to the kernel until it is empty (True) or the kernel is full."""
        out = self._out
        sock = self._sock
        if sock is None:
            out.clear()
            self._out_bytes = 0
            return True
        while out:
            batch = out[:_IOV_MAX]
            try:
                sent = sock.sendmsg(batch)
            except (BlockingIOError, InterruptedError):
                return False
            except OSError:
                # The peer is gone; reading will see the end and close the session.
                out.clear()
                self._out_bytes = 0
                return True
            self._out_bytes -= sent
            if not self._out_bytes:  # all of it went (the usual case): no accounting per buffer
                out.clear()
                return True
            done = 0
            for buffer in batch:
                size = len(buffer)
                if sent < size:
                    break
                sent -= size
                done += 1
            del out[:done]
            if sent:
                out[0] = memoryview(out[0])[sent:]
            if done < len(batch):
                return False
        return True

    def _arm_writer(self) -> None:
        sock = self._sock
        if not self._writer_armed and sock is not None and self._out:
            self._writer_armed = True
            self._loop.add_writer(sock.fileno(), self._writable)

    def _writable(self) -> None:
        session = self.session
        with self._lock:
            if self._send() and self._writer_armed and self._sock is not None:
                self._writer_armed = False
                self._loop.remove_writer(self._sock.fileno())
            if session is not None:
                self._after(session)

    # -- driving the session ------------------------------------------------------------------

    def flush(self) -> None:
        """Write what the session has (in the loop thread)."""
        self._flush_scheduled = False
        session = self.session
        if session is None:
            return
        with self._lock:
            self._after(session)

    def schedule_flush(self, pipe: Pipe | None = None) -> None:
        """React to a pipe that went from empty to non-empty; safe from any thread.

        From the loop thread, or while output is pending, one flush is scheduled per burst.
        A reply is different: when the application thread writes to a pipe it has just read
        the peer's last queued message from (``pipe.answering``), the peer is most likely
        waiting for exactly this message, so the thread writes it to the socket itself instead
        of waking the loop thread to do it. The caller holds the socket's lock.
        """
        if self._flush_scheduled:
            return
        if (
            pipe is not None
            and pipe.answering
            and not self._out
            and threading.get_ident() != self._loop_thread
        ):
            pipe.answering = False
            session = self.session
            if session is not None and session.handshake_complete and not session.closed:
                self._queue(session.output(_FLUSH_BUDGET))
                if self._send() and not pipe.outbound:
                    return
        self._flush_scheduled = True
        if threading.get_ident() == self._loop_thread:
            self._loop.call_soon(self.flush)
        else:
            self._loop.call_soon_threadsafe(self.flush)

    def close(self) -> None:
        """Close locally: write what is pending, then close the socket."""
        if self.session is not None:
            with self._lock:
                self.session.close()
                self._after(self.session)

    def abort(self) -> None:
        """Close at once, dropping whatever is still queued for the kernel (LINGER 0)."""
        with self._lock:
            if self.session is not None:
                self.session.close()
            self._out.clear()
            self._out_bytes = 0
            self._finish()

    def _watch_pipe(self, pipe: Pipe | None) -> None:
        if pipe is not None and pipe.on_outbound is not self.schedule_flush:
            pipe.on_outbound = self.schedule_flush
            pipe.on_resume_reading = self._resume_reading
            pipe.on_terminate = lambda _pipe: self.close()

    def _resume_reading(self, _pipe: Pipe) -> None:
        if threading.get_ident() == self._loop_thread:
            self._resume()
        else:
            self._loop.call_soon_threadsafe(self._resume)

    def _resume(self) -> None:
        session = self.session
        if session is not None and session.reading:
            self._start_reading()

    def _after(self, session: Session) -> None:
        """Write output, apply back-pressure, re-arm the timer, close when the session ended."""
        if self._sock is None:
            return
        # The pipe appears when the handshake completes, which can happen on any path that
        # ends here: bytes read, a timer, or a ZAP reply arriving from another socket.
        self._watch_pipe(session.pipe)
        if self._out_bytes < _HIGH_WATER:
            self._queue(session.output(_FLUSH_BUDGET))
            pipe = session.pipe
            if pipe is not None and pipe.outbound and session.handshake_complete:
                self.schedule_flush()
        if self._out and not self._writer_armed and not self._send():
            self._arm_writer()
        if session.closed:
            self._stop_reading()
            if not self._out:
                self._finish()
            return
        if not session.reading:
            self._stop_reading()
        deadline = session.get_timer()
        if deadline != self._timer_at:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = None if deadline is None else self._loop.call_at(deadline, self._tick)
            self._timer_at = deadline

    def _finish(self) -> None:
        """Stop polling, close our descriptor and let asyncio close (and report) the rest."""
        self._release_socket()
        if self.transport is not None:
            self.transport.abort()

    def _release_socket(self) -> None:
        sock = self._sock
        if sock is None:
            return
        if self._lent:
            with self._lock:
                self.take_back()
        self._stop_reading()
        if self._writer_armed:
            self._writer_armed = False
            self._loop.remove_writer(sock.fileno())
        self._sock = None
        sock.close()

    def _tick(self) -> None:
        self._timer = None
        self._timer_at = None
        session = self.session
        if session is None:
            return
        with self._lock:
            if self._lent:
                # Bytes the application thread has not read yet count for the heartbeats.
                self.read_lent()
            session.handle_timer(self._loop.time())
            self._after(session)
