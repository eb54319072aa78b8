"""A Twisted protocol that drives one :class:`~zmtp.session.Session` over a reactor transport.

This is the reactor's counterpart of :mod:`zmtp.engine.stream`: bytes from ``dataReceived`` go
to the session, the session's output goes to ``transport.writeSequence``, and the session's
timers (handshake deadline, heartbeats) become ``callLater`` calls. Nothing here knows ZMTP or
socket types; the session and the socket core do all of that.

Back-pressure flows both ways, with Twisted's own producer/consumer machinery:

- inbound: when the pipe's inbound queue reaches RCVHWM the transport is paused
  (``pauseProducing``), so TCP pushes back on the peer; the socket reading the queue down to
  half resumes it (``Pipe.on_resume_reading``);
- outbound: the protocol registers itself as a streaming producer of its transport, so when
  the transport's write buffer is full Twisted pauses it and no more messages leave the pipe,
  where SNDHWM then applies to the sender.
"""

from __future__ import annotations

from collections.abc import Callable

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IPushProducer
from twisted.internet.protocol import Protocol, connectionDone
from twisted.python.failure import Failure
from zope.interface import implementer  # type: ignore[import-untyped]

from zmtp.errors import ZapReplyError
from zmtp.frames import Buffer
from zmtp.pipe import Pipe
from zmtp.session import Session
from zmtp.twisted._types import DelayedCall, Reactor, Transport
from zmtp.zap import ZapReply

# How many queued messages one pass moves into the connection before yielding to the reactor.
_FLUSH_BUDGET = 4096


@implementer(IPushProducer)
class SessionProtocol(Protocol):
    """One ZMTP connection over a reactor stream transport (tcp or unix)."""

    def __init__(
        self,
        reactor: Reactor,
        make_session: Callable[[SessionProtocol], Session],
        on_lost: Callable[[SessionProtocol], None],
    ) -> None:
        self._reactor = reactor
        self._make_session = make_session
        self._on_lost = on_lost
        self.session: Session | None = None
        self._writing_paused = False
        self._reading_paused = False
        self._flush_call: DelayedCall | None = None
        self._timer: DelayedCall | None = None
        self._timer_at: float | None = None
        self._closing = False
        # True while this protocol drives the session (writes then wait for the next turn).
        self._busy = False
        self.finished = False
        # The descriptor, for monitor events (libzmq reports it, even once it is closed).
        self.fd = -1
        # Fires once the stream is gone, however it ended (close() waits on it for LINGER).
        self.lost: Deferred[None] = Deferred()

    # -- Twisted callbacks --------------------------------------------------------------------

    def connectionMade(self) -> None:
        """Create the session, start the greeting, and register as the transport's producer."""
        transport = self._transport()
        self.fd = transport.fileno()
        transport.registerProducer(self, True)
        self._busy = True
        try:
            session = self._make_session(self)
            self.session = session
            session.start(self._reactor.seconds())
        finally:
            self._busy = False
        self._after(session)

    def dataReceived(self, data: bytes) -> None:
        """Hand the peer's bytes to the session and act on what they caused."""
        session = self.session
        if session is None or session.closed:
            return
        self._busy = True
        try:
            session.receive(data, self._reactor.seconds())
        finally:
            self._busy = False
        self._after(session)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """Tell the session the stream ended (if it did not end it itself), then the driver."""
        self.finished = True
        self._cancel_calls()
        session = self.session
        if session is not None and not session.closed:
            session.receive(b"", self._reactor.seconds())
        self._on_lost(self)
        self.lost.callback(None)

    # -- IPushProducer: the transport's write buffer is full, or has room again ---------------

    def pauseProducing(self) -> None:
        """Stop taking messages from the pipe: SNDHWM applies to the sender meanwhile."""
        self._writing_paused = True

    def resumeProducing(self) -> None:
        """Take messages from the pipe again."""
        self._writing_paused = False
        if self.session is not None:
            self._after(self.session)

    def stopProducing(self) -> None:
        """Do nothing: the transport is going away, and connectionLost follows."""

    # -- driving the session ------------------------------------------------------------------

    def close(self) -> None:
        """Close gracefully: the session says goodbye, queued bytes are written, then EOF."""
        session = self.session
        if session is None:
            if self.transport is not None and not self.finished:
                self._transport().loseConnection()
            return
        self._busy = True
        try:
            session.close()
        finally:
            self._busy = False
        self._after(session)

    def abort(self) -> None:
        """Close at once, dropping what the transport still buffers (LINGER 0)."""
        if self.session is not None:
            self.session.close()
        self._cancel_calls()
        if self.transport is not None and not self.finished:
            self._transport().abortConnection()

    def _transport(self) -> Transport:
        transport = self.transport
        assert transport is not None
        return transport

    def _watch_pipe(self, pipe: Pipe | None) -> None:
        if pipe is not None and pipe.on_outbound is not self._schedule_flush:
            pipe.on_outbound = self._schedule_flush
            pipe.on_resume_reading = self._resume_reading
            pipe.on_terminate = lambda _pipe: self.close()

    def _schedule_flush(self, _pipe: Pipe | None = None) -> None:
        """Write a message that was queued outside the session's own processing at once.

        The pipe calls this when its queue goes from empty to non-empty. From application
        code (a reply sent in a callback, say) the message is written now, which saves a
        reactor turn per round trip; while the session itself is working, or the transport
        is full, one flush is scheduled for the next turn instead.
        """
        if self.finished or self._flush_call is not None:
            return
        session = self.session
        if not self._busy and not self._writing_paused and session is not None:
            self._after(session)
        else:
            self._flush_call = self._reactor.callLater(0, self.flush)

    def zap_reply(self, reply: ZapReply | ZapReplyError) -> None:
        """Hand the ZAP handler's verdict to the handshake, then write what follows."""
        session = self.session
        if session is None or self.finished:
            return
        self._busy = True
        try:
            session.zap_reply(reply, self._reactor.seconds())
        finally:
            self._busy = False
        self._after(session)

    def flush(self) -> None:
        """Write what the session has now."""
        self._flush_call = None
        if self.session is not None and not self.finished:
            self._after(self.session)

    def _resume_reading(self, _pipe: Pipe) -> None:
        session = self.session
        if self._reading_paused and session is not None and session.reading:
            self._reading_paused = False
            if not self.finished:
                self._transport().resumeProducing()

    def _after(self, session: Session) -> None:
        """Write output, apply back-pressure, re-arm the timer, close when the session ended."""
        if self.finished or self._busy:
            return
        self._busy = True
        try:
            self._drive(session)
        finally:
            self._busy = False

    def _drive(self, session: Session) -> None:
        # The pipe appears when the handshake completes, which can happen on any path that
        # ends here: bytes received, a timer, or a ZAP verdict from another connection.
        self._watch_pipe(session.pipe)
        transport = self._transport()
        if not self._writing_paused:
            buffers = session.output(_FLUSH_BUDGET)
            if buffers:
                transport.writeSequence([_as_bytes(buffer) for buffer in buffers])
            pipe = session.pipe
            if pipe is not None and pipe.outbound and session.handshake_complete:
                self._schedule_flush()
        if session.closed:
            if not self._closing:
                self._closing = True
                self._cancel_calls()
                # A registered streaming producer would hold the connection open.
                transport.unregisterProducer()
                transport.loseConnection()
            return
        if not session.reading and not self._reading_paused:
            self._reading_paused = True
            transport.pauseProducing()
        deadline = session.get_timer()
        if deadline != self._timer_at:
            if self._timer is not None and self._timer.active():
                self._timer.cancel()
            self._timer = None
            if deadline is not None:
                delay = max(0.0, deadline - self._reactor.seconds())
                self._timer = self._reactor.callLater(delay, self._tick)
            self._timer_at = deadline

    def _tick(self) -> None:
        self._timer = None
        self._timer_at = None
        session = self.session
        if session is not None and not self.finished:
            self._busy = True
            try:
                session.handle_timer(self._reactor.seconds())
            finally:
                self._busy = False
            self._after(session)

    def _cancel_calls(self) -> None:
        for call in (self._timer, self._flush_call):
            if call is not None and call.active():
                call.cancel()
        self._timer = None
        self._timer_at = None
        self._flush_call = None


def _as_bytes(buffer: Buffer) -> bytes:
    # Twisted's transports take bytes only; the session hands out views of large bodies.
    return buffer if type(buffer) is bytes else bytes(buffer)
