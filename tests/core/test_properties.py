"""Property tests of the framing and the Connection state machine (hypothesis).

How many examples run is the profile's business (``ci`` by default, ``fuzz`` for long runs; see
conftest.py); the tests only relax the deadline and health checks where they must.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable, Iterator
from itertools import cycle, pairwise
from typing import get_args

from hypothesis import HealthCheck, example, given, settings
from hypothesis import event as label
from hypothesis import strategies as st

from zmtp.commands import (
    Cancel,
    Command,
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
from zmtp.errors import MessageTooLarge, ZMTPError
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
from zmtp.zap import ZapReply

EVENT_TYPES = get_args(Event)
ZMTP_TYPES = sorted(VALID_PEERS)
VALID_PAIRS = [(ours, theirs) for ours in ZMTP_TYPES for theirs in sorted(VALID_PEERS[ours])]
READS_SUBSCRIPTIONS = {SocketType.PUB, SocketType.XPUB}
KNOWN_COMMANDS = {b"READY", b"ERROR", b"PING", b"PONG", b"SUBSCRIBE", b"CANCEL"}

# -- strategies ----------------------------------------------------------------------------

# Frames of every interesting size: empty, short, and around the 255/256 short/long boundary.
frame_bodies = st.one_of(
    st.binary(max_size=12),
    st.binary(min_size=250, max_size=270),
    st.binary(min_size=271, max_size=1100),
)
messages = st.lists(frame_bodies, min_size=1, max_size=5)
property_names = st.from_regex(r"[A-Za-z0-9\-_.+]{1,30}", fullmatch=True)
metadata = st.dictionaries(property_names, st.binary(max_size=300), max_size=4).map(Metadata)
commands: st.SearchStrategy[Command] = st.one_of(
    st.builds(Ready, metadata),
    st.builds(Error, st.binary(max_size=255)),
    st.builds(Ping, st.integers(0, 0xFFFF), st.binary(max_size=20)),
    st.builds(Pong, st.binary(max_size=20)),
    st.builds(Subscribe, frame_bodies),
    st.builds(Cancel, frame_bodies),
    st.builds(
        UnknownCommand,
        st.binary(min_size=1, max_size=255).filter(lambda name: name not in KNOWN_COMMANDS),
        st.binary(max_size=300),
    ),
)


def encode(frames: list[bytes]) -> bytes:
    out: list[bytes | bytearray | memoryview] = []
    encode_message(frames, out)
    return b"".join(bytes(part) for part in out)


def command_bytes(command: Command) -> bytes:
    return encode_command(command.encode())


# Byte streams for fuzzing: raw noise, or well-formed frames mixed with noise or with frames
# that break a rule, so that the fuzz also gets deep into the traffic phase.
valid_frames = st.one_of(messages.map(encode), commands.map(command_bytes))
BAD_FRAMES = [
    b"\x04\x00",  # an empty command
    b"\x04\x02\x09S",  # a command name longer than the body
    b"\x04\x05\x04PING",  # PING without its TTL
    b"\x04\x06\x05ERROR",  # ERROR without its reason length
    b"\x04\x08\x05ERROR\x09x",  # ERROR reason shorter than announced
    b"\x04\x0a\x05READY\x00\x00\x00\x00",  # READY with an empty property name
    b"\x04\x0c\x05READY\x01A\x00\x00\x00\x09",  # READY with a truncated value
    b"\x05\x00",  # a command with MORE
    b"\x08\x00",  # a reserved flag bit
    b"\xff" * 9,  # reserved bits, and a size beyond 2**63-1
    b"\x02\x80" + bytes(7),  # a long size with the top bit set
]
NEAR_MISSES = [
    b"\x01\x01\x01",  # MORE frames: a message in progress
    b"\x00\x02\x01t",  # a 0x01 subscription message
    b"\x02" + bytes(7) + b"\x05hello",  # a long header with a small size
    b"\x04\x07\x04PING\xff\xff",  # the longest TTL
]
fuzz_streams = st.one_of(
    st.binary(max_size=2000),
    st.lists(
        st.one_of(valid_frames, st.sampled_from(NEAR_MISSES), st.binary(min_size=1, max_size=40)),
        max_size=12,
    ).map(b"".join),
    st.lists(st.one_of(valid_frames, st.sampled_from(NEAR_MISSES + BAD_FRAMES)), max_size=12).map(
        b"".join
    ),
)


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    """Cut ``data`` at the given offsets, taken modulo its length (any order, duplicates)."""
    bounds = [0, *sorted(cut % (len(data) + 1) for cut in cuts), len(data)]
    return [data[start:stop] for start, stop in pairwise(bounds)]


cut_lists = st.lists(st.integers(0, 1 << 16), max_size=30)


def greeting(minor: int = 1) -> bytes:
    return Greeting(minor=minor).encode()


def ready(properties: dict[str, bytes]) -> bytes:
    return encode_command(Ready(Metadata(properties)).encode())


# -- 1. framing round trip -----------------------------------------------------------------


@given(
    stream=st.lists(
        st.one_of(
            messages.map(lambda frames: ("message", frames)),
            commands.map(lambda command: ("command", command)),
        ),
        max_size=15,
    ),
    cuts=cut_lists,
    kinds=st.lists(st.sampled_from(["bytes", "bytearray", "memoryview", "reused"]), min_size=1),
)
def test_frame_decoder_gives_back_every_message_and_command_under_any_split(
    stream: list[tuple[str, object]], cuts: list[int], kinds: list[str]
) -> None:
    wire = b"".join(
        encode(item) if kind == "message" else command_bytes(item)  # type: ignore[arg-type]
        for kind, item in stream
    )
    decoder = FrameDecoder()
    decoded: list[DecodedItem] = []
    for chunk, kind in zip(split(wire, cuts), cycle(kinds), strict=False):
        if kind == "bytes":
            decoder.feed(chunk, decoded)
        elif kind == "bytearray":
            decoder.feed(bytearray(chunk), decoded)
        elif kind == "memoryview":
            decoder.feed(memoryview(chunk), decoded)
        else:  # a recv_into() buffer: overwritten once feed() returns
            buffer = bytearray(chunk)
            decoder.feed(memoryview(buffer), decoded)
            buffer[:] = b"\xee" * len(buffer)
    expected = [
        item if kind == "message" else item.encode()  # type: ignore[attr-defined]
        for kind, item in stream
    ]
    assert decoded == expected
    assert not decoder.in_message
    for (kind, item), body in zip(stream, decoded, strict=True):
        if kind == "command":
            assert parse_command(body) == item  # type: ignore[arg-type]


# -- 2. fuzzing the connection -------------------------------------------------------------


def with_each_bad_frame_in_traffic(test: Callable[..., None]) -> Callable[..., None]:
    """Make sure every known-bad frame reaches the traffic phase at least once."""
    for bad in BAD_FRAMES:
        test = example(
            socket_type=SocketType.PAIR,
            prefix="greeting+ready",
            peer_minor=1,
            peer="compatible",
            any_type=SocketType.PAIR,
            options={},
            fuzz=encode([b"before"]) + bad + encode([b"after"]),
            zap_status=b"200",
            talk=False,
            cuts=[],
            steps=[0.0],
        )(test)
    return test


@settings(suppress_health_check=[HealthCheck.too_slow])
@with_each_bad_frame_in_traffic
@given(
    socket_type=st.sampled_from(ZMTP_TYPES),
    prefix=st.sampled_from(["none", "greeting", *["greeting+ready"] * 4]),
    peer_minor=st.integers(0, 3),
    peer=st.sampled_from(["compatible", "compatible", "compatible", "absent", "any"]),
    any_type=st.sampled_from(ZMTP_TYPES),
    options=st.fixed_dictionaries(
        {
            "max_message_size": st.sampled_from([-1, -1, -1, -1, 0, 64, 300]),
            "handshake_interval": st.sampled_from([0.0, 30.0, 3.0]),
            "heartbeat_interval": st.sampled_from([0.0, 1.0]),
            "heartbeat_ttl": st.sampled_from([0.0, 2.0]),
            "zap_domain": st.sampled_from([None, None, None, b"", b"domain"]),
        }
    ),
    fuzz=fuzz_streams,
    zap_status=st.sampled_from([b"200", b"200", b"200", b"300", b"400", b"500"]),
    talk=st.booleans(),
    cuts=cut_lists,
    steps=st.lists(st.sampled_from([0.0, 0.0, 0.1, 0.5, 1.0, 2.5]), min_size=1),
)
def test_arbitrary_bytes_never_raise_and_end_in_a_zmtp_error(
    socket_type: SocketType,
    prefix: str,
    peer_minor: int,
    peer: str,
    any_type: SocketType,
    options: dict[str, object],
    fuzz: bytes,
    zap_status: bytes,
    talk: bool,
    cuts: list[int],
    steps: list[float],
) -> None:
    conn = Connection(ConnectionOptions(socket_type=socket_type, **options))  # type: ignore[arg-type]
    now = 0.0
    conn.start(now)
    head = b""
    if prefix != "none":
        head = greeting(peer_minor)
    if prefix == "greeting+ready":
        peer_type = min(VALID_PEERS[socket_type]) if peer == "compatible" else any_type
        properties = {} if peer == "absent" else {"Socket-Type": peer_type.name.encode()}
        head += ready(properties)
    stream = head + fuzz
    events: list[object] = []
    chunks = [chunk for chunk in split(stream, cuts) if chunk]  # b"" is EOF
    for chunk, step in zip(chunks, cycle(steps), strict=False):
        conn.receive_data(chunk, now)
        now += step
        timer = conn.get_timer()
        if timer is not None and timer <= now:
            conn.handle_timer(now)
        for event in conn.events():
            events.append(event)
            if isinstance(event, AuthenticationRequested):
                conn.receive_zap_reply(ZapReply(zap_status), now)
        if talk and conn.state is not State.CLOSED:  # our side talks too: held, then flushed
            conn.send_message([chunk[:3], b"x" * 300])
            conn.subscribe(chunk[:2])
        conn.data_to_send()
    conn.receive_data(b"", now)  # the peer hangs up: the connection must end now
    events += conn.events()
    assert conn.state is State.CLOSED
    for event in events:
        assert type(event) in EVENT_TYPES
    closed = [index for index, event in enumerate(events) if isinstance(event, ConnectionClosed)]
    assert closed == [len(events) - 1]
    final = events[-1]
    assert isinstance(final, ConnectionClosed)
    assert isinstance(final.error, ZMTPError)
    label(f"reached traffic: {any(isinstance(e, HandshakeComplete) for e in events)}")
    label(f"closed by {type(final.error).__name__}")


# -- 3. memory is bounded by max_message_size ------------------------------------------------

# Sent after the fuzz: a LONG frame header announcing more than the limit, then a flood of
# 0xFF octets (reserved flag bits, so any decoder state ends within `limit + 9` of them). A
# decoder that buffered what the peer announced, or ignored the limit, would hold megabytes.
FLOOD = b"\xff" * (4 << 20)
PER_FUZZ_BYTE = 160  # decoded objects can cost this much per input byte (b"\x00\x00" messages)
MARGIN = 64 << 10


@settings(suppress_health_check=[HealthCheck.too_slow])
@example(
    limit=64,
    fuzz=b"",
    flags=0x02,
    excess=2**40,
    chunk_size=4096,
).via("a frame far over the limit straight after the handshake")
@example(
    limit=4096,
    fuzz=b"\x01\x00" * 500,
    flags=0x06,
    excess=1,
    chunk_size=1,
).via("byte-at-a-time, just over the limit, after many empty frames")
@given(
    limit=st.integers(32, 4096),
    fuzz=fuzz_streams,
    flags=st.sampled_from([0x02, 0x03, 0x06]),
    excess=st.one_of(st.integers(1, 1 << 20), st.integers(1, 2**62)),
    chunk_size=st.integers(1, 16384),
)
def test_decoder_memory_stays_within_max_message_size_and_one_chunk(
    limit: int, fuzz: bytes, flags: int, excess: int, chunk_size: int
) -> None:
    announced = limit + excess
    conn = Connection(ConnectionOptions(socket_type=SocketType.PAIR, max_message_size=limit))
    conn.start(0.0)
    conn.receive_data(greeting() + ready({"Socket-Type": b"PAIR"}), 0.0)
    conn.events()
    conn.data_to_send()
    head = fuzz + bytes((flags,)) + announced.to_bytes(8, "big")
    chunks = [head[i : i + chunk_size] for i in range(0, len(head), chunk_size)]
    flood = memoryview(FLOOD)
    budget = limit + chunk_size + MARGIN + PER_FUZZ_BYTE * len(fuzz)
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        fed = 0
        source: Iterator[bytes | memoryview] = iter(chunks)
        while conn.state is not State.CLOSED:
            chunk = next(source, None)
            if chunk is None:
                assert fed < len(FLOOD), "the flood was swallowed without closing"
                chunk = flood[fed : fed + chunk_size]
                fed += len(chunk)
            conn.receive_data(chunk, 0.0)
            conn.events()  # the caller consumes what was decoded
            conn.data_to_send()
        peak = tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()
    label(f"closed by {type(conn.error).__name__}, flood {'reached' if fed else 'not reached'}")
    assert peak <= budget, f"decoder held {peak} bytes; limit {limit}, chunks {chunk_size}"
    assert isinstance(conn.error, ZMTPError)
    if not fuzz:
        assert isinstance(conn.error, MessageTooLarge)
        assert fed == 0  # refused at the header, before a byte of the body


# -- 4. two connections deliver everything in order ----------------------------------------

subscription_like = st.builds(
    lambda prefix, topic: [prefix + topic],
    st.sampled_from([b"\x00", b"\x01"]),
    st.binary(max_size=8),
)
operations = st.one_of(
    st.tuples(st.just("send"), st.booleans(), st.one_of(messages, subscription_like)),
    st.tuples(st.just("pump"), st.booleans(), st.integers(1, 4)),
)


def expected_events(receiver: SocketType, sent: list[list[bytes]]) -> list[tuple[str, object]]:
    """What the receiver reports for ``sent``: PUB/XPUB read 0x01/0x00 messages as (un)subs."""
    expected: list[tuple[str, object]] = []
    for frames in sent:
        if receiver in READS_SUBSCRIPTIONS and len(frames) == 1 and frames[0][:1] == b"\x01":
            expected.append(("subscribe", frames[0][1:]))
        elif receiver in READS_SUBSCRIPTIONS and len(frames) == 1 and frames[0][:1] == b"\x00":
            expected.append(("cancel", frames[0][1:]))
        else:
            expected.append(("message", frames))
    return expected


def observed_events(events: list[object], peer: SocketType) -> list[tuple[str, object]]:
    assert isinstance(events[0], HandshakeComplete)
    assert events[0].peer_socket_type is peer
    observed: list[tuple[str, object]] = []
    for event in events[1:]:
        if isinstance(event, MessagesReceived):
            assert event.messages, "an empty MessagesReceived"
            observed += [("message", frames) for frames in event.messages]
        elif isinstance(event, SubscribeReceived):
            observed.append(("subscribe", event.topic))
        elif isinstance(event, CancelReceived):
            observed.append(("cancel", event.topic))
        else:
            raise AssertionError(f"unexpected event {event!r}")
    return observed


class Link:
    """Two connections and the bytes in flight each way, delivered in drawn chunk sizes."""

    def __init__(self, a: Connection, b: Connection, sizes: list[int]) -> None:
        self.ends = (a, b)
        self.in_flight = [b"", b""]
        self.sizes = cycle(sizes)
        self.events: list[list[object]] = [[], []]

    def pump(self, direction: int, chunks: int | None) -> int:
        """Deliver up to ``chunks`` chunks from end ``direction`` to the other (None: all).

        Return how many bytes moved.
        """
        source, sink = self.ends[direction], self.ends[1 - direction]
        moved = 0
        while chunks is None or chunks > 0:
            self.in_flight[direction] += source.data_to_send()
            if not self.in_flight[direction]:
                break
            size = next(self.sizes)
            chunk, self.in_flight[direction] = (
                self.in_flight[direction][:size],
                self.in_flight[direction][size:],
            )
            sink.receive_data(chunk, 0.0)
            moved += len(chunk)
            self.events[1 - direction] += sink.events()
            if chunks is not None:
                chunks -= 1
        return moved

    def settle(self) -> None:
        """Carry everything both ways until both ends are quiet."""
        while self.pump(0, None) + self.pump(1, None):
            pass


@example(
    pair=(SocketType.SUB, SocketType.PUB),
    plan=[("send", False, [b"\x01a", b"b"]), ("send", False, [b"\x01t"]), ("send", True, [b"x"])],
    sizes=[7],
).via("only a single-frame message is a subscription")
@given(
    pair=st.sampled_from(VALID_PAIRS),
    plan=st.lists(operations, min_size=3, max_size=25),
    sizes=st.lists(st.integers(1, 400), min_size=1, max_size=10),
)
def test_two_connections_deliver_every_message_in_order(
    pair: tuple[SocketType, SocketType],
    plan: list[tuple[str, bool, object]],
    sizes: list[int],
) -> None:
    a = Connection(ConnectionOptions(socket_type=pair[0]))
    b = Connection(ConnectionOptions(socket_type=pair[1]))
    a.start(0.0)
    b.start(0.0)
    link = Link(a, b, sizes)
    sent: list[list[list[bytes]]] = [[], []]
    for operation, from_b, argument in plan:
        direction = int(from_b)
        if operation == "send":
            link.ends[direction].send_message(argument)  # type: ignore[arg-type]
            sent[direction].append(argument)  # type: ignore[arg-type]
        else:
            link.pump(direction, argument)  # type: ignore[arg-type]
    link.settle()
    assert a.state is State.TRAFFIC
    assert b.state is State.TRAFFIC
    label(f"messages sent: {min(len(sent[0]) + len(sent[1]), 10)}+")
    for receiver in (0, 1):
        sender = 1 - receiver
        assert observed_events(link.events[receiver], pair[sender]) == expected_events(
            pair[receiver], sent[sender]
        )
