"""The I/O side of one socket on a Twisted reactor: binds, connects, reconnects, inproc, linger.

The sibling of :class:`zmtp.engine.socket_engine.SocketEngine`, built on the reactor instead of
an asyncio loop: listeners and connectors are the reactor's, timers are ``callLater`` calls,
and each connection is a :class:`~zmtp.twisted._stream.SessionProtocol`. Sessions, pipes, the
socket core, the mechanisms and the inproc links are the shared ones. Everything runs in the
reactor's thread, so no locks are taken (inproc links get a null lock).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from twisted.internet.defer import Deferred, DeferredList, succeed
from twisted.internet.error import NotConnectingError
from twisted.internet.protocol import ClientFactory, Protocol, ServerFactory
from twisted.logger import Logger
from twisted.python.failure import Failure

from transports import parse_endpoint
from zmtp.constants import Errno, Event, SocketOption, SocketType
from zmtp.engine import settings
from zmtp.engine.inproc import InprocEndpoints, InprocLink, InprocNames
from zmtp.engine.zap_client import ZapCall
from zmtp.errors import ZAP_UNSPECIFIED, ZapReplyError, ZMQError
from zmtp.pipe import Pipe
from zmtp.session import Session
from zmtp.sockets.base import SocketCore
from zmtp.twisted import _addresses
from zmtp.twisted._stream import SessionProtocol
from zmtp.twisted._types import Connector, DelayedCall, Reactor
from zmtp.zap import ZAP_ENDPOINT, ZapRequest

_O = SocketOption
_log = Logger()
# How often close() looks whether queued messages have left, while LINGER lasts.
_LINGER_POLL = 0.005


class ReactorScheduler:
    """Give an inproc link the two asyncio loop methods it uses, on a reactor."""

    def __init__(self, reactor: Reactor) -> None:
        self._reactor = reactor

    def call_soon(self, callback: Callable[[], object], /) -> object:
        """Run ``callback`` on the next reactor turn."""
        return self._reactor.callLater(0, callback)

    def call_soon_threadsafe(self, callback: Callable[[], object], /) -> object:
        """Run ``callback`` in the reactor thread (Twisted's callFromThread)."""
        return self._reactor.callFromThread(callback)


FactoryInproc = InprocNames["SocketDriver"]
"""The inproc names of one ZmqFactory: bound sockets, and connects waiting for a bind."""


@dataclass(eq=False)
class _Connecter:
    """One ``connect()``: its pipe (kept across reconnects), its attempt and its retry."""

    endpoint: str
    scheme: str
    address: str
    pipe: Pipe | None
    routing_id: bytes
    interval: int
    protocol: SessionProtocol | None = None
    connector: Connector | None = None
    retry: DelayedCall | None = None
    stopped: bool = False


@dataclass(eq=False)
class _Binding:
    """One ``bind()``: its listener and the connections it accepted."""

    endpoint: str
    scheme: str
    listener: _addresses.Listener | None = None
    protocols: set[SessionProtocol] = field(default_factory=set)
    closed: bool = False


class _AcceptFactory(ServerFactory):
    def __init__(self, build: Callable[[], SessionProtocol]) -> None:
        self._build = build

    def buildProtocol(self, addr: object) -> Protocol:
        return self._build()


class _AttemptFactory(ClientFactory):
    """One connection attempt: the protocol to use, and what to do if it fails."""

    def __init__(self, protocol: SessionProtocol, failed: Callable[[Failure], None]) -> None:
        self._protocol = protocol
        self._failed = failed

    def buildProtocol(self, addr: object) -> Protocol:
        return self._protocol

    def clientConnectionFailed(self, connector: Connector, reason: Failure) -> None:
        self._failed(reason)


class SocketDriver(InprocEndpoints):
    """Binds, connects and sessions of one socket, driven by a reactor."""

    # Everything runs in the reactor's thread: nothing to lock.
    lock: AbstractContextManager[object] = contextlib.nullcontext()
    _inproc_scope = "factory"

    def __init__(
        self, reactor: Reactor, core: SocketCore, notify: Callable[[], None], inproc: FactoryInproc
    ) -> None:
        self.reactor = reactor
        self.core = core
        self.notify = notify
        self.inproc = inproc
        self.last_endpoint = ""
        self.monitor: Callable[[Event, int, str], None] | None = None
        self.monitor_events = 0
        self.closed = False
        self._scheduler = ReactorScheduler(reactor)
        self._bindings: dict[str, _Binding] = {}
        self._connecters: dict[str, _Connecter] = {}
        self._inproc_links: dict[str, list[InprocLink]] = {}
        self._inproc_bound: set[str] = set()

    def emit(self, event: Event, value: int, endpoint: str) -> None:
        """Report a monitor event if someone listens for it."""
        if self.monitor is not None and self.monitor_events & event:
            self.monitor(event, value, endpoint)

    def _session(
        self,
        protocol: SessionProtocol,
        scheme: str,
        endpoint: str,
        *,
        pipe: Pipe | None = None,
        routing_id: bytes = b"",
        accepted: bool = True,
    ) -> Session:
        """Make the session of a new stream, as the asyncio engine makes it."""
        transport = protocol.transport
        assert transport is not None
        _addresses.tune(scheme, transport, settings.transport_options(self.core))
        peer = _addresses.peer_address(scheme, transport)
        return Session(
            self.core,
            settings.connection_options(
                self.core, zap_bound=ZAP_ENDPOINT in self.inproc.bound, peer_address=peer
            ),
            pipe=pipe,
            routing_id=routing_id,
            on_change=self.notify,
            mechanism=settings.mechanism(self.core),
            on_monitor=lambda event, value: self.emit(event, value, endpoint),
            on_zap=self._ask_zap(protocol),
            peer=f"{endpoint} <- {peer.decode('ascii', 'replace')}" if accepted else endpoint,
        )

    def _ask_zap(self, protocol: SessionProtocol) -> Callable[[Session, ZapRequest], None]:
        """Return how a session of ``protocol`` consults the factory's ZAP handler (RFC 27).

        The request goes over a private inproc link to the connection bound at
        ``inproc://zeromq.zap.01`` in the same factory, exactly as the asyncio engine sends it.
        """

        def ask(session: Session, request: ZapRequest) -> None:
            def send() -> None:
                handler = self.inproc.bound.get(ZAP_ENDPOINT)
                call = None
                if handler is not None:
                    call = ZapCall(self._scheduler, handler, request, protocol.zap_reply)
                if call is None or not call.start():
                    missing = ZapReplyError("the ZAP handler went away", ZAP_UNSPECIFIED)
                    protocol.zap_reply(missing)

            self.reactor.callLater(0, send)

        return ask

    # -- bind / unbind ------------------------------------------------------------------------

    def bind(self, endpoint: str) -> str:
        """Bind ``endpoint`` now; return the resolved endpoint (LAST_ENDPOINT)."""
        self._check_open()
        scheme, address = parse_endpoint(endpoint)
        if scheme == "inproc":
            return self._bind_inproc(endpoint)
        binding = _Binding(endpoint, scheme)

        def build() -> SessionProtocol:
            return self._accepted(binding)

        try:
            listener = _addresses.listen(
                self.reactor,
                scheme,
                address,
                settings.transport_options(self.core),
                _AcceptFactory(build),
            )
        except ZMQError as exc:
            self.emit(Event.BIND_FAILED, exc.errno or 0, endpoint)
            raise
        binding.listener = listener
        binding.endpoint = listener.endpoint
        self.emit(Event.LISTENING, _fileno(listener.port), listener.endpoint)
        self._bindings[listener.endpoint] = binding
        self.last_endpoint = listener.endpoint
        return listener.endpoint

    def _accepted(self, binding: _Binding) -> SessionProtocol:
        def make_session(protocol: SessionProtocol) -> Session:
            self.emit(Event.ACCEPTED, protocol.fd, binding.endpoint)
            return self._session(protocol, binding.scheme, binding.endpoint)

        def lost(protocol: SessionProtocol) -> None:
            binding.protocols.discard(protocol)
            self.emit(Event.DISCONNECTED, protocol.fd, binding.endpoint)

        protocol = SessionProtocol(self.reactor, make_session, lost)
        binding.protocols.add(protocol)
        return protocol

    def unbind(self, endpoint: str) -> Deferred[None]:
        """Stop listening on ``endpoint`` and drop what it accepted (ENOENT if not bound).

        The reactor releases a listening socket on its next turn: the Deferred fires once
        the address (and an ipc socket file) is free.
        """
        self._check_open()
        scheme, _ = parse_endpoint(endpoint)
        if scheme == "inproc":
            self._unbind_inproc(endpoint)
            return succeed(None)
        binding = self._bindings.pop(endpoint, None)
        if binding is None:
            raise ZMQError(Errno.ENOENT, f"{endpoint} is not bound (use the LAST_ENDPOINT string)")
        released = self._close_listener(binding)
        for protocol in list(binding.protocols):
            protocol.close()
        return released

    def _close_listener(self, binding: _Binding) -> Deferred[None]:
        listener = binding.listener
        if binding.closed or listener is None:
            return succeed(None)
        binding.closed = True
        fd = _fileno(listener.port)
        released = listener.port.stopListening()
        self.emit(Event.CLOSED, fd, binding.endpoint)
        return released if isinstance(released, Deferred) else succeed(None)

    # -- connect / disconnect -----------------------------------------------------------------

    def connect(self, endpoint: str) -> None:
        """Connect to ``endpoint`` now and keep reconnecting as libzmq does."""
        self._check_open()
        scheme, address = parse_endpoint(endpoint)
        routing_id = settings.bytes_option(self.core, _O.CONNECT_ROUTING_ID)
        if routing_id:
            self.core.options[_O.CONNECT_ROUTING_ID] = b""
        if scheme == "inproc":
            self._connect_inproc(endpoint, routing_id)
            return
        _addresses.check_connect(scheme, address, settings.transport_options(self.core))
        if endpoint in self._connecters:
            return  # libzmq ignores a second connect to the same endpoint
        pipe: Pipe | None = None
        immediate = settings.int_option(self.core, _O.IMMEDIATE)
        if self.core.socket_type is not SocketType.ROUTER and not immediate:
            # As libzmq: the connecting pipe exists at once, so messages queue before the
            # peer is reached, and it survives reconnects.
            pipe = self.core.new_pipe()
            self.core.attach(pipe)
            self.notify()
        interval = settings.int_option(self.core, _O.RECONNECT_IVL)
        connecter = _Connecter(endpoint, scheme, address, pipe, routing_id, interval)
        self._connecters[endpoint] = connecter
        self._attempt(connecter)

    def _attempt(self, connecter: _Connecter) -> None:
        connecter.retry = None
        if connecter.stopped or self.closed:
            return

        def make_session(protocol: SessionProtocol) -> Session:
            self.emit(Event.CONNECTED, protocol.fd, connecter.endpoint)
            connecter.protocol = protocol
            return self._session(
                protocol,
                connecter.scheme,
                connecter.endpoint,
                pipe=connecter.pipe,
                routing_id=connecter.routing_id,
                accepted=False,
            )

        protocol = SessionProtocol(
            self.reactor, make_session, lambda protocol: self._connection_lost(connecter, protocol)
        )
        self.emit(Event.CONNECT_DELAYED, Errno.EINPROGRESS, connecter.endpoint)
        factory = _AttemptFactory(protocol, lambda reason: self._attempt_failed(connecter, reason))
        try:
            connecter.connector = _addresses.connect(
                self.reactor,
                connecter.scheme,
                connecter.address,
                settings.transport_options(self.core),
                factory,
            )
        except ZMQError as exc:
            self._attempt_failed(connecter, Failure(exc))  # type: ignore[no-untyped-call]

    def _attempt_failed(self, connecter: _Connecter, reason: Failure) -> None:
        connecter.connector = None
        _log.debug(
            "connect to {endpoint} failed: {reason}",
            endpoint=connecter.endpoint,
            reason=reason.getErrorMessage(),
        )
        self._schedule_retry(connecter)

    def _connection_lost(self, connecter: _Connecter, protocol: SessionProtocol) -> None:
        connecter.connector = None
        if connecter.protocol is protocol:
            connecter.protocol = None
        if connecter.stopped or self.closed:
            return
        self.emit(Event.DISCONNECTED, protocol.fd, connecter.endpoint)
        session = protocol.session
        if session is not None and not session.may_reconnect:
            _log.info(
                "not reconnecting to {endpoint}: {error}",
                endpoint=connecter.endpoint,
                error=session.error,
            )
            # As libzmq: nothing may be routed to a peer that will never come back.
            if connecter.pipe is not None:
                self.core.detach(connecter.pipe)
                connecter.pipe = None
                self.notify()
            return
        if session is not None and session.handshake_complete:
            connecter.interval = settings.int_option(self.core, _O.RECONNECT_IVL)
        self._schedule_retry(connecter)

    def _schedule_retry(self, connecter: _Connecter) -> None:
        """Retry after RECONNECT_IVL (doubling up to RECONNECT_IVL_MAX), as the engine does."""
        if connecter.stopped or self.closed:
            return
        planned = settings.reconnect_delay(self.core, connecter.interval)
        if planned is None:
            return
        delay, connecter.interval = planned
        self.emit(Event.CONNECT_RETRIED, delay, connecter.endpoint)
        connecter.retry = self.reactor.callLater(delay / 1000, self._attempt, connecter)

    def disconnect(self, endpoint: str) -> None:
        """Stop connecting to ``endpoint`` and close its connection (ENOENT if unknown)."""
        self._check_open()
        scheme, _ = parse_endpoint(endpoint)
        if scheme == "inproc":
            self._disconnect_inproc(endpoint)
            return
        connecter = self._connecters.pop(endpoint, None)
        if connecter is None:
            raise ZMQError(Errno.ENOENT, f"{endpoint} is not connected")
        self._stop_connecter(connecter)

    def _stop_connecter(self, connecter: _Connecter) -> None:
        connecter.stopped = True
        if connecter.retry is not None and connecter.retry.active():
            connecter.retry.cancel()
        connecter.retry = None
        if connecter.connector is not None:
            with contextlib.suppress(NotConnectingError):
                connecter.connector.stopConnecting()
        if connecter.protocol is not None:
            connecter.protocol.close()
        if connecter.pipe is not None:
            self.core.detach(connecter.pipe)

    # -- inproc -------------------------------------------------------------------------------

    def _inproc_scheduler(self) -> ReactorScheduler:
        return self._scheduler

    def _inproc_refused(self, endpoint: str, binder: SocketCore) -> None:
        _log.info(
            "inproc {endpoint}: a {ours} socket cannot connect to a {theirs} socket",
            endpoint=endpoint,
            ours=self.core.socket_type.name,
            theirs=binder.socket_type.name,
        )

    # -- closing ------------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self.closed:
            raise ZMQError(Errno.ENOTSOCK, "this connection has been shut down")

    def pending_output(self) -> bool:
        """Whether any peer still has queued messages to go out."""
        return any(pipe.outbound for pipe in self.core.pipes)

    def close(self, linger_ms: int) -> Deferred[None]:
        """Wait up to LINGER for queued messages to leave, then close everything.

        Inproc peers get what was queued for them moved over first; streams close
        gracefully (their buffered bytes are written) within what remains of LINGER, and
        are aborted after it.
        """
        if self.closed:
            return succeed(None)
        done: Deferred[None] = Deferred()
        deadline = None if linger_ms < 0 else self.reactor.seconds() + linger_ms / 1000

        def remaining() -> float | None:
            return None if deadline is None else max(0.0, deadline - self.reactor.seconds())

        def wait_for_pipes() -> None:
            left = remaining()
            if linger_ms != 0 and self.pending_output() and (left is None or left > 0):
                self.reactor.callLater(_LINGER_POLL, wait_for_pipes)
                return
            self._close_now(remaining(), linger_ms).chainDeferred(done)

        wait_for_pipes()
        return done

    def _close_now(self, left: float | None, linger_ms: int) -> Deferred[None]:
        self.closed = True
        streams = [c.protocol for c in self._connecters.values() if c.protocol is not None]
        streams += [p for binding in self._bindings.values() for p in binding.protocols]
        for connecter in self._connecters.values():
            self._stop_connecter(connecter)
        self._connecters.clear()
        for binding in self._bindings.values():
            self._close_listener(binding)
            for protocol in list(binding.protocols):
                protocol.close()
        self._bindings.clear()
        for endpoint in list(self._inproc_bound):
            self._unbind_inproc(endpoint)
        for links in self._inproc_links.values():
            for link in links:
                link.close()
        self._inproc_links.clear()
        for waiting in self.inproc.pending.values():
            waiting[:] = [entry for entry in waiting if entry[0] is not self]
        open_streams = [stream for stream in streams if not stream.finished]
        if not open_streams:
            return succeed(None)
        if linger_ms == 0:
            for stream in open_streams:
                stream.abort()
            return succeed(None)
        flushed: Deferred[None] = Deferred()
        gone = DeferredList([stream.lost for stream in open_streams])
        timer = None if left is None else self.reactor.callLater(left, _abort, open_streams)

        def finished(_: object) -> None:
            if timer is not None and timer.active():
                timer.cancel()
            flushed.callback(None)

        gone.addCallback(finished)
        return flushed


def _abort(streams: list[SessionProtocol]) -> None:
    for stream in streams:
        if not stream.finished:
            stream.abort()


def _fileno(thing: object) -> int:
    """Return the descriptor of a port or transport for monitor events, -1 if none."""
    fileno = getattr(thing, "fileno", None)
    if fileno is None:
        return -1
    try:
        value = fileno()
    except (OSError, ValueError):
        return -1
    return value if isinstance(value, int) else -1
