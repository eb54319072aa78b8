"""A session: one ZMTP connection bound to one pipe of one socket (sans-IO).

The session is where the protocol core meets socket semantics. It feeds received bytes to the
:class:`~zmtp.connection.Connection`, attaches a pipe to the socket when the handshake is done,
moves decoded messages into the pipe's inbound queue and the socket's queued messages from the
pipe into the connection, and hands subscription changes to the socket. The event-loop glue
(asyncio, Twisted, a test) only moves bytes and time in and out.

libzmq's pipe lifetime is kept: a connecting socket creates its pipe at ``connect()`` so that
messages queue before the peer is reached and survive reconnects (``pipe`` is given to the
session); an accepted connection, and a ROUTER or IMMEDIATE connection, gets its pipe only once
the handshake succeeds, so a peer that fails the handshake is never visible to the socket.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from zmtp.commands import Cancel, Subscribe
from zmtp.connection import Connection, ConnectionOptions, State
from zmtp.constants import Event
from zmtp.errors import PeerRefused, ProtocolError, ZapReplyError, ZMTPError
from zmtp.events import (
    AuthenticationRequested,
    CancelReceived,
    ConnectionClosed,
    HandshakeComplete,
    MessagesReceived,
    SubscribeReceived,
)
from zmtp.frames import Buffer
from zmtp.mechanisms.base import Mechanism
from zmtp.metadata import Metadata
from zmtp.monitor import handshake_failure
from zmtp.pipe import Message, Pipe
from zmtp.sockets.base import SocketCore
from zmtp.zap import ZapReply, ZapRequest

log = logging.getLogger(__name__)


class Session:
    """Drive one connection for ``core``; see the module docstring for the pipe's lifetime."""

    def __init__(
        self,
        core: SocketCore,
        options: ConnectionOptions,
        *,
        pipe: Pipe | None = None,
        mechanism: Mechanism | None = None,
        routing_id: bytes = b"",
        on_change: Callable[[], None] = lambda: None,
        on_monitor: Callable[[Event, int], None] | None = None,
        on_zap: Callable[[Session, ZapRequest], None] | None = None,
        peer: str = "",
    ) -> None:
        self.core = core
        self.connection = Connection(options, mechanism)
        self.pipe = pipe
        self._owns_pipe = pipe is None
        self._routing_id = routing_id
        self._on_change = on_change
        self._on_monitor = on_monitor
        self._on_zap = on_zap
        self.peer = peer
        self.error: ZMTPError | None = None
        self.closed = False
        self.refused = False

    @property
    def handshake_complete(self) -> bool:
        """Whether the peer finished the handshake (it may have left since)."""
        return self.connection.handshake_complete

    @property
    def reading(self) -> bool:
        """Whether the driver should read from the peer (False while the pipe is full)."""
        return not (self.pipe is not None and self.pipe.reading_paused) and not self.closed

    def start(self, now: float) -> None:
        """Start the greeting; call ``output()`` next."""
        self.connection.start(now)

    def receive(self, data: Buffer, now: float) -> bool:
        """Feed bytes from the peer (``b""`` for end of stream) and act on what they say.

        Return True when they held nothing but whole messages: then nothing else changed (no
        output, no new timer, not closed), which a driver may use to skip its checks.
        """
        messages = self.connection.receive_messages(data, now)
        if messages:
            # The per-message path: nothing but messages came, and no event waits.
            pipe = self.pipe
            if pipe is not None and self.core.receives:
                pipe.deliver(messages)
                self._on_change()
            return True
        self._handle_events()
        return False

    def handle_timer(self, now: float) -> None:
        """Run the connection's due timers."""
        self.connection.handle_timer(now)
        self._handle_events()

    def get_timer(self) -> float | None:
        """Return when ``handle_timer`` is next due."""
        return self.connection.get_timer()

    def output(self, budget: int = 0) -> list[Buffer]:
        """Move queued messages from the pipe into the connection; return bytes to write.

        ``budget`` > 0 bounds how many pipe items are taken in one call, so a slow
        transport leaves the rest in the pipe where SNDHWM applies.
        """
        pipe = self.pipe
        conn = self.connection
        if pipe is not None and pipe.outbound and conn.state is State.TRAFFIC:
            outbound = pipe.outbound
            was_full = not pipe.writable()
            count = len(outbound) if budget <= 0 else min(budget, len(outbound))
            # Messages go to the connection in runs (one encoding loop per run); a
            # subscription change between them keeps its place in the stream.
            run: list[Message] = []
            for _ in range(count):
                item = outbound.popleft()
                if type(item) is list:
                    run.append(item)
                    continue
                if run:
                    conn.send_messages(run)
                    run = []
                if isinstance(item, Subscribe):
                    conn.subscribe(item.topic)
                elif isinstance(item, Cancel):
                    conn.cancel(item.topic)
            if run:
                conn.send_messages(run)
            if was_full:
                self._on_change()
        return conn.buffers_to_send()

    def zap_reply(self, reply: ZapReply | ZapReplyError, now: float) -> None:
        """Hand the ZAP handler's verdict (or what was wrong with its reply) to the handshake."""
        if isinstance(reply, ZapReplyError):
            self.connection.receive_zap_error(reply)
        else:
            self.connection.receive_zap_reply(reply, now)
            if reply.status_code == b"300" and self._on_monitor is not None:
                # libzmq reports the temporary failure, then leaves the handshake to time out.
                self._on_monitor(Event.HANDSHAKE_FAILED_AUTH, 300)
        self._handle_events()

    def close(self) -> None:
        """Close locally (the driver closes the transport)."""
        if not self.closed:
            self.connection.close()
            self._closed(None)

    def _handle_events(self) -> None:
        changed = False
        for event in self.connection.events():
            if isinstance(event, MessagesReceived):
                pipe = self.pipe
                if pipe is None or not self.core.receives:
                    continue
                pipe.deliver(event.messages)
                changed = True
            elif isinstance(event, SubscribeReceived | CancelReceived):
                if self.pipe is not None:
                    subscribe = isinstance(event, SubscribeReceived)
                    self.core.subscription(self.pipe, event.topic, subscribe)
                    changed = True
            elif isinstance(event, AuthenticationRequested):
                if self._on_zap is not None:
                    self._on_zap(self, event.request)
            elif isinstance(event, HandshakeComplete):
                if self._on_monitor is not None:
                    self._on_monitor(Event.HANDSHAKE_SUCCEEDED, 0)
                changed = self._handshake_complete(event) or changed
            elif isinstance(event, ConnectionClosed):
                if self._on_monitor is not None and not self.handshake_complete:
                    self._on_monitor(*handshake_failure(event.error))
                self._closed(event.error)
                changed = True
        if changed:
            self._on_change()

    def _handshake_complete(self, event: HandshakeComplete) -> bool:
        if self.pipe is not None:
            self.pipe.metadata = self._properties(event)
            self.pipe.connections += 1
            if self.pipe.connections > 1:
                # A connecting pipe that outlived a connection: what the old peer knew (SUB's
                # subscriptions) is told to the new one (libzmq's "hiccup").
                self.core.reconnected(self.pipe)
            return True
        pipe = self.core.new_pipe()
        pipe.routing_id = self._routing_id or event.routing_id
        pipe.metadata = self._properties(event)
        if not self.core.attach(pipe):
            log.info(
                "%s refused peer %s (only one peer allowed)", self.core.socket_type.name, self.peer
            )
            self.refused = True
            self.connection.close()
            self._closed(None)
            return False
        self.pipe = pipe
        return True

    def _properties(self, event: HandshakeComplete) -> Metadata:
        """Return the properties of the peer's messages: its metadata, ZAP's, Peer-Address."""
        address = self.connection.options.peer_address
        if not address:
            return event.metadata
        return Metadata([*event.metadata.items(), ("Peer-Address", address)])

    def _closed(self, error: ZMTPError | None) -> None:
        if self.closed:
            return
        self.closed = True
        self.error = error
        if error is not None:
            log.info("dropped peer %s: %s", self.peer or "?", error)
        if self.pipe is not None and self._owns_pipe:
            self.core.detach(self.pipe)

    @property
    def may_reconnect(self) -> bool:
        """Whether libzmq would reconnect after this session ended.

        A protocol error stops a connecting socket for good (libzmq's behaviour), and so does
        an ERROR from the peer (RFC 23: do not retry with the same credentials); lost
        connections and timeouts are retried.
        """
        return not isinstance(self.error, ProtocolError | PeerRefused) and not self.refused
