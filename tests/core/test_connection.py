"""The Connection state machine, one rule per test.

Two connections are joined in memory by :func:`shuttle`; precise cases feed hand-crafted peer
bytes to a single connection. Time is only ever the ``now`` argument.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from core_support import shuttle

from zmtp.commands import (
    Cancel,
    Error,
    Ping,
    Pong,
    Ready,
    Subscribe,
    UnknownCommand,
    parse_command,
)
from zmtp.connection import Connection, ConnectionOptions, State
from zmtp.constants import SocketType
from zmtp.errors import (
    AuthenticationFailed,
    ConfigurationError,
    ConnectionLost,
    HandshakeTimeout,
    HeartbeatTimeout,
    IncompatibleSocketType,
    InvalidMetadata,
    MalformedFrame,
    MechanismMismatch,
    MessageTooLarge,
    PeerRefused,
    UnexpectedCommand,
    UnsupportedVersion,
    UsageError,
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
from zmtp.frames import DecodedItem, FrameDecoder, encode_command, encode_message
from zmtp.greeting import Greeting
from zmtp.metadata import Metadata
from zmtp.socket_types import VALID_PEERS
from zmtp.zap import ZapReply, ZapRequest

T = SocketType

# -- helpers -------------------------------------------------------------------------------

ZMTP_TYPES = sorted(VALID_PEERS)
VALID_PAIRS = [(ours, theirs) for ours in ZMTP_TYPES for theirs in sorted(VALID_PEERS[ours])]
INVALID_PAIRS = [
    (ours, theirs)
    for ours in ZMTP_TYPES
    for theirs in ZMTP_TYPES
    if theirs not in VALID_PEERS[ours]
]
# Written out rather than imported: the rule under test (libzmq sends Identity from these only).
SENDS_IDENTITY = {T.REQ, T.DEALER, T.ROUTER}
# A compatible peer for every type, to hand-craft a peer READY.
PEER_OF = {ours: min(VALID_PEERS[ours]) for ours in ZMTP_TYPES}


def pair_id(pair: tuple[SocketType, SocketType]) -> str:
    return f"{pair[0].name}-{pair[1].name}"


def new(socket_type: SocketType = T.PAIR, **options: object) -> Connection:
    return Connection(ConnectionOptions(socket_type=socket_type, **options))  # type: ignore[arg-type]


def started(socket_type: SocketType = T.PAIR, now: float = 0.0, **options: object) -> Connection:
    conn = new(socket_type, **options)
    conn.start(now)
    return conn


def greeting(major: int = 3, minor: int = 1, mechanism: bytes = b"NULL") -> bytes:
    return Greeting(major=major, minor=minor, mechanism=mechanism).encode()


def command(cmd: Ready | Error | Ping | Pong | Subscribe | Cancel | UnknownCommand) -> bytes:
    return encode_command(cmd.encode())


def ready(properties: dict[str, bytes] | None = None) -> bytes:
    return command(Ready(Metadata(properties or {})))


def message(*frames: bytes) -> bytes:
    out: list[bytes | bytearray | memoryview] = []
    encode_message(frames, out)
    return b"".join(bytes(part) for part in out)


def decode(data: bytes) -> list[DecodedItem]:
    """Decode frames (messages as lists, commands as bodies) from bytes after a greeting."""
    items: list[DecodedItem] = []
    FrameDecoder().feed(data, items)
    return items


def written_commands(data: bytes) -> list[object]:
    return [parse_command(item) for item in decode(data) if isinstance(item, bytes)]


def handshaken(
    socket_type: SocketType = T.PAIR,
    *,
    peer_type: bytes | None = None,
    minor: int = 1,
    now: float = 0.0,
    **options: object,
) -> Connection:
    """A connection whose hand-crafted peer has completed the greeting and NULL handshake."""
    conn = started(socket_type, now, **options)
    name = peer_type if peer_type is not None else PEER_OF[socket_type].name.encode()
    conn.receive_data(greeting(minor=minor) + ready({"Socket-Type": name}), now)
    events = conn.events()
    assert len(events) == 1
    assert isinstance(events[0], HandshakeComplete)
    conn.data_to_send()
    return conn


def connect(
    type_a: SocketType,
    type_b: SocketType,
    now: float = 0.0,
    a_options: dict[str, object] | None = None,
    b_options: dict[str, object] | None = None,
) -> tuple[Connection, Connection, bytes, bytes]:
    a = started(type_a, now, **(a_options or {}))
    b = started(type_b, now, **(b_options or {}))
    wrote_a, wrote_b = shuttle(a, b, now)
    return a, b, wrote_a, wrote_b


def only_event(conn: Connection) -> Event:
    events = conn.events()
    assert len(events) == 1, events
    return events[0]


def closed_with(conn: Connection) -> ZMTPError | None:
    """Return the error of the connection's last event, which must be ConnectionClosed."""
    events = conn.events()
    assert events, "no event at all"
    assert isinstance(events[-1], ConnectionClosed), events
    assert conn.state is State.CLOSED
    return events[-1].error


def ours(routing_id: bytes = b"") -> bytes:
    return Greeting(padding=len(routing_id) + 1).encode()


# -- greeting ------------------------------------------------------------------------------


def test_greeting_sends_only_the_signature_until_the_peer_signature_arrives() -> None:
    conn = started()
    assert conn.data_to_send() == ours()[:10]
    peer = greeting()
    for index in range(9):
        conn.receive_data(peer[index : index + 1], 0.0)
        assert conn.data_to_send() == b"", f"wrote after {index + 1} peer bytes"
    conn.receive_data(peer[9:10], 0.0)
    assert conn.data_to_send() == ours()[10:11]  # the major version, once the signature is in
    conn.receive_data(peer[10:11], 0.0)
    assert conn.data_to_send() == ours()[11:]  # the rest, once the peer's major is in


def test_greeting_padding_carries_routing_id_length_plus_one() -> None:
    conn = started(T.ROUTER, routing_id=b"R1")
    assert conn.data_to_send() == bytes.fromhex("ff 0000000000000003 7f")


def test_greeting_is_parsed_one_byte_at_a_time() -> None:
    conn = started()
    for byte in greeting() + ready({"Socket-Type": b"PAIR"}):
        conn.receive_data(bytes((byte,)), 0.0)
    event = only_event(conn)
    assert isinstance(event, HandshakeComplete)
    assert event.peer_socket_type is T.PAIR


def test_version_octet_above_three_is_spoken_to_as_zmtp_3() -> None:
    conn = started()
    conn.receive_data(greeting(major=4, minor=0) + ready({"Socket-Type": b"PAIR"}), 0.0)
    event = only_event(conn)
    assert isinstance(event, HandshakeComplete)
    assert event.peer_version == (4, 0)


# -- READY -----------------------------------------------------------------------------------


def test_ready_is_sent_as_soon_as_the_peer_greeting_completes() -> None:
    conn = started()
    conn.data_to_send()
    peer = greeting()
    conn.receive_data(peer[:63], 0.0)
    assert conn.data_to_send() == ours()[10:]  # greeting only, no READY yet
    conn.receive_data(peer[63:], 0.0)  # no peer READY needed
    assert conn.data_to_send() == ready({"Socket-Type": b"PAIR"})


@pytest.mark.parametrize("socket_type", ZMTP_TYPES, ids=lambda t: t.name)
def test_ready_carries_socket_type_and_identity_only_for_req_dealer_router(
    socket_type: SocketType,
) -> None:
    conn = started(socket_type)
    conn.receive_data(greeting(), 0.0)
    (sent,) = written_commands(conn.data_to_send()[64:])
    assert isinstance(sent, Ready)
    expected = [("Socket-Type", socket_type.name.encode())]
    if socket_type in SENDS_IDENTITY:
        expected.append(("Identity", b""))  # always sent, empty when no routing id is set
    assert list(sent.metadata.items()) == expected


def test_dealer_ready_matches_the_libzmq_bytes() -> None:
    conn = started(T.DEALER)
    conn.receive_data(greeting(), 0.0)
    assert conn.data_to_send()[64:] == (
        bytes.fromhex("04 29 05")
        + b"READY"
        + b"\x0bSocket-Type\x00\x00\x00\x06DEALER"
        + b"\x08Identity\x00\x00\x00\x00"
    )


@pytest.mark.parametrize("socket_type", [T.REQ, T.DEALER, T.ROUTER], ids=lambda t: t.name)
def test_ready_identity_is_the_routing_id(socket_type: SocketType) -> None:
    conn = started(socket_type, routing_id=b"me-1")
    conn.receive_data(greeting(), 0.0)
    (sent,) = written_commands(conn.data_to_send()[64:])
    assert isinstance(sent, Ready)
    assert sent.metadata["Identity"] == b"me-1"


def test_ready_carries_application_properties_and_resource() -> None:
    conn = started(T.PAIR, properties={"X-Color": b"blue"}, resource=b"a/b")
    conn.receive_data(greeting(), 0.0)
    (sent,) = written_commands(conn.data_to_send()[64:])
    assert isinstance(sent, Ready)
    assert dict(sent.metadata.items()) == {
        "Socket-Type": b"PAIR",
        "Resource": b"a/b",
        "X-Color": b"blue",
    }


# -- handshake -------------------------------------------------------------------------------


def test_handshake_complete_carries_peer_type_metadata_version_and_routing_id() -> None:
    conn = started(T.DEALER)
    properties = {"Socket-Type": b"ROUTER", "Identity": b"peer-7", "X-Color": b"blue"}
    conn.receive_data(greeting(minor=0) + ready(properties), 0.0)
    assert only_event(conn) == HandshakeComplete(
        peer_socket_type=T.ROUTER,
        metadata=Metadata(properties),
        peer_version=(3, 0),
        mechanism=b"NULL",
        routing_id=b"peer-7",
        user_id=b"",
    )
    assert conn.state is State.TRAFFIC
    assert conn.peer_socket_type is T.ROUTER
    assert conn.handshake_complete


def test_handshake_between_two_connections_reports_each_other() -> None:
    a, b, _, _ = connect(T.DEALER, T.ROUTER, a_options={"routing_id": b"d-1"})
    seen_by_router = only_event(b)
    assert isinstance(seen_by_router, HandshakeComplete)
    assert seen_by_router.peer_socket_type is T.DEALER
    assert seen_by_router.routing_id == b"d-1"
    assert seen_by_router.peer_version == (3, 1)
    assert dict(seen_by_router.metadata.items()) == {
        "Socket-Type": b"DEALER",
        "Identity": b"d-1",
    }
    seen_by_dealer = only_event(a)
    assert isinstance(seen_by_dealer, HandshakeComplete)
    assert seen_by_dealer.peer_socket_type is T.ROUTER
    assert seen_by_dealer.routing_id == b""


def test_messages_sent_before_the_handshake_are_held_until_the_peer_ready() -> None:
    conn = started(T.DEALER)
    conn.send_message([b"early"])
    conn.receive_data(greeting(), 0.0)
    conn.send_message([b"during", b"handshake"])
    # Greeting and our READY only: no data before the peer's READY.
    assert conn.data_to_send() == ours()[:10] + ours()[10:] + command(
        Ready(Metadata({"Socket-Type": b"DEALER", "Identity": b""}))
    )
    conn.receive_data(ready({"Socket-Type": b"ROUTER"}), 0.0)
    assert conn.data_to_send() == message(b"early") + message(b"during", b"handshake")


def test_held_messages_are_flushed_in_order_between_two_connections() -> None:
    a = started(T.PUSH)
    b = started(T.PULL)
    sent = [[b"one"], [b"two", b"2"], [b""], [b"four"]]
    for frames in sent:
        a.send_message(frames)
    wrote_a, _ = shuttle(a, b)
    items = decode(wrote_a[64:])
    assert isinstance(parse_command(items[0]), Ready)  # type: ignore[arg-type]
    assert items[1:] == sent
    events = b.events()
    assert isinstance(events[0], HandshakeComplete)
    assert [m for e in events[1:] if isinstance(e, MessagesReceived) for m in e.messages] == sent


def test_no_data_is_written_before_the_peer_ready_even_after_our_ready() -> None:
    a = started(T.PAIR)
    b = started(T.PAIR)
    a.send_message([b"data"])
    wrote_a = b""
    held = b""  # b's READY, kept from a for now
    for _ in range(4):
        out_a = a.data_to_send()
        wrote_a += out_a
        if out_a:
            b.receive_data(out_a, 0.0)
        out_b = b.data_to_send()
        ready_at = out_b.find(b"\x05READY")
        if ready_at >= 0:
            out_b, held = out_b[: ready_at - 2], out_b[ready_at - 2 :]
        if out_b:
            a.receive_data(out_b, 0.0)
    wrote_a += a.data_to_send()
    assert held
    assert b.state is State.TRAFFIC  # b has a's READY ...
    assert a.state is State.HANDSHAKE  # ... but a does not have b's yet
    assert [type(c) for c in written_commands(wrote_a[64:])] == [Ready]
    assert b"data" not in wrote_a
    a.receive_data(held, 0.0)
    assert a.data_to_send() == message(b"data")


def test_greeting_ready_and_messages_in_one_chunk_are_all_reported_in_order() -> None:
    conn = started()
    conn.receive_data(
        greeting() + ready({"Socket-Type": b"PAIR"}) + message(b"a") + message(b"b"), 0.0
    )
    events = conn.events()
    assert isinstance(events[0], HandshakeComplete)
    assert events[1:] == [MessagesReceived([[b"a"], [b"b"]])]


def test_peer_identity_longer_than_255_bytes_is_invalid_metadata() -> None:
    conn = started(T.ROUTER)
    conn.receive_data(greeting() + ready({"Socket-Type": b"DEALER", "Identity": b"i" * 256}), 0.0)
    assert isinstance(closed_with(conn), InvalidMetadata)


def test_peer_without_socket_type_is_accepted() -> None:
    conn = started(T.DEALER)
    conn.receive_data(greeting() + ready({"X-Other": b"1"}) + message(b"hi"), 0.0)
    events = conn.events()
    assert isinstance(events[0], HandshakeComplete)
    assert events[0].peer_socket_type is None
    assert events[1:] == [MessagesReceived([[b"hi"]])]
    assert conn.state is State.TRAFFIC


@pytest.mark.parametrize("pair", VALID_PAIRS, ids=pair_id)
def test_every_valid_socket_type_pair_handshakes(pair: tuple[SocketType, SocketType]) -> None:
    a, b, _, _ = connect(*pair)
    for conn, peer in ((a, pair[1]), (b, pair[0])):
        event = only_event(conn)
        assert isinstance(event, HandshakeComplete)
        assert event.peer_socket_type is peer
        assert conn.state is State.TRAFFIC


@pytest.mark.parametrize("pair", INVALID_PAIRS, ids=pair_id)
def test_invalid_socket_type_pair_closes_both_sides_with_an_error_command(
    pair: tuple[SocketType, SocketType],
) -> None:
    a, b, wrote_a, wrote_b = connect(*pair)
    for conn, wrote in ((a, wrote_a), (b, wrote_b)):
        events = conn.events()
        assert len(events) == 1
        assert isinstance(events[0], ConnectionClosed)
        assert isinstance(events[0].error, IncompatibleSocketType)
        sent = written_commands(wrote[64:])
        assert isinstance(sent[0], Ready)
        assert isinstance(sent[-1], Error)


@pytest.mark.parametrize("name", [b"BOGUS", b"STREAM", b"pair", b""])
def test_unknown_peer_socket_type_is_incompatible(name: bytes) -> None:
    conn = started(T.PAIR)
    conn.receive_data(greeting() + ready({"Socket-Type": name}), 0.0)
    assert isinstance(closed_with(conn), IncompatibleSocketType)
    assert isinstance(written_commands(conn.data_to_send()[64:])[-1], Error)


# -- messages --------------------------------------------------------------------------------


def test_multipart_with_empty_and_255_and_256_byte_frames_round_trips() -> None:
    a, b, _, _ = connect(T.PAIR, T.PAIR)
    a.events()
    b.events()
    sent = [
        [b"", b"x" * 255, b"y" * 256, b"", b"z"],
        [b""],
        [b"w" * 256],
        [bytearray(b"from a bytearray"), memoryview(b"and a memoryview")],
    ]
    for frames in sent:
        a.send_message(frames)
    wire = a.data_to_send()
    assert b"\x01\xff" + b"x" * 255 in wire  # short header up to 255 bytes
    assert b"\x03" + (256).to_bytes(8, "big") + b"y" * 256 in wire  # long header from 256
    b.receive_data(wire, 0.0)
    assert b.events() == [MessagesReceived([[bytes(f) for f in frames] for frames in sent])]


def test_consecutive_messages_share_one_messages_received_event() -> None:
    conn = handshaken()
    conn.receive_data(message(b"a") + message(b"b", b"c") + message(b"d"), 0.0)
    assert conn.events() == [MessagesReceived([[b"a"], [b"b", b"c"], [b"d"]])]


def test_messages_received_keeps_order_with_subscription_events() -> None:
    conn = handshaken(T.XPUB)
    conn.receive_data(
        message(b"m1")
        + message(b"m2", b"more")
        + command(Subscribe(b"t"))
        + message(b"m3")
        + message(b"\x00t")
        + message(b"m4"),
        0.0,
    )
    assert conn.events() == [
        MessagesReceived([[b"m1"], [b"m2", b"more"]]),
        SubscribeReceived(b"t"),
        MessagesReceived([[b"m3"]]),
        CancelReceived(b"t"),
        MessagesReceived([[b"m4"]]),
    ]


def test_events_decoded_before_a_fault_come_before_connection_closed() -> None:
    conn = handshaken()
    conn.receive_data(message(b"a") + message(b"b") + b"\xf8\x00" + message(b"never"), 0.0)
    events = conn.events()
    assert events[:-1] == [MessagesReceived([[b"a"], [b"b"]])]
    assert isinstance(events[-1], ConnectionClosed)
    assert isinstance(events[-1].error, MalformedFrame)


def test_a_message_is_only_delivered_whole() -> None:
    conn = handshaken()
    wire = message(b"part", b"x" * 300, b"end")
    for index in range(len(wire) - 1):
        conn.receive_data(wire[index : index + 1], 0.0)
        assert conn.events() == []
    conn.receive_data(wire[-1:], 0.0)
    assert conn.events() == [MessagesReceived([[b"part", b"x" * 300, b"end"]])]


def test_buffers_to_send_hands_out_message_bodies_without_copying() -> None:
    conn = handshaken()
    body = b"b" * 1000
    conn.send_message([body])
    buffers = conn.buffers_to_send()
    assert any(buffer is body for buffer in buffers)
    assert b"".join(buffers) == message(body)
    assert conn.buffers_to_send() == []


# -- subscriptions ---------------------------------------------------------------------------


@pytest.mark.parametrize("socket_type", [T.PUB, T.XPUB], ids=lambda t: t.name)
def test_pub_and_xpub_turn_subscription_messages_into_events(socket_type: SocketType) -> None:
    conn = handshaken(socket_type)
    conn.receive_data(message(b"\x01abc") + message(b"\x00abc") + message(b"\x01"), 0.0)
    assert conn.events() == [
        SubscribeReceived(b"abc"),
        CancelReceived(b"abc"),
        SubscribeReceived(b""),
    ]


@pytest.mark.parametrize(
    "socket_type", [T.SUB, T.XSUB, T.PAIR, T.DEALER, T.PULL], ids=lambda t: t.name
)
def test_other_socket_types_keep_subscription_like_messages_as_messages(
    socket_type: SocketType,
) -> None:
    conn = handshaken(socket_type)
    conn.receive_data(message(b"\x01abc") + message(b"\x00abc"), 0.0)
    assert conn.events() == [MessagesReceived([[b"\x01abc"], [b"\x00abc"]])]


@pytest.mark.parametrize("socket_type", [T.PUB, T.XPUB], ids=lambda t: t.name)
def test_subscribe_and_cancel_commands_become_events(socket_type: SocketType) -> None:
    conn = handshaken(socket_type)
    conn.receive_data(
        command(Subscribe(b"abc")) + command(Cancel(b"abc")) + command(Subscribe(b"")), 0.0
    )
    assert conn.events() == [
        SubscribeReceived(b"abc"),
        CancelReceived(b"abc"),
        SubscribeReceived(b""),
    ]


def test_subscribe_sends_a_subscribe_command_to_a_zmtp_3_1_peer() -> None:
    conn = handshaken(T.SUB, minor=1)
    conn.subscribe(b"abc")
    assert conn.data_to_send() == b"\x04\x0d\x09SUBSCRIBEabc"
    conn.cancel(b"abc")
    assert conn.data_to_send() == b"\x04\x0a\x06CANCELabc"


def test_subscribe_command_uses_a_long_header_only_above_255_bytes() -> None:
    conn = handshaken(T.SUB, minor=1)
    conn.subscribe(b"t" * 245)  # body: name length, "SUBSCRIBE", topic = 255 bytes
    assert conn.data_to_send() == b"\x04\xff\x09SUBSCRIBE" + b"t" * 245
    conn.subscribe(b"t" * 246)
    assert conn.data_to_send() == b"\x06" + (256).to_bytes(8, "big") + b"\x09SUBSCRIBE" + b"t" * 246


def test_subscribe_sends_a_0x01_message_to_a_zmtp_3_0_peer() -> None:
    conn = handshaken(T.SUB, minor=0)
    conn.subscribe(b"abc")
    assert conn.data_to_send() == b"\x00\x04\x01abc"
    conn.cancel(b"abc")
    assert conn.data_to_send() == b"\x00\x04\x00abc"


@pytest.mark.parametrize(
    ("minor", "expected"),
    [(1, command(Subscribe(b"t"))), (0, message(b"\x01t"))],
    ids=["zmtp-3.1", "zmtp-3.0"],
)
def test_subscription_before_the_handshake_is_sent_in_the_peer_form(
    minor: int, expected: bytes
) -> None:
    conn = started(T.SUB)
    conn.subscribe(b"t")
    conn.receive_data(greeting(minor=minor), 0.0)
    conn.data_to_send()
    conn.receive_data(ready({"Socket-Type": b"PUB"}), 0.0)
    assert conn.data_to_send() == expected


def test_subscriptions_reach_a_publisher_between_two_connections() -> None:
    sub = started(T.SUB)
    pub = started(T.XPUB)
    sub.subscribe(b"early")
    shuttle(sub, pub)
    sub.subscribe(b"late")
    sub.cancel(b"early")
    shuttle(sub, pub)
    events = pub.events()
    assert isinstance(events[0], HandshakeComplete)
    assert events[1:] == [
        SubscribeReceived(b"early"),
        SubscribeReceived(b"late"),
        CancelReceived(b"early"),
    ]


# -- PING / PONG -----------------------------------------------------------------------------


def test_ping_is_answered_with_a_pong_echoing_its_context() -> None:
    conn = handshaken()
    conn.receive_data(command(Ping(0, b"ctx")), 0.0)
    assert conn.data_to_send() == b"\x04\x08\x04PONGctx"
    assert conn.events() == []


@pytest.mark.parametrize("size", [16, 17, 40])
def test_pong_context_is_truncated_to_16_bytes(size: int) -> None:
    context = bytes(range(size))
    conn = handshaken()
    conn.receive_data(command(Ping(0, context)), 0.0)
    assert conn.data_to_send() == command(Pong(context[:16]))


def test_ping_ttl_closes_with_heartbeat_timeout_when_nothing_arrives() -> None:
    conn = handshaken()
    conn.receive_data(command(Ping(15)), 10.0)  # 1.5 s
    assert conn.get_timer() == 11.5
    conn.handle_timer(11.4)
    assert conn.events() == []
    conn.handle_timer(11.5)
    assert isinstance(closed_with(conn), HeartbeatTimeout)


def test_ping_without_ttl_arms_no_timer() -> None:
    conn = handshaken()
    conn.receive_data(command(Ping(0)), 10.0)
    assert conn.get_timer() is None


@pytest.mark.parametrize(
    "traffic", [b"\x00", message(b"x"), command(Pong())], ids=["one-byte", "message", "pong"]
)
def test_any_received_bytes_cancel_the_ping_ttl_timer(traffic: bytes) -> None:
    conn = handshaken()
    conn.receive_data(command(Ping(15)), 10.0)
    conn.receive_data(traffic, 11.0)
    assert conn.get_timer() is None
    conn.handle_timer(1000.0)
    assert conn.state is State.TRAFFIC
    assert not any(isinstance(e, ConnectionClosed) for e in conn.events())


def test_after_the_handshake_ready_and_unknown_commands_are_ignored() -> None:
    conn = handshaken()
    conn.receive_data(
        ready({"Socket-Type": b"PAIR"}) + command(UnknownCommand(b"HELLO", b"x")) + message(b"m"),
        0.0,
    )
    assert conn.events() == [MessagesReceived([[b"m"]])]
    assert conn.data_to_send() == b""
    assert conn.state is State.TRAFFIC


# -- heartbeats ------------------------------------------------------------------------------


def test_heartbeat_interval_sends_pings_with_ttl_in_deciseconds() -> None:
    conn = handshaken(heartbeat_interval=2.0, heartbeat_ttl=2.5, heartbeat_timeout=100.0)
    assert conn.get_timer() == 2.0
    conn.handle_timer(1.9)
    assert conn.data_to_send() == b""
    conn.handle_timer(2.0)
    assert conn.data_to_send() == b"\x04\x07\x04PING\x00\x19"  # TTL 25 ds
    # Unanswered PINGs keep going out every interval.
    assert conn.get_timer() == 4.0
    conn.handle_timer(4.0)
    assert written_commands(conn.data_to_send()) == [Ping(25)]
    assert conn.events() == []


def test_heartbeat_ping_without_ttl_has_a_zero_ttl_field() -> None:
    conn = handshaken(heartbeat_interval=1.0)
    conn.handle_timer(1.0)
    assert conn.data_to_send() == b"\x04\x07\x04PING\x00\x00"


def test_heartbeat_timeout_closes_the_connection_when_nothing_arrives() -> None:
    conn = handshaken(heartbeat_interval=1.0, heartbeat_timeout=3.0)
    pings = 0
    for now in (1.0, 2.0, 3.0, 3.99):
        assert conn.get_timer() is not None
        conn.handle_timer(now)
        pings += len(written_commands(conn.data_to_send()))
        assert conn.state is State.TRAFFIC
    assert pings == 3
    assert conn.get_timer() == 4.0  # first PING at 1.0 + timeout 3.0
    conn.handle_timer(4.0)
    assert isinstance(closed_with(conn), HeartbeatTimeout)
    assert conn.get_timer() is None


def test_heartbeat_timeout_defaults_to_the_interval() -> None:
    conn = handshaken(heartbeat_interval=1.0)
    conn.handle_timer(1.0)
    assert conn.get_timer() == 2.0
    conn.handle_timer(2.0)
    assert isinstance(closed_with(conn), HeartbeatTimeout)


def test_incoming_traffic_cancels_the_heartbeat_timeout() -> None:
    conn = handshaken(heartbeat_interval=1.0, heartbeat_timeout=1.5)
    conn.handle_timer(1.0)  # PING, deadline 2.5
    conn.handle_timer(2.0)  # PING, deadline still 2.5
    conn.receive_data(message(b"alive"), 2.2)
    assert conn.get_timer() == 3.0  # only the next PING is left
    conn.handle_timer(2.5)
    assert conn.state is State.TRAFFIC
    conn.handle_timer(3.0)  # PING, new deadline 4.5
    assert conn.get_timer() == 4.0
    conn.handle_timer(4.0)
    conn.handle_timer(4.5)
    events = conn.events()
    assert events[0] == MessagesReceived([[b"alive"]])
    assert isinstance(events[-1], ConnectionClosed)
    assert isinstance(events[-1].error, HeartbeatTimeout)


def test_no_pings_are_sent_to_a_zmtp_3_0_peer() -> None:
    conn = handshaken(minor=0, heartbeat_interval=1.0)
    assert conn.get_timer() is None
    conn.handle_timer(100.0)
    assert conn.data_to_send() == b""
    assert conn.state is State.TRAFFIC


def test_pings_start_only_after_the_handshake() -> None:
    conn = started(heartbeat_interval=1.0, handshake_interval=0.0)
    conn.handle_timer(5.0)
    assert conn.data_to_send() == ours()[:10]
    conn.receive_data(greeting() + ready({"Socket-Type": b"PAIR"}), 10.0)
    assert conn.get_timer() == 11.0


# -- handshake timer -------------------------------------------------------------------------


def test_handshake_interval_closes_with_handshake_timeout() -> None:
    conn = started(now=5.0, handshake_interval=2.0)
    assert conn.get_timer() == 7.0
    conn.receive_data(greeting()[:30], 6.0)  # greeting bytes do not reset the deadline
    conn.handle_timer(6.99)
    assert conn.state is State.GREETING
    assert conn.get_timer() == 7.0
    conn.handle_timer(7.0)
    assert isinstance(closed_with(conn), HandshakeTimeout)


def test_handshake_timeout_covers_the_wait_for_the_peer_ready() -> None:
    conn = started(now=0.0, handshake_interval=2.0)
    conn.receive_data(greeting(), 1.0)
    assert conn.state is State.HANDSHAKE
    conn.handle_timer(2.0)
    assert isinstance(closed_with(conn), HandshakeTimeout)


def test_handshake_completion_cancels_the_handshake_timer() -> None:
    conn = handshaken(handshake_interval=2.0)
    assert conn.get_timer() is None
    conn.handle_timer(1000.0)
    assert conn.state is State.TRAFFIC


def test_zero_handshake_interval_arms_no_timer() -> None:
    conn = started(handshake_interval=0.0)
    assert conn.get_timer() is None
    conn.handle_timer(1e9)
    assert conn.state is State.GREETING


def test_get_timer_returns_the_earliest_deadline() -> None:
    # A peer PING's TTL before our next PING.
    conn = handshaken(heartbeat_interval=5.0)
    conn.receive_data(command(Ping(10)), 0.0)
    assert conn.get_timer() == 1.0
    # Our next PING before a long TTL.
    conn = handshaken(heartbeat_interval=5.0)
    conn.receive_data(command(Ping(100)), 0.0)
    assert conn.get_timer() == 5.0
    # The heartbeat timeout before the next PING.
    conn = handshaken(heartbeat_interval=2.0, heartbeat_timeout=0.5)
    conn.handle_timer(2.0)
    assert conn.get_timer() == 2.5
    # The handshake deadline before anything else.
    conn = started(now=3.0, handshake_interval=4.0)
    assert conn.get_timer() == 7.0


# -- how connections end ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "before",
    [b"", greeting()[:20], greeting(), greeting() + ready({"Socket-Type": b"PAIR"})],
    ids=["greeting-not-started", "mid-greeting", "handshake", "traffic"],
)
def test_peer_eof_closes_with_connection_lost(before: bytes) -> None:
    conn = started()
    if before:
        conn.receive_data(before, 0.0)
    conn.receive_data(b"", 1.0)
    assert isinstance(closed_with(conn), ConnectionLost)
    assert conn.get_timer() is None


@pytest.mark.parametrize("in_traffic", [False, True], ids=["handshake", "traffic"])
def test_peer_error_closes_with_peer_refused(in_traffic: bool) -> None:
    conn = started()
    conn.receive_data(greeting(), 0.0)
    if in_traffic:
        conn.receive_data(ready({"Socket-Type": b"PAIR"}), 0.0)
    conn.receive_data(command(Error(b"go away")), 0.0)
    error = closed_with(conn)
    assert isinstance(error, PeerRefused)
    assert error.reason == b"go away"


@pytest.mark.parametrize(
    "early",
    [message(b"hi"), message(b"hi") + ready({"Socket-Type": b"PAIR"}), command(Ping(0))],
    ids=["message", "message-before-ready", "ping"],
)
def test_anything_but_ready_during_the_handshake_is_an_unexpected_command(early: bytes) -> None:
    conn = started()
    conn.receive_data(greeting() + early, 0.0)
    events = conn.events()
    assert len(events) == 1
    assert isinstance(events[0], ConnectionClosed)
    assert isinstance(events[0].error, UnexpectedCommand)


def test_ready_twice_during_the_handshake_is_an_unexpected_command() -> None:
    conn = started(zap_domain=b"")
    conn.receive_data(greeting() + ready({"Socket-Type": b"PAIR"}) * 2, 0.0)
    assert isinstance(closed_with(conn), UnexpectedCommand)


def test_reserved_flag_bits_close_with_malformed_frame() -> None:
    conn = handshaken()
    conn.receive_data(b"\x08\x00", 0.0)
    assert isinstance(closed_with(conn), MalformedFrame)


def test_max_message_size_limits_each_frame() -> None:
    conn = handshaken(max_message_size=40)  # the peer's READY is 26 bytes
    conn.receive_data(message(b"x" * 40, b"y" * 40), 0.0)
    assert conn.events() == [MessagesReceived([[b"x" * 40, b"y" * 40]])]
    conn.receive_data(message(b"x" * 41), 0.0)
    assert isinstance(closed_with(conn), MessageTooLarge)


def test_max_message_size_is_checked_on_the_announced_size_before_the_body() -> None:
    conn = handshaken(max_message_size=1000)
    conn.receive_data(b"\x02" + (2**40).to_bytes(8, "big"), 0.0)
    assert isinstance(closed_with(conn), MessageTooLarge)


def test_max_message_size_applies_to_the_peer_ready() -> None:
    peer_ready = ready({"Socket-Type": b"PAIR", "X-Pad": b"p" * 50})
    body_size = len(peer_ready) - 2
    conn = started(max_message_size=body_size)
    conn.receive_data(greeting() + peer_ready, 0.0)
    assert isinstance(only_event(conn), HandshakeComplete)
    conn = started(max_message_size=body_size - 1)
    conn.receive_data(greeting() + peer_ready, 0.0)
    events = conn.events()
    assert len(events) == 1
    assert isinstance(events[0], ConnectionClosed)
    assert isinstance(events[0].error, MessageTooLarge)


@pytest.mark.parametrize(
    "peer",
    [
        # ZMTP/2.0: signature, revision 1, socket type, empty identity frame.
        b"\xff" + bytes(8) + b"\x7f" + b"\x01\x05\x00\x00",
        # ZMTP/1.0 with a versioned signature: revision 0.
        b"\xff" + bytes(8) + b"\x7f" + b"\x00",
    ],
    ids=["zmtp-2.0", "zmtp-1.0-versioned"],
)
def test_zmtp_1_and_2_greetings_close_with_unsupported_version(peer: bytes) -> None:
    conn = started()
    conn.data_to_send()
    conn.receive_data(peer, 0.0)
    assert isinstance(closed_with(conn), UnsupportedVersion)
    # libzmq's staging: the major octet went out, the rest of the greeting never does.
    assert conn.data_to_send() in (b"", ours()[10:11])


def test_unversioned_zmtp_1_peer_closes_with_unsupported_version() -> None:
    conn = started()
    conn.receive_data(b"\x06\x00hello" + bytes(3), 0.0)  # a ZMTP/1.0 identity frame
    assert isinstance(closed_with(conn), UnsupportedVersion)


def test_mechanism_mismatch_closes_without_ready() -> None:
    conn = started()
    conn.receive_data(greeting(mechanism=b"PLAIN") + ready({"Socket-Type": b"PAIR"}), 0.0)
    assert isinstance(closed_with(conn), MechanismMismatch)
    assert b"READY" not in conn.data_to_send()


# -- ZAP -------------------------------------------------------------------------------------

ZAP_OPTIONS: dict[str, object] = {"zap_domain": b"global", "peer_address": b"10.0.0.1"}


def test_zap_domain_holds_ready_back_and_requests_authentication() -> None:
    conn = started(T.DEALER, routing_id=b"me", **ZAP_OPTIONS)
    conn.receive_data(greeting() + ready({"Socket-Type": b"ROUTER"}), 0.0)
    assert conn.events() == [
        AuthenticationRequested(
            ZapRequest(domain=b"global", address=b"10.0.0.1", identity=b"me", mechanism=b"NULL")
        )
    ]
    assert b"READY" not in conn.data_to_send()
    assert conn.state is State.HANDSHAKE


def test_zap_request_is_reported_once() -> None:
    conn = started(**ZAP_OPTIONS)
    conn.receive_data(greeting(), 0.0)
    assert [type(e) for e in conn.events()] == [AuthenticationRequested]
    conn.receive_data(ready({"Socket-Type": b"PAIR"}), 0.0)  # arrives while ZAP is pending
    assert conn.events() == []


@pytest.mark.parametrize("peer_ready_first", [True, False], ids=["ready-first", "reply-first"])
def test_zap_200_completes_with_user_id_and_zap_metadata(peer_ready_first: bool) -> None:
    conn = started(**ZAP_OPTIONS)
    conn.receive_data(greeting(), 0.0)
    conn.events()
    conn.data_to_send()
    if peer_ready_first:
        conn.receive_data(ready({"Socket-Type": b"PAIR"}), 0.0)
    reply = ZapReply(b"200", b"OK", user_id=b"alice", metadata=Metadata({"X-Role": b"admin"}))
    conn.receive_zap_reply(reply, 0.0)
    assert conn.data_to_send() == ready({"Socket-Type": b"PAIR"})
    if not peer_ready_first:
        assert conn.events() == []
        conn.receive_data(ready({"Socket-Type": b"PAIR"}), 0.0)
    event = only_event(conn)
    assert isinstance(event, HandshakeComplete)
    assert event.user_id == b"alice"
    assert event.metadata["User-Id"] == b"alice"
    assert event.metadata["X-Role"] == b"admin"
    assert event.metadata["Socket-Type"] == b"PAIR"
    assert conn.state is State.TRAFFIC


def test_zap_holds_the_peer_handshake_until_the_reply() -> None:
    a = started(T.PAIR, **ZAP_OPTIONS)
    b = started(T.PAIR)
    shuttle(a, b)
    assert [type(e) for e in a.events()] == [AuthenticationRequested]
    assert b.events() == []
    a.receive_zap_reply(ZapReply(b"200", user_id=b"bob"), 0.0)
    shuttle(a, b)
    seen_by_a = only_event(a)
    assert isinstance(seen_by_a, HandshakeComplete)
    assert seen_by_a.user_id == b"bob"
    assert isinstance(only_event(b), HandshakeComplete)


@pytest.mark.parametrize("status", [b"400", b"500"])
def test_zap_refusal_writes_error_and_closes_with_authentication_failed(status: bytes) -> None:
    conn = started(**ZAP_OPTIONS)
    conn.receive_data(greeting() + ready({"Socket-Type": b"PAIR"}), 0.0)
    conn.events()
    conn.data_to_send()
    conn.receive_zap_reply(ZapReply(status, b"denied"), 0.0)
    assert conn.data_to_send() == b"\x04\x0a\x05ERROR\x03" + status
    error = closed_with(conn)
    assert isinstance(error, AuthenticationFailed)
    assert error.status_code == status


# -- options and misuse ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {"socket_type": 5},
        {"routing_id": b"r" * 256},
        {"properties": {"Color": b"blue"}},
        {"handshake_interval": -1.0},
        {"heartbeat_interval": -0.5},
        {"heartbeat_ttl": -1.0},
        {"heartbeat_ttl": 6553.6},
        {"heartbeat_interval": 1.0, "heartbeat_timeout": -1.0},
    ],
    ids=[
        "socket-type-not-enum",
        "routing-id-256-bytes",
        "property-without-x-prefix",
        "negative-handshake-interval",
        "negative-heartbeat-interval",
        "negative-heartbeat-ttl",
        "heartbeat-ttl-over-16-bits",
        "negative-heartbeat-timeout",
    ],
)
def test_bad_connection_options_raise_configuration_error(options: dict[str, object]) -> None:
    values = {"socket_type": T.PAIR, **options}
    with pytest.raises(ConfigurationError):
        ConnectionOptions(**values)  # type: ignore[arg-type]


def test_connection_options_accept_their_boundary_values() -> None:
    options = ConnectionOptions(
        socket_type=T.ROUTER,
        routing_id=b"r" * 255,
        properties={"X-Color": b"blue", "x-lower": b"ok"},
        handshake_interval=0.0,
        heartbeat_interval=0.0,
        heartbeat_ttl=6553.5,
        heartbeat_timeout=0.0,
    )
    assert options.heartbeat_ttl == 6553.5


def test_start_twice_is_a_usage_error() -> None:
    conn = started()
    with pytest.raises(UsageError):
        conn.start(1.0)


def test_receive_before_start_is_a_usage_error() -> None:
    conn = new()
    with pytest.raises(UsageError):
        conn.receive_data(greeting(), 0.0)


@pytest.mark.parametrize(
    "call",
    [
        lambda conn: conn.send_message([b"x"]),
        lambda conn: conn.subscribe(b"t"),
        lambda conn: conn.cancel(b"t"),
    ],
    ids=["send_message", "subscribe", "cancel"],
)
@pytest.mark.parametrize("how", ["close()", "peer-eof", "during-handshake"])
def test_sending_after_close_is_a_usage_error(call: Callable[[Connection], None], how: str) -> None:
    conn = handshaken(T.XSUB) if how != "during-handshake" else started(T.XSUB)
    if how == "peer-eof":
        conn.receive_data(b"", 0.0)
    else:
        conn.close()
    with pytest.raises(UsageError):
        call(conn)


@pytest.mark.parametrize("in_traffic", [False, True], ids=["handshake", "traffic"])
def test_an_empty_message_is_a_usage_error(in_traffic: bool) -> None:
    conn = handshaken() if in_traffic else started()
    with pytest.raises(UsageError):
        conn.send_message([])


def test_zap_reply_without_a_request_is_a_usage_error() -> None:
    conn = handshaken()
    with pytest.raises(UsageError):
        conn.receive_zap_reply(ZapReply(b"200"), 0.0)


def test_local_close_reports_nothing_more() -> None:
    conn = handshaken(heartbeat_interval=1.0)
    conn.close()
    assert conn.state is State.CLOSED
    assert conn.get_timer() is None
    conn.receive_data(message(b"late") + command(Ping(1)), 1.0)
    conn.handle_timer(100.0)
    assert conn.events() == []
    assert conn.data_to_send() == b""


def test_receive_data_does_not_keep_a_reference_to_the_caller_buffer() -> None:
    conn = handshaken()
    body = bytes(index % 251 for index in range(300))
    wire = message(body)
    buffer = bytearray(100)
    for start in range(0, len(wire), 100):
        chunk = wire[start : start + 100]
        buffer[: len(chunk)] = chunk  # a recv_into()-style buffer, reused for every read
        conn.receive_data(memoryview(buffer)[: len(chunk)], 0.0)
    assert conn.events() == [MessagesReceived([[body]])]


def test_a_malformed_ready_after_the_handshake_is_ignored_unparsed() -> None:
    # libzmq never parses READY once traffic flows; a broken property list must not matter.
    conn = handshaken()
    conn.events()
    broken_ready = encode_command(b"\x05READY\x05Bad")
    conn.receive_data(broken_ready + message(b"after"), 0.0)
    events = conn.events()
    assert conn.state is State.TRAFFIC
    assert [e.messages for e in events if isinstance(e, MessagesReceived)] == [[[b"after"]]]
