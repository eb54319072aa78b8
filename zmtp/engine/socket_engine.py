"""The I/O side of one socket on an asyncio loop: binds, connects, reconnects, inproc, linger.

Everything here runs in the loop's thread. The socket's front end (blocking, asyncio) calls in
through coroutines and shares the socket core with the engine under ``lock``; ``notify`` wakes
the front end's waiters whenever a pipe gained messages or room, or peers came and went.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from transports import get_transport, parse_endpoint
from transports.base import Listening, StreamTransport, TransportOptions
from zmtp.connection import ConnectionOptions
from zmtp.constants import Errno, Event, SocketOption, SocketType
from zmtp.engine import settings
from zmtp.engine.inproc import InprocEndpoints, InprocLink, InprocNames
from zmtp.engine.lending import ReadLending
from zmtp.engine.stream import StreamProtocol
from zmtp.engine.zap_client import ZapCall
from zmtp.errors import ZAP_UNSPECIFIED, ZapReplyError, ZMQError
from zmtp.mechanisms.base import Mechanism
from zmtp.pipe import Pipe
from zmtp.session import Session
from zmtp.sockets.base import SocketCore
from zmtp.zap import ZAP_ENDPOINT, ZapReply, ZapRequest

log = logging.getLogger(__name__)
_O = SocketOption


@dataclass(eq=False)
class _Connecter:
    """One ``connect()``: its pipe (kept across reconnects) and its retry task."""

    endpoint: str
    pipe: Pipe | None
    routing_id: bytes
    task: asyncio.Task[None] | None = None
    protocol: StreamProtocol | None = None


@dataclass(eq=False)
class _Binding:
    """One ``bind()``: its listener and the connections it accepted."""

    endpoint: str
    transport: StreamTransport
    listening: Listening
    protocols: set[StreamProtocol] = field(default_factory=set)
    listening_closed: bool = False


InprocRegistry = InprocNames["SocketEngine"]
"""The inproc names of one context: bound sockets, and connects waiting for a bind."""


class SocketEngine(InprocEndpoints):
    """Binds, connects and sessions of one socket, driven by an asyncio loop."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        core: SocketCore,
        lock: AbstractContextManager[object],
        notify: Callable[[], None],
        inproc: InprocRegistry,
    ) -> None:
        self.loop = loop
        self.core = core
        self.lock = lock
        self.notify = notify
        self.inproc = inproc
        self.last_endpoint = ""
        # Where monitor events go (Socket.monitor sets it), and which events are wanted.
        self.monitor: Callable[[int, int, str], None] | None = None
        self.monitor_events = 0
        self._bindings: dict[str, _Binding] = {}
        self._connecters: dict[str, _Connecter] = {}
        self._inproc_links: dict[str, list[InprocLink]] = {}
        self._inproc_bound: set[str] = set()
        self.closed = False
        # Connections lent to a thread blocked in recv() (see zmtp.engine.lending).
        self.lending = ReadLending(loop, lock, notify)

    # -- options as the lower layers want them ----------------------------------------------

    def _int(self, option: SocketOption) -> int:
        return settings.int_option(self.core, option)

    def _bytes(self, option: SocketOption) -> bytes:
        return settings.bytes_option(self.core, option)

    def connection_options(self, peer_address: bytes = b"") -> ConnectionOptions:
        """Build a ConnectionOptions from the socket's current option values."""
        return settings.connection_options(
            self.core, zap_bound=ZAP_ENDPOINT in self.inproc.bound, peer_address=peer_address
        )

    def mechanism(self) -> Mechanism:
        """Create the handshake machine of one connection, as the security options select."""
        return settings.mechanism(self.core)

    def ask_zap(self, protocol: StreamProtocol) -> Callable[[Session, ZapRequest], None]:
        """Return the callback a session of ``protocol`` uses to consult the ZAP handler."""

        def ask(session: Session, request: ZapRequest) -> None:
            def answered(reply: ZapReply | ZapReplyError) -> None:
                with self.lock:
                    session.zap_reply(reply, self.loop.time())
                protocol.flush()

            def send() -> None:
                handler = self.inproc.bound.get(ZAP_ENDPOINT)
                call = None if handler is None else ZapCall(self.loop, handler, request, answered)
                if call is None or not call.start():
                    answered(ZapReplyError("the ZAP handler went away", ZAP_UNSPECIFIED))

            # Not under this socket's lock: the call locks the handler's socket.
            self.loop.call_soon(send)

        return ask

    def transport_options(self) -> TransportOptions:
        """Build the options a transport needs."""
        return settings.transport_options(self.core)

    def emit(self, event: Event, value: int, endpoint: str) -> None:
        """Report a monitor event if someone listens for it."""
        if self.monitor is not None and self.monitor_events & event:
            self.monitor(event, value, endpoint)

    # -- bind / unbind ------------------------------------------------------------------------

    async def bind(self, endpoint: str) -> str:
        """Bind ``endpoint``; return the resolved endpoint (LAST_ENDPOINT)."""
        scheme, address = parse_endpoint(endpoint)
        if scheme == "inproc":
            return self._bind_inproc(endpoint)
        transport = get_transport(scheme)
        options = self.transport_options()
        transport.check_bind(address, options)
        binding: _Binding | None = None

        def factory() -> asyncio.Protocol:
            assert binding is not None
            return self._protocol(binding, transport)

        try:
            listening = await transport.listen(address, options, factory)
        except ZMQError as exc:
            self.emit(Event.BIND_FAILED, exc.errno or 0, endpoint)
            raise
        binding = _Binding(listening.endpoint, transport, listening)
        self.emit(Event.LISTENING, _listener_fd(listening), listening.endpoint)
        self._bindings[listening.endpoint] = binding
        self.last_endpoint = listening.endpoint
        return listening.endpoint

    def _protocol(self, binding: _Binding, transport: StreamTransport) -> StreamProtocol:
        def make_session(protocol: StreamProtocol) -> Session:
            assert protocol.transport is not None
            peer = transport.peer_address(protocol.transport)
            self.emit(Event.ACCEPTED, protocol.fd, binding.endpoint)
            return Session(
                self.core,
                self.connection_options(peer),
                on_change=self.notify,
                mechanism=self.mechanism(),
                on_monitor=lambda event, value: self.emit(event, value, binding.endpoint),
                on_zap=self.ask_zap(protocol),
                peer=f"{binding.endpoint} <- {peer.decode('ascii', 'replace')}",
            )

        def lost(protocol: StreamProtocol) -> None:
            binding.protocols.discard(protocol)
            self.emit(Event.DISCONNECTED, protocol.fd, binding.endpoint)

        protocol = StreamProtocol(self.loop, self.lock, make_session, lost, self.lending)
        binding.protocols.add(protocol)
        return protocol

    async def unbind(self, endpoint: str) -> None:
        """Stop listening on ``endpoint`` and drop what it accepted (ENOENT if not bound)."""
        scheme, _ = parse_endpoint(endpoint)
        if scheme == "inproc":
            self._unbind_inproc(endpoint)
            return
        binding = self._bindings.pop(endpoint, None)
        if binding is None:
            raise ZMQError(Errno.ENOENT, f"{endpoint} is not bound (use the LAST_ENDPOINT string)")
        self._close_binding(binding)

    def _close_binding(self, binding: _Binding) -> None:
        """Stop listening and close what the listener accepted (gracefully)."""
        self._close_listener(binding)
        for protocol in list(binding.protocols):
            protocol.close()

    def _close_listener(self, binding: _Binding) -> None:
        if binding.listening_closed:
            return
        binding.listening_closed = True
        fd = _listener_fd(binding.listening)
        binding.listening.server.close()
        binding.transport.unlisten(binding.listening)
        self.emit(Event.CLOSED, fd, binding.endpoint)

    async def stop_listening(self) -> None:
        """Free every bound address and inproc name now; connections linger on in close()."""
        for binding in self._bindings.values():
            self._close_listener(binding)
        for endpoint in list(self._inproc_bound):
            self._unbind_inproc(endpoint)

    # -- connect / disconnect -----------------------------------------------------------------

    async def connect(self, endpoint: str) -> None:
        """Connect to ``endpoint`` now and keep reconnecting as libzmq does."""
        scheme, address = parse_endpoint(endpoint)
        routing_id = self._bytes(_O.CONNECT_ROUTING_ID)
        if routing_id:
            self.core.options[_O.CONNECT_ROUTING_ID] = b""
        if scheme == "inproc":
            self._connect_inproc(endpoint, routing_id)
            return
        transport = get_transport(scheme)
        transport.check_connect(address, self.transport_options())
        if endpoint in self._connecters:
            return  # libzmq ignores a second connect to the same endpoint
        pipe: Pipe | None = None
        if self.core.socket_type is not SocketType.ROUTER and not self._int(_O.IMMEDIATE):
            # libzmq creates a connecting pipe at once: messages queue before the peer is
            # reached, and the pipe survives reconnects.
            pipe = self.core.new_pipe()
            with self.lock:
                self.core.attach(pipe)
            self.notify()
        connecter = _Connecter(endpoint, pipe, routing_id)
        self._connecters[endpoint] = connecter
        connecter.task = self.loop.create_task(self._keep_connected(connecter, transport, address))

    async def _keep_connected(
        self, connecter: _Connecter, transport: StreamTransport, address: str
    ) -> None:
        interval = self._int(_O.RECONNECT_IVL)
        while not self.closed:
            protocol = StreamProtocol(
                self.loop,
                self.lock,
                lambda protocol: self._connect_session(connecter, transport, protocol),
                lambda protocol: None,
                self.lending,
            )
            self.emit(Event.CONNECT_DELAYED, Errno.EINPROGRESS, connecter.endpoint)
            try:
                await transport.open(address, self.transport_options(), protocol.itself)
            except OSError as exc:
                log.debug("connect to %s failed: %s", connecter.endpoint, exc)
            else:
                self.emit(Event.CONNECTED, protocol.fd, connecter.endpoint)
                connecter.protocol = protocol
                # Shielded: cancelling this task (disconnect, close) must not cancel the
                # future that close() waits on while the transport flushes.
                await asyncio.shield(protocol.lost)
                connecter.protocol = None
                self.emit(Event.DISCONNECTED, protocol.fd, connecter.endpoint)
                session = protocol.session
                if session is not None and not session.may_reconnect:
                    log.info("not reconnecting to %s: %s", connecter.endpoint, session.error)
                    # libzmq terminates the pipe too: nothing may be routed to a peer that
                    # will never come back.
                    if connecter.pipe is not None:
                        with self.lock:
                            self.core.detach(connecter.pipe)
                        connecter.pipe = None
                        self.notify()
                    return
                if session is not None and session.handshake_complete:
                    interval = self._int(_O.RECONNECT_IVL)
            planned = settings.reconnect_delay(self.core, interval)
            if planned is None:
                return
            delay, interval = planned
            self.emit(Event.CONNECT_RETRIED, delay, connecter.endpoint)
            await asyncio.sleep(delay / 1000)

    def _connect_session(
        self, connecter: _Connecter, transport: StreamTransport, protocol: StreamProtocol
    ) -> Session:
        assert protocol.transport is not None
        peer = transport.peer_address(protocol.transport)
        return Session(
            self.core,
            self.connection_options(peer),
            pipe=connecter.pipe,
            routing_id=connecter.routing_id,
            on_change=self.notify,
            mechanism=self.mechanism(),
            on_monitor=lambda event, value: self.emit(event, value, connecter.endpoint),
            on_zap=self.ask_zap(protocol),
            peer=connecter.endpoint,
        )

    async def disconnect(self, endpoint: str) -> None:
        """Stop connecting to ``endpoint`` and close its connection (ENOENT if unknown)."""
        scheme, _ = parse_endpoint(endpoint)
        if scheme == "inproc":
            self._disconnect_inproc(endpoint)
            return
        connecter = self._connecters.pop(endpoint, None)
        if connecter is None:
            raise ZMQError(Errno.ENOENT, f"{endpoint} is not connected")
        self._stop_connecter(connecter)

    def _stop_connecter(self, connecter: _Connecter) -> None:
        if connecter.task is not None:
            connecter.task.cancel()
        if connecter.protocol is not None:
            connecter.protocol.close()
        if connecter.pipe is not None:
            with self.lock:
                self.core.detach(connecter.pipe)

    # -- inproc (bind/connect/unbind come from InprocEndpoints) -----------------------------

    def _inproc_scheduler(self) -> asyncio.AbstractEventLoop:
        return self.loop

    def _inproc_refused(self, endpoint: str, binder: SocketCore) -> None:
        log.info(
            "inproc %s: a %s socket cannot connect to a %s socket",
            endpoint,
            self.core.socket_type.name,
            binder.socket_type.name,
        )

    # -- closing ------------------------------------------------------------------------------

    def pending_output(self) -> bool:
        """Whether any connected peer still has queued messages to go out."""
        with self.lock:
            return any(pipe.outbound for pipe in self.core.pipes)

    async def close(self, linger_ms: int) -> None:
        """Wait up to LINGER for queued messages to leave, then close everything."""
        if self.closed:
            return
        deadline = None if linger_ms < 0 else self.loop.time() + linger_ms / 1000
        if linger_ms != 0:
            while self.pending_output() and (deadline is None or self.loop.time() < deadline):
                await asyncio.sleep(0.005)
        self.closed = True
        streams = [c.protocol for c in self._connecters.values() if c.protocol is not None]
        streams += [p for binding in self._bindings.values() for p in binding.protocols]
        for connecter in self._connecters.values():
            self._stop_connecter(connecter)
        self._connecters.clear()
        for binding in self._bindings.values():
            self._close_binding(binding)
        self._bindings.clear()
        # What reached a transport's buffer is still ours to deliver: wait (up to LINGER)
        # for the transports to flush and close before the I/O thread may be stopped.
        lost = [stream.lost for stream in streams if not stream.lost.done()]
        if lost and linger_ms != 0:
            remaining = None if deadline is None else max(0.0, deadline - self.loop.time())
            await asyncio.wait(lost, timeout=remaining)
        for stream in streams:
            if not stream.lost.done():
                stream.abort()
        for endpoint in list(self._inproc_bound):
            self._unbind_inproc(endpoint)
        for links in self._inproc_links.values():
            for link in links:
                link.close()
        self._inproc_links.clear()
        for waiting in self.inproc.pending.values():
            waiting[:] = [entry for entry in waiting if entry[0] is not self]
        with self.lock:
            self.lending.close()


def _listener_fd(listening: Listening) -> int:
    sockets = listening.server.sockets if isinstance(listening.server, asyncio.Server) else ()
    return sockets[0].fileno() if sockets else -1
