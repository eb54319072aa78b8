"""One ZMTP 3.x connection as a sans-IO state machine.

Feed it the bytes that arrive (:meth:`Connection.receive_data`), read what happened
(:meth:`Connection.next_event`), hand it messages (:meth:`Connection.send_message`), and write
out what it produces (:meth:`Connection.data_to_send`). Time is a parameter: ask
:meth:`Connection.get_timer` when to call :meth:`Connection.handle_timer` next. The connection
never touches a socket, a clock, a thread or an event loop, so the same object runs under the
blocking API, asyncio, Twisted, a fuzzer or a test that feeds it one byte at a time.

Phases: GREETING (staged 64-octet exchange), HANDSHAKE (the mechanism's commands), TRAFFIC
(messages and commands both ways), CLOSED. A peer that breaks the protocol does not make any
method raise: the connection closes and reports a :class:`~zmtp.events.ConnectionClosed` whose
``error`` is the precise :class:`~zmtp.errors.ProtocolError`, after every event decoded before the
fault. Methods raise only for misuse by the caller (:class:`~zmtp.errors.UsageError`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum

from zmtp.commands import (
    MAX_PING_CONTEXT,
    MAX_PING_TTL,
    Cancel,
    Error,
    Ping,
    Pong,
    Subscribe,
    parse_command,
    split_command,
)
from zmtp.constants import SocketType
from zmtp.errors import (
    ConfigurationError,
    ConnectionLost,
    HandshakeTimeout,
    HeartbeatTimeout,
    IncompatibleSocketType,
    InvalidMetadata,
    PeerRefused,
    UnexpectedCommand,
    UsageError,
    ZapReplyError,
    ZMTPError,
)
from zmtp.events import (
    AuthenticationRequested,
    CancelReceived,
    ConnectionClosed,
    Event,
    HandshakeComplete,
    MessagesReceived,
    SubscribeReceived,
)
from zmtp.frames import (
    Buffer,
    DecodedItem,
    FrameDecoder,
    Message,
    encode_command,
    encode_message,
    encode_messages,
)
from zmtp.greeting import Greeting, GreetingExchange
from zmtp.mechanisms.base import (
    INNER_COMMAND,
    INNER_MORE,
    Mechanism,
    TrafficCodec,
    ZapContext,
)
from zmtp.mechanisms.null import NullMechanism
from zmtp.metadata import Metadata
from zmtp.socket_types import SENDS_IDENTITY, is_valid_peer, socket_type_from_name
from zmtp.zap import ZapReply

_SUBSCRIPTION_PREFIXES = (b"\x00", b"\x01")
_TRAFFIC_COMMANDS = frozenset({b"PING", b"PONG", b"SUBSCRIBE", b"CANCEL", b"ERROR"})


class State(Enum):
    """The phases of a connection, in the order they happen."""

    IDLE = "idle"
    GREETING = "greeting"
    HANDSHAKE = "handshake"
    TRAFFIC = "traffic"
    CLOSED = "closed"


_TRAFFIC = State.TRAFFIC


@dataclass(frozen=True, slots=True)
class ConnectionOptions:
    """The per-connection settings, named after the libzmq options they mirror.

    Times are in seconds (libzmq's options are in milliseconds; the socket API converts).
    ``max_message_size`` is MAXMSGSIZE: a per-frame limit in bytes, negative for none.
    ``heartbeat_timeout`` of None means "same as the interval", as in libzmq.
    ``zap_domain`` set (even to ``b""``) means ZAP must be consulted for this connection: the
    driver sets it when a ZAP handler exists and the mechanism or domain calls for one.
    """

    socket_type: SocketType
    routing_id: bytes = b""
    resource: bytes = b""
    properties: Mapping[str, bytes] = field(default_factory=dict)
    max_message_size: int = -1
    handshake_interval: float = 30.0
    heartbeat_interval: float = 0.0
    heartbeat_ttl: float = 0.0
    heartbeat_timeout: float | None = None
    zap_domain: bytes | None = None
    peer_address: bytes = b""

    def __post_init__(self) -> None:
        if not isinstance(self.socket_type, SocketType):
            raise ConfigurationError(f"socket_type must be a SocketType, not {self.socket_type!r}")
        if len(self.routing_id) > 255:
            raise ConfigurationError("routing_id is at most 255 bytes (libzmq ROUTING_ID)")
        for name in self.properties:
            if not name.lower().startswith("x-"):
                raise ConfigurationError(
                    f"application property {name!r} must start with 'X-' (RFC 23 metadata)"
                )
        for name in ("handshake_interval", "heartbeat_interval", "heartbeat_ttl"):
            if getattr(self, name) < 0:
                raise ConfigurationError(f"{name} must not be negative")
        if self.heartbeat_timeout is not None and self.heartbeat_timeout < 0:
            raise ConfigurationError("heartbeat_timeout must not be negative (None: the interval)")
        if self.heartbeat_ttl * 10 > MAX_PING_TTL:
            raise ConfigurationError(
                "heartbeat_ttl is at most 6553.5 s (a 16-bit decisecond count)"
            )


class Connection:
    """A ZMTP 3.x connection to one peer, driven by its caller (see the module docstring)."""

    def __init__(self, options: ConnectionOptions, mechanism: Mechanism | None = None) -> None:
        self.options = options
        self.mechanism = mechanism if mechanism is not None else NullMechanism()
        self.state = State.IDLE
        self.peer_greeting: Greeting | None = None
        self.peer_metadata: Metadata | None = None
        self.peer_socket_type: SocketType | None = None
        self.error: ZMTPError | None = None

        self._greeting = GreetingExchange(
            Greeting(
                mechanism=self.mechanism.name,
                as_server=self.mechanism.as_server,
                padding=len(options.routing_id) + 1,
            )
        )
        self._decoder = FrameDecoder(options.max_message_size)
        self._events: deque[Event] = deque()
        self._out: list[Buffer] = []
        # What the caller sent before the handshake finished, encoded once the peer's
        # version is known (it decides the form of a subscription).
        self._backlog: list[Message | Subscribe | Cancel] = []
        self._peer_minor = 1
        self._zap_requested = False
        # PUB and XPUB must also understand the 0x01/0x00 message form of subscriptions.
        self._reads_subscriptions = options.socket_type in (SocketType.PUB, SocketType.XPUB)
        self._handshake_deadline: float | None = None
        self._next_ping: float | None = None
        self._heartbeat_deadline: float | None = None
        self._ttl_deadline: float | None = None
        # CURVE: how frames are boxed after the handshake, and a message being unboxed.
        self._codec: TrafficCodec | None = None
        self._inner_message: Message = []

    # -- driving the connection ------------------------------------------------------------

    def start(self, now: float) -> None:
        """Begin the greeting (its signature goes out at once) and arm the handshake timer."""
        if self.state is not State.IDLE:
            raise UsageError("start() may be called once, before anything else")
        self.state = State.GREETING
        self._out.append(self._greeting.start())
        if self.options.handshake_interval > 0:
            self._handshake_deadline = now + self.options.handshake_interval

    def receive_data(self, data: Buffer, now: float) -> None:
        """Feed bytes received from the peer; ``b""`` means the peer closed the stream."""
        messages = self.receive_messages(data, now)
        if messages:
            self._events.append(MessagesReceived(messages))

    def receive_messages(self, data: Buffer, now: float) -> list[Message]:
        """Feed bytes as :meth:`receive_data` does, returning plain messages instead of an event.

        When the bytes held nothing but whole messages (the usual case once in traffic) and no
        event was waiting to be read, the messages come back here and no event is queued: the
        per-message path skips building and dispatching a MessagesReceived. In every other case
        the result is empty and everything, messages included, is reported by :meth:`events`.
        """
        state = self.state
        if state is State.IDLE:
            raise UsageError("call start() before receive_data()")
        if state is State.CLOSED:
            return []
        if not data:
            phase = "" if state is _TRAFFIC else f" during the {state.value}"
            self._fail(ConnectionLost(f"peer closed the connection{phase}"))
            return []
        # RFC 37: any traffic from the peer proves it alive.
        self._heartbeat_deadline = None
        self._ttl_deadline = None
        if state is State.GREETING:
            data = self._receive_greeting(bytes(data), now)
            if not data or self.state is State.CLOSED:
                return []
        items: list[DecodedItem] = []
        commands_before = self._decoder.commands
        try:
            self._decoder.feed(data, items)
        except ZMTPError as exc:
            self._process(items, now)
            self._fail(exc)
            return []
        if (
            self.state is _TRAFFIC
            and self._decoder.commands == commands_before
            and not self._reads_subscriptions
            and self._codec is None
        ):
            if self._events:  # returned now, these would overtake what was reported before
                if items:
                    self._events.append(MessagesReceived(items))  # type: ignore[arg-type]
                return []
            return items  # type: ignore[return-value]  # the fast path: nothing but messages
        self._process(items, now)
        return []

    def handle_timer(self, now: float) -> None:
        """Run whatever timers are due at ``now`` (handshake deadline, heartbeats)."""
        if self.state is State.CLOSED or self.state is State.IDLE:
            return
        if self._handshake_deadline is not None and now >= self._handshake_deadline:
            self._fail(
                HandshakeTimeout(
                    f"handshake not finished within {self.options.handshake_interval} s "
                    f"(still in the {self.state.value})"
                )
            )
        elif self._heartbeat_deadline is not None and now >= self._heartbeat_deadline:
            self._fail(HeartbeatTimeout(f"no traffic for {self._heartbeat_timeout()} s after PING"))
        elif self._ttl_deadline is not None and now >= self._ttl_deadline:
            self._fail(HeartbeatTimeout("no traffic within the TTL of the peer's last PING"))
        elif self._next_ping is not None and now >= self._next_ping:
            ttl = int(self.options.heartbeat_ttl * 10)
            self._command_out(Ping(ttl).encode())
            self._next_ping = now + self.options.heartbeat_interval
            timeout = self._heartbeat_timeout()
            if self._heartbeat_deadline is None and timeout > 0:
                self._heartbeat_deadline = now + timeout

    def get_timer(self) -> float | None:
        """Return when :meth:`handle_timer` must next be called, or None if never."""
        soonest = None
        # Asked after every read: a plain loop, no list to build.
        for deadline in (
            self._handshake_deadline,
            self._heartbeat_deadline,
            self._ttl_deadline,
            self._next_ping,
        ):
            if deadline is not None and (soonest is None or deadline < soonest):
                soonest = deadline
        return soonest

    def receive_zap_reply(self, reply: ZapReply, now: float) -> None:
        """Give the mechanism the ZAP handler's answer to an AuthenticationRequested event."""
        if self.mechanism.zap_request is None or self.mechanism.zap_reply is not None:
            raise UsageError("no ZAP request is waiting for a reply on this connection")
        if self.state is State.CLOSED:
            return
        self.mechanism.receive_zap_reply(reply)
        self._advance_handshake(now)

    def receive_zap_error(self, error: ZapReplyError) -> None:
        """End the handshake: the ZAP handler's reply broke RFC 27 (libzmq: protocol error)."""
        if self.mechanism.zap_request is None or self.mechanism.zap_reply is not None:
            raise UsageError("no ZAP request is waiting for a reply on this connection")
        if self.state is not State.CLOSED:
            self._fail(error)

    def close(self) -> None:
        """Close locally: nothing more is sent or reported."""
        self.state = State.CLOSED
        self._backlog.clear()
        self._clear_timers()

    # -- what the caller sends ---------------------------------------------------------------

    def send_message(self, frames: Sequence[Buffer]) -> None:
        """Queue a multipart message; before the handshake ends it waits in a backlog.

        libzmq drops a connection that sends data before its own READY has gone out, so
        nothing is written before the peer's READY has arrived.
        """
        if self.state is _TRAFFIC and frames:
            if self._codec is None:
                encode_message(frames, self._out)
            else:
                self._message_out(frames)
        elif self.state is State.CLOSED:
            raise UsageError("send_message() on a closed connection")
        elif not frames:
            raise UsageError("a message has at least one frame")
        else:
            self._backlog.append(list(frames))  # type: ignore[arg-type]

    def send_messages(self, messages: list[Message]) -> None:
        """Queue many messages at once: :meth:`send_message` without the per-call cost."""
        if self.state is _TRAFFIC and self._codec is None:
            encode_messages(messages, self._out)
            return
        for frames in messages:
            self.send_message(frames)

    def subscribe(self, topic: bytes) -> None:
        """Send a subscription: a SUBSCRIBE command to ZMTP 3.1 peers, ``0x01``+topic to 3.0."""
        self._send_subscription(Subscribe(topic))

    def cancel(self, topic: bytes) -> None:
        """Cancel a subscription: CANCEL to ZMTP 3.1 peers, ``0x00``+topic to 3.0 peers."""
        self._send_subscription(Cancel(topic))

    # -- what the caller reads ---------------------------------------------------------------

    def next_event(self) -> Event | None:
        """Return the oldest unread event, or None."""
        return self._events.popleft() if self._events else None

    def events(self) -> list[Event]:
        """Return every unread event, oldest first."""
        events = list(self._events)
        self._events.clear()
        return events

    def data_to_send(self) -> bytes:
        """Return (and forget) the bytes to write to the peer, joined into one buffer."""
        if not self._out:
            return b""
        data = b"".join(self._out)
        self._out = []
        return data

    def buffers_to_send(self) -> list[Buffer]:
        """Return (and forget) the bytes to write as a list of buffers, without joining them.

        Message bodies appear here as the caller passed them, so large payloads reach
        ``socket.sendmsg`` without a copy.
        """
        out = self._out
        self._out = []
        return out

    @property
    def has_output(self) -> bool:
        """Whether bytes wait to be taken by :meth:`buffers_to_send`."""
        return bool(self._out)

    @property
    def body_missing(self) -> int:
        """Bytes of a partly received frame body still to come: a hint for the next read."""
        return self._decoder.body_missing

    @property
    def handshake_complete(self) -> bool:
        """Whether the connection has reached the TRAFFIC phase (and may have left it)."""
        return self.peer_metadata is not None

    # -- internals ---------------------------------------------------------------------------

    def _receive_greeting(self, data: bytes, now: float) -> bytes:
        try:
            to_send, rest = self._greeting.receive(data)
        except ZMTPError as exc:
            self._fail(exc)
            return b""
        if to_send:
            self._out.append(to_send)
        peer = self._greeting.peer
        if peer is None:
            return b""
        self.peer_greeting = peer
        # A peer announcing a version above 3.1 is talked to as 3.1 (RFC 23 version rules).
        self._peer_minor = peer.minor if peer.major == 3 else 1
        self.state = State.HANDSHAKE
        zap = None
        if self.options.zap_domain is not None:
            zap = ZapContext(
                self.options.zap_domain, self.options.peer_address, self.options.routing_id
            )
        try:
            self.mechanism.start(self._local_metadata(), zap)
        except ZMTPError as exc:
            self._fail(exc)
            return b""
        self._advance_handshake(now)
        return rest

    def _local_metadata(self) -> Metadata:
        options = self.options
        items = [("Socket-Type", options.socket_type.name.encode("ascii"))]
        if options.socket_type in SENDS_IDENTITY:
            items.append(("Identity", options.routing_id))
        if options.resource:
            items.append(("Resource", options.resource))
        items.extend(options.properties.items())
        return Metadata(items)

    def _process(self, items: list[DecodedItem], now: float) -> None:
        """Handle decoded items in order; consecutive messages share one MessagesReceived."""
        batch: list[Message] | None = None
        for decoded in items:
            if self.state is State.CLOSED:
                return
            self._ttl_deadline = None
            item: DecodedItem | None = decoded
            if self._codec is not None:
                try:
                    item = self._unwrap(decoded)
                except ZMTPError as exc:
                    self._fail(exc)
                    return
                if item is None:
                    continue
            if type(item) is list:
                if self.state is not _TRAFFIC:
                    self._fail(
                        UnexpectedCommand(
                            "peer sent a message before the handshake finished",
                            rule="RFC 23: traffic follows the security handshake",
                        )
                    )
                    return
                if (
                    self._reads_subscriptions
                    and len(item) == 1
                    and item[0][:1] in _SUBSCRIPTION_PREFIXES
                ):
                    batch = None
                    topic = item[0][1:]
                    self._events.append(
                        SubscribeReceived(topic) if item[0][0] else CancelReceived(topic)
                    )
                    continue
                if batch is None:
                    batch = []
                    self._events.append(MessagesReceived(batch))
                batch.append(item)
            else:
                batch = None
                try:
                    self._receive_command(item, now)  # type: ignore[arg-type]
                except ZMTPError as exc:
                    self._fail(exc)
                    return

    def _receive_command(self, body: bytes, now: float) -> None:
        if self.state is not _TRAFFIC:
            self.mechanism.receive_command(body)
            self._advance_handshake(now)
            return
        name = split_command(body)[0]
        if name not in _TRAFFIC_COMMANDS:
            # READY and unknown commands after the handshake are ignored, as libzmq ignores
            # them, without parsing them: a malformed one must not end the connection.
            return
        command = parse_command(body)
        if isinstance(command, Ping):
            # RFC 37: answer every PING, echoing its context; libzmq echoes at most 16 octets.
            self._command_out(Pong(command.context[:MAX_PING_CONTEXT]).encode())
            if command.ttl:
                self._ttl_deadline = now + command.ttl / 10
        elif isinstance(command, Subscribe):
            self._events.append(SubscribeReceived(command.topic))
        elif isinstance(command, Cancel):
            self._events.append(CancelReceived(command.topic))
        elif isinstance(command, Error):
            raise PeerRefused(command.reason)
        # PONG only proves liveness.

    def _advance_handshake(self, now: float) -> None:
        mechanism = self.mechanism
        for body in mechanism.commands_to_send:
            self._out.append(encode_command(body))
        mechanism.commands_to_send.clear()
        if mechanism.failure is not None:
            self._fail(mechanism.failure)
            return
        if mechanism.zap_request is not None and mechanism.zap_reply is None:
            if not self._zap_requested:
                self._zap_requested = True
                self._events.append(AuthenticationRequested(mechanism.zap_request))
            return
        if mechanism.complete and self.state is State.HANDSHAKE:
            try:
                self._complete_handshake(now)
            except ZMTPError as exc:
                self._fail(exc)

    def _complete_handshake(self, now: float) -> None:
        mechanism = self.mechanism
        metadata = mechanism.peer_metadata
        assert metadata is not None and self.peer_greeting is not None
        ours = self.options.socket_type
        peer_type: SocketType | None = None
        raw_type = metadata.get("Socket-Type")
        if raw_type is not None:
            peer_type = socket_type_from_name(raw_type)
            if peer_type is None or not is_valid_peer(ours, peer_type):
                # RFC 37 asks for an ERROR before closing; libzmq closes silently, and an
                # ERROR is harmless to it, so the peer gets the reason when it can read it.
                self._out.append(encode_command(Error(b"Invalid socket type").encode()))
                raise IncompatibleSocketType(
                    f"a {ours.name} socket cannot talk to a peer of type "
                    f"{raw_type.decode('ascii', 'backslashreplace')!r}",
                    rule="RFC 37: socket type compatibility",
                )
        routing_id = metadata.get("Identity", b"")
        if len(routing_id) > 255:
            raise InvalidMetadata("peer Identity is longer than 255 bytes", rule="RFC 23")
        user_id = b""
        if mechanism.zap_reply is not None:
            user_id = mechanism.zap_reply.user_id
            metadata = Metadata(
                [*metadata.items(), *mechanism.zap_reply.metadata.items(), ("User-Id", user_id)]
            )
        self.peer_metadata = metadata
        self.peer_socket_type = peer_type
        self.state = _TRAFFIC
        self._codec = mechanism.traffic()
        self._handshake_deadline = None
        if self.options.heartbeat_interval > 0 and self._peer_minor >= 1:
            # ZMTP 3.0 peers have no PING; libzmq pings them anyway, we do not.
            self._next_ping = now + self.options.heartbeat_interval
        self._events.append(
            HandshakeComplete(
                peer_socket_type=peer_type,
                metadata=metadata,
                peer_version=(self.peer_greeting.major, self.peer_greeting.minor),
                mechanism=mechanism.name,
                routing_id=routing_id,
                user_id=user_id,
            )
        )
        backlog, self._backlog = self._backlog, []
        for entry in backlog:
            if isinstance(entry, list):
                self._message_out(entry)
            else:
                self._send_subscription(entry)

    def _send_subscription(self, command: Subscribe | Cancel) -> None:
        if self.state is State.CLOSED:
            raise UsageError("subscription change on a closed connection")
        if self.state is not _TRAFFIC:
            self._backlog.append(command)
        elif self._peer_minor >= 1:
            self._command_out(command.encode())
        else:
            prefix = b"\x01" if isinstance(command, Subscribe) else b"\x00"
            self._message_out([prefix + command.topic])

    def _message_out(self, frames: Sequence[Buffer]) -> None:
        """Queue a message for the peer: as it is, or one MESSAGE box per frame (CURVE)."""
        codec = self._codec
        if codec is None:
            encode_message(frames, self._out)
            return
        last = len(frames) - 1
        for index, frame in enumerate(frames):
            flags = INNER_MORE if index < last else 0
            encode_message([codec.wrap(flags, bytes(frame))], self._out)

    def _command_out(self, body: bytes) -> None:
        """Queue a traffic command (PING, PONG, SUBSCRIBE...), boxed when CURVE is in use."""
        codec = self._codec
        if codec is None:
            self._out.append(encode_command(body))
        else:
            # libzmq sends a MESSAGE with no outer flag even for a command (ZMTP-NOTES 2.3.6).
            encode_message([codec.wrap(INNER_COMMAND, body)], self._out)

    def _unwrap(self, item: DecodedItem) -> DecodedItem | None:
        """Open one MESSAGE box; return a command body, a whole message, or None (more due)."""
        assert self._codec is not None
        if type(item) is list:
            if len(item) != 1:
                raise UnexpectedCommand(
                    "peer sent a multipart frame outside the MESSAGE boxes of CURVE",
                    rule="RFC 26: every frame is one MESSAGE",
                )
            body = item[0]
        else:
            body = item  # type: ignore[assignment]
        flags, frame = self._codec.unwrap(body)
        if flags & INNER_COMMAND:
            return frame
        self._inner_message.append(frame)
        if flags & INNER_MORE:
            return None
        message, self._inner_message = self._inner_message, []
        return message

    def _heartbeat_timeout(self) -> float:
        timeout = self.options.heartbeat_timeout
        return self.options.heartbeat_interval if timeout is None else timeout

    def _clear_timers(self) -> None:
        self._handshake_deadline = None
        self._next_ping = None
        self._heartbeat_deadline = None
        self._ttl_deadline = None

    def _fail(self, error: ZMTPError) -> None:
        if self.state is State.CLOSED:
            return
        self.state = State.CLOSED
        self.error = error
        self._backlog.clear()
        self._clear_timers()
        self._events.append(ConnectionClosed(error))
