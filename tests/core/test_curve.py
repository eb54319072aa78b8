"""Tests of the CURVE mechanism (RFC 25/26, libzmq 4.3.5 layouts) between sans-IO Connections.

Two kinds of peer are used: a real :class:`Connection` on each side, and :class:`HandClient`, a
CURVE client written here from RFC 26 on top of :mod:`zmtp.curve_box`. The hand client knows
every key it uses, so its tests can open the server's boxes and build commands the real client
never would (a vouch for another key, a low-order key).
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zmtp import z85
from zmtp.connection import Connection, ConnectionOptions, State
from zmtp.constants import Event as MonitorEvent
from zmtp.constants import SocketType
from zmtp.curve_box import open_box, seal, shared_key
from zmtp.curve_keys import curve_keypair
from zmtp.errors import (
    ZMTP_CRYPTOGRAPHIC,
    ZMTP_INVALID_SEQUENCE,
    ZMTP_MALFORMED_COMMAND_HELLO,
    ZMTP_MALFORMED_COMMAND_MESSAGE,
    ZMTP_MALFORMED_COMMAND_WELCOME,
    AuthenticationFailed,
    CryptographicError,
    MalformedCommand,
    PeerRefused,
    ProtocolError,
    UnexpectedCommand,
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
from zmtp.frames import frame_header
from zmtp.greeting import GREETING_SIZE, Greeting
from zmtp.mechanisms.curve import CurveClient, CurveServer
from zmtp.metadata import Metadata
from zmtp.monitor import handshake_failure
from zmtp.zap import ZapReply, ZapRequest

pytestmark = pytest.mark.usefixtures("curve_backend")

T = SocketType
Frame = tuple[int, bytes]

MORE, LONG, COMMAND = 0x01, 0x02, 0x04
U64 = struct.Struct(">Q")
ZMTP_KEY_EXCHANGE = 0x10000003  # zmq.h ZMQ_PROTOCOL_ERROR_ZMTP_KEY_EXCHANGE
ZMTP_MALFORMED_COMMAND_INITIATE = 0x10000014  # zmq.h, not defined in zmtp.errors

DEALER_METADATA = Metadata([("Socket-Type", b"DEALER"), ("Identity", b"")])
PUB_METADATA = Metadata([("Socket-Type", b"PUB")])


def raw_keypair() -> tuple[bytes, bytes]:
    """A fresh (public, secret) pair as 32 raw bytes each, from the Z85 key generator."""
    public, secret = curve_keypair()
    return z85.decode(public), z85.decode(secret)


SERVER_PUBLIC, SERVER_SECRET = raw_keypair()
CLIENT_PUBLIC, CLIENT_SECRET = raw_keypair()


# -- wire helpers ----------------------------------------------------------------------------


def parse_frames(data: bytes) -> list[Frame]:
    """Split post-greeting bytes into (outer flags, body) pairs, LONG headers included."""
    frames: list[Frame] = []
    pos = 0
    while pos < len(data):
        flags = data[pos]
        if flags & LONG:
            (size,) = U64.unpack_from(data, pos + 1)
            pos += 9
        else:
            size = data[pos + 1]
            pos += 2
        assert pos + size <= len(data), "a Connection only ever writes whole frames"
        frames.append((flags, data[pos : pos + size]))
        pos += size
    return frames


def encode_frames(frames: list[Frame]) -> bytes:
    """Encode (flags, body) pairs; LONG is recomputed from the body's size."""
    return b"".join(frame_header(len(body), flags & ~LONG) + body for flags, body in frames)


def flip(body: bytes, offset: int) -> bytes:
    """Return ``body`` with the low bit of one byte inverted."""
    edited = bytearray(body)
    edited[offset] ^= 0x01
    return bytes(edited)


class Wire:
    """A Connection seen from the wire: greeting bytes apart, then frames with their flags."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.greeting_sent = 0
        self.pending: list[Frame] = []

    def take_greeting(self) -> bytes:
        """Return the greeting bytes written so far; frames after them are kept for out()."""
        data = self.conn.data_to_send()
        cut = max(0, GREETING_SIZE - self.greeting_sent)
        self.greeting_sent += len(data[:cut])
        self.pending += parse_frames(data[cut:])
        return data[:cut]

    def out(self) -> list[Frame]:
        """Return (and forget) every frame written after the greeting."""
        self.take_greeting()
        frames, self.pending = self.pending, []
        return frames

    def feed(self, frames: list[Frame], now: float = 0.0) -> None:
        """Deliver frames to this connection in one chunk."""
        self.conn.receive_data(encode_frames(frames), now)

    def command(self) -> bytes:
        """Return the one command frame written since last asked, checking its outer flags."""
        frames = self.out()
        assert len(frames) == 1, frames
        flags, body = frames[0]
        assert flags == (COMMAND | LONG if len(body) > 255 else COMMAND), frames
        return body


def curve_pair(
    *,
    server_key: bytes = SERVER_PUBLIC,
    zap_domain: bytes | None = None,
    client_type: SocketType = T.DEALER,
    server_type: SocketType = T.ROUTER,
    heartbeat: float = 0.0,
) -> tuple[Wire, Wire]:
    """A CURVE client and server Connection with their greetings exchanged."""
    cli = Connection(
        ConnectionOptions(socket_type=client_type, heartbeat_interval=heartbeat),
        CurveClient(server_key, CLIENT_PUBLIC, CLIENT_SECRET),
    )
    srv = Connection(
        ConnectionOptions(
            socket_type=server_type,
            routing_id=b"SRV",
            zap_domain=zap_domain,
            peer_address=b"10.0.0.1",
            heartbeat_interval=heartbeat,
        ),
        CurveServer(SERVER_SECRET),
    )
    cw, sw = Wire(cli), Wire(srv)
    cli.start(0.0)
    srv.start(0.0)
    moved = True
    while moved:
        moved = False
        for src, dst in ((cw, sw), (sw, cw)):
            greeting = src.take_greeting()
            if greeting:
                dst.conn.receive_data(greeting, 0.0)
                moved = True
    assert cli.state is State.HANDSHAKE and srv.state is State.HANDSHAKE
    return cw, sw


def relay(src: Wire, dst: Wire, edit: Callable[[bytes], bytes] | None = None) -> bytes:
    """Carry the one command ``src`` wrote to ``dst`` (edited); return it as written."""
    body = src.command()
    dst.feed([(COMMAND, edit(body) if edit else body)])
    return body


def established(**kwargs: object) -> tuple[Wire, Wire, list[bytes]]:
    """A client/server pair through READY; returns [HELLO, WELCOME, INITIATE, READY] too."""
    cw, sw = curve_pair(**kwargs)  # type: ignore[arg-type]
    bodies = [relay(cw, sw), relay(sw, cw), relay(cw, sw), relay(sw, cw)]
    for wire in (cw, sw):
        events = wire.conn.events()
        assert len(events) == 1 and isinstance(events[0], HandshakeComplete), events
        assert wire.conn.state is State.TRAFFIC
    return cw, sw, bodies


def closed_with(wire: Wire, error_type: type[ZMTPError]) -> ZMTPError:
    """Check the connection closed with ``error_type`` (or a subclass) and nothing was delivered."""
    events: list[Event] = wire.conn.events()
    assert events, "no event at all"
    assert not any(isinstance(e, MessagesReceived | HandshakeComplete) for e in events), events
    assert isinstance(events[-1], ConnectionClosed), events
    assert wire.conn.state is State.CLOSED
    error = events[-1].error
    assert isinstance(error, error_type), repr(error)
    return error


def messages(events: list[Event]) -> list[list[bytes]]:
    """Every message delivered by MessagesReceived events, in order."""
    return [m for e in events if isinstance(e, MessagesReceived) for m in e.messages]


# -- a CURVE client written from RFC 26, for boxes we must open or forge ----------------------


class HandClient:
    """A CURVE client whose every key is visible to the test."""

    def __init__(self, server_key: bytes = SERVER_PUBLIC) -> None:
        self.server_key = server_key
        self.short_public, self.short_secret = raw_keypair()
        self.server_short = b""
        self.cookie = b""
        self.key = b""

    def hello(self) -> bytes:
        nonce = U64.pack(1)
        box = seal(
            bytes(64),
            b"CurveZMQHELLO---" + nonce,
            shared_key(self.server_key, self.short_secret),
        )
        return b"\x05HELLO\x01\x00" + bytes(72) + self.short_public + nonce + box

    def welcome(self, body: bytes) -> None:
        plain = open_box(
            body[24:], b"WELCOME-" + body[8:24], shared_key(self.server_key, self.short_secret)
        )
        self.server_short, self.cookie = plain[:32], plain[32:]
        self.key = shared_key(self.server_short, self.short_secret)

    def initiate(
        self,
        metadata: Metadata = DEALER_METADATA,
        *,
        vouched_short: bytes | None = None,
        long_public: bytes = CLIENT_PUBLIC,
        long_secret: bytes = CLIENT_SECRET,
    ) -> bytes:
        vouch_nonce = os.urandom(16)
        vouched = self.short_public if vouched_short is None else vouched_short
        vouch = vouch_nonce + seal(
            vouched + self.server_key,
            b"VOUCH---" + vouch_nonce,
            shared_key(self.server_short, long_secret),
        )
        nonce = U64.pack(2)
        box = seal(long_public + vouch + metadata.encode(), b"CurveZMQINITIATE" + nonce, self.key)
        return b"\x08INITIATE" + self.cookie + nonce + box

    def ready(self, body: bytes) -> Metadata:
        assert body[:6] == b"\x05READY"
        return Metadata.decode(open_box(body[14:], b"CurveZMQREADY---" + body[6:14], self.key))

    def message(self, flags: int, payload: bytes, nonce: int) -> bytes:
        short = U64.pack(nonce)
        return (
            b"\x07MESSAGE"
            + short
            + seal(bytes((flags,)) + payload, b"CurveZMQMESSAGEC" + short, self.key)
        )

    def open_message(self, body: bytes) -> tuple[int, int, bytes]:
        """Return (nonce, inner flags, payload) of a server MESSAGE."""
        assert body[:8] == b"\x07MESSAGE"
        plain = open_box(body[16:], b"CurveZMQMESSAGES" + body[8:16], self.key)
        return U64.unpack(body[8:16])[0], plain[0], plain[1:]


def hand_server(
    *,
    zap_domain: bytes | None = None,
    socket_type: SocketType = T.ROUTER,
    heartbeat: float = 0.0,
) -> Wire:
    """A CURVE server Connection that has received a plain CURVE greeting."""
    srv = Connection(
        ConnectionOptions(
            socket_type=socket_type,
            routing_id=b"SRV",
            zap_domain=zap_domain,
            heartbeat_interval=heartbeat,
        ),
        CurveServer(SERVER_SECRET),
    )
    srv.start(0.0)
    wire = Wire(srv)
    srv.receive_data(Greeting(mechanism=b"CURVE").encode(), 0.0)
    assert wire.out() == []
    assert wire.greeting_sent == GREETING_SIZE
    return wire


def hand_handshake(
    *,
    socket_type: SocketType = T.ROUTER,
    metadata: Metadata = DEALER_METADATA,
    heartbeat: float = 0.0,
) -> tuple[HandClient, Wire]:
    """A hand client and a server Connection through READY."""
    hand = HandClient()
    sw = hand_server(socket_type=socket_type, heartbeat=heartbeat)
    sw.feed([(COMMAND, hand.hello())])
    hand.welcome(sw.command())
    sw.feed([(COMMAND, hand.initiate(metadata))])
    ready = sw.command()
    assert hand.ready(ready).get("Socket-Type") == socket_type.name.encode()
    events = sw.conn.events()
    assert len(events) == 1 and isinstance(events[0], HandshakeComplete), events
    return hand, sw


class HandServer:
    """A CURVE server written from RFC 26, to open and forge what a client Connection sees."""

    def __init__(self) -> None:
        self.short_public, self.short_secret = raw_keypair()
        self.client_short = b""
        self.key = b""

    def welcome(self, hello: bytes) -> bytes:
        self.client_short = hello[80:112]
        hello_key = shared_key(self.client_short, SERVER_SECRET)
        assert open_box(hello[120:], b"CurveZMQHELLO---" + hello[112:120], hello_key) == bytes(64)
        nonce = os.urandom(16)
        cookie = os.urandom(96)  # opaque to the client, which must echo it
        box = seal(self.short_public + cookie, b"WELCOME-" + nonce, hello_key)
        return b"\x07WELCOME" + nonce + box

    def ready(self, initiate: bytes, metadata: Metadata) -> tuple[bytes, bytes, Metadata]:
        """Check INITIATE; return (READY, the vouch's plaintext, the client's metadata)."""
        self.key = shared_key(self.client_short, self.short_secret)
        plain = open_box(initiate[113:], b"CurveZMQINITIATE" + initiate[105:113], self.key)
        assert plain[:32] == CLIENT_PUBLIC
        vouch = plain[32:128]
        vouched = open_box(
            vouch[16:], b"VOUCH---" + vouch[:16], shared_key(CLIENT_PUBLIC, self.short_secret)
        )
        nonce = U64.pack(1)
        ready = (
            b"\x05READY" + nonce + seal(metadata.encode(), b"CurveZMQREADY---" + nonce, self.key)
        )
        return ready, vouched, Metadata.decode(plain[128:])

    def message(self, flags: int, payload: bytes, nonce: int) -> bytes:
        short = U64.pack(nonce)
        box = seal(bytes((flags,)) + payload, b"CurveZMQMESSAGES" + short, self.key)
        return b"\x07MESSAGE" + short + box

    def open_message(self, body: bytes) -> tuple[int, int, bytes]:
        """Return (nonce, inner flags, payload) of a client MESSAGE."""
        assert body[:8] == b"\x07MESSAGE"
        plain = open_box(body[16:], b"CurveZMQMESSAGEC" + body[8:16], self.key)
        return U64.unpack(body[8:16])[0], plain[0], plain[1:]


ROUTER_METADATA = Metadata([("Socket-Type", b"ROUTER"), ("Identity", b"SRV")])


def hand_served(
    *,
    socket_type: SocketType = T.DEALER,
    server_metadata: Metadata = ROUTER_METADATA,
    heartbeat: float = 0.0,
) -> tuple[HandServer, Wire, bytes]:
    """A client Connection through READY from a hand server; returns the vouch plaintext."""
    cli = Connection(
        ConnectionOptions(socket_type=socket_type, heartbeat_interval=heartbeat),
        CurveClient(SERVER_PUBLIC, CLIENT_PUBLIC, CLIENT_SECRET),
    )
    cli.start(0.0)
    cw = Wire(cli)
    cli.receive_data(Greeting(mechanism=b"CURVE").encode(), 0.0)
    hand = HandServer()
    cw.feed([(COMMAND, hand.welcome(cw.command()))])
    initiate = cw.command()
    ready, vouched, metadata = hand.ready(initiate, server_metadata)
    assert metadata.get("Socket-Type") == socket_type.name.encode()
    cw.feed([(COMMAND, ready)])
    events = cw.conn.events()
    assert len(events) == 1 and isinstance(events[0], HandshakeComplete), events
    return hand, cw, vouched


# -- the happy path and byte layouts ----------------------------------------------------------


def test_keys_are_32_raw_bytes_from_z85() -> None:
    """The Z85 key pair decodes to 32-byte keys the mechanisms accept."""
    assert len(SERVER_PUBLIC) == len(SERVER_SECRET) == 32
    CurveClient(SERVER_PUBLIC, CLIENT_PUBLIC, CLIENT_SECRET)
    CurveServer(SERVER_SECRET)


def test_mechanisms_refuse_keys_that_are_not_32_bytes() -> None:
    """A 40-character Z85 key passed where raw bytes belong is a ValueError, not a bad handshake."""
    z85_key = z85.encode(SERVER_PUBLIC)
    with pytest.raises(ValueError, match="32 bytes"):
        CurveClient(z85_key, CLIENT_PUBLIC, CLIENT_SECRET)
    with pytest.raises(ValueError, match="32 bytes"):
        CurveServer(SERVER_SECRET[:31])


def test_greetings_announce_curve() -> None:
    """Both sides put CURVE in their greeting and see the peer's."""
    cw, sw = curve_pair()
    assert cw.conn.peer_greeting is not None and cw.conn.peer_greeting.mechanism == b"CURVE"
    assert sw.conn.peer_greeting is not None and sw.conn.peer_greeting.mechanism == b"CURVE"


def test_handshake_completes_with_metadata_both_ways() -> None:
    """Two Connections finish HELLO/WELCOME/INITIATE/READY and learn each other's metadata."""
    cw, sw, _ = established()
    assert cw.conn.peer_socket_type is T.ROUTER
    assert cw.conn.peer_metadata is not None
    assert cw.conn.peer_metadata.get("Identity") == b"SRV"
    assert sw.conn.peer_socket_type is T.DEALER
    assert cw.conn.error is None and sw.conn.error is None


def test_hello_layout() -> None:
    """HELLO is 200 bytes: name, version 1.0, 72 zeros, C', nonce 1, an 80-byte box."""
    cw, _ = curve_pair()
    hello = cw.command()
    assert len(hello) == 200
    assert hello[:8] == b"\x05HELLO\x01\x00"
    assert hello[8:80] == bytes(72)
    assert hello[80:112] not in (CLIENT_PUBLIC, bytes(32))  # C' is a fresh short-term key
    assert hello[112:120] == U64.pack(1)
    key = shared_key(hello[80:112], SERVER_SECRET)
    assert open_box(hello[120:], b"CurveZMQHELLO---" + hello[112:120], key) == bytes(64)


def test_short_term_keys_differ_per_connection() -> None:
    """Each connection makes a new C' (forward secrecy)."""
    first, _ = curve_pair()
    second, _ = curve_pair()
    assert first.command()[80:112] != second.command()[80:112]


def test_welcome_initiate_ready_layouts() -> None:
    """WELCOME is 168; INITIATE >= 257 carries the cookie verbatim and nonce 2; READY nonce 1."""
    cw, sw = curve_pair()
    hello = relay(cw, sw)
    welcome = relay(sw, cw)
    initiate = relay(cw, sw)
    ready = relay(sw, cw)
    assert len(welcome) == 168 and welcome[:8] == b"\x07WELCOME"
    client_short = hello[80:112]
    assert initiate[:9] == b"\x08INITIATE"
    assert len(initiate) >= 257
    assert initiate[105:113] == U64.pack(2)
    assert ready[:6] == b"\x05READY" and len(ready) >= 30
    assert ready[6:14] == U64.pack(1)
    # The server, which knows s, can open WELCOME; the cookie must reappear verbatim.
    plain = open_box(
        welcome[24:], b"WELCOME-" + welcome[8:24], shared_key(client_short, SERVER_SECRET)
    )
    assert len(plain) == 128
    cookie = plain[32:]
    assert initiate[9:105] == cookie
    assert cw.conn.state is State.TRAFFIC and sw.conn.state is State.TRAFFIC


def test_multipart_messages_both_ways_arrive_intact() -> None:
    """Multipart messages, empty and long frames included, cross boxed and come out equal."""
    cw, sw, _ = established()
    sent_c = [[b"a", b"", b"c" * 300], [b"single"]]
    sent_s = [[b"reply", b"x" * 1000], [b""]]
    for message in sent_c:
        cw.conn.send_message(message)
    for message in sent_s:
        sw.conn.send_message(message)
    sw.feed(cw.out())
    cw.feed(sw.out())
    assert messages(sw.conn.events()) == sent_c
    assert messages(cw.conn.events()) == sent_s


def test_traffic_is_one_message_command_per_frame_without_outer_command_flag() -> None:
    """After READY each frame is its own MESSAGE, outer flags 0x00 or 0x02, never 0x04/MORE."""
    cw, sw, _ = established()
    cw.conn.send_message([b"a", b"b" * 300, b"c"])
    sw.conn.send_message([b"d" * 300, b"e"])
    client_frames, server_frames = cw.out(), sw.out()
    assert len(client_frames) == 3 and len(server_frames) == 2
    for flags, body in client_frames + server_frames:
        assert body[:8] == b"\x07MESSAGE"
        assert flags == (LONG if len(body) > 255 else 0x00)
    assert [U64.unpack(body[8:16])[0] for _, body in client_frames] == [3, 4, 5]
    assert [U64.unpack(body[8:16])[0] for _, body in server_frames] == [2, 3]
    sw.feed(client_frames)
    cw.feed(server_frames)
    assert messages(sw.conn.events()) == [[b"a", b"b" * 300, b"c"]]
    assert messages(cw.conn.events()) == [[b"d" * 300, b"e"]]


def test_payload_is_not_in_clear_on_the_wire() -> None:
    """A recognisable payload never appears in the bytes written after the handshake."""
    cw, _, _ = established()
    secret = b"attack at dawn, attack at dawn"
    cw.conn.send_message([secret])
    data = cw.conn.data_to_send()
    assert data and secret not in data


def test_messages_sent_before_the_handshake_go_out_boxed_from_nonce_3() -> None:
    """A backlog queued during the handshake is boxed after READY, client nonces from 3."""
    cw, sw = curve_pair()
    cw.conn.send_message([b"early", b"bird"])
    sw.conn.send_message([b"server", b"early"])
    relay(cw, sw)
    relay(sw, cw)
    relay(cw, sw)
    ready, *server_messages = sw.out()
    assert ready[0] == COMMAND and ready[1][:6] == b"\x05READY"
    assert [U64.unpack(b[8:16])[0] for _, b in server_messages] == [2, 3]
    cw.feed([ready, *server_messages])
    client_messages = cw.out()
    assert [U64.unpack(b[8:16])[0] for _, b in client_messages] == [3, 4]
    assert all(flags == 0 for flags, _ in client_messages)
    sw.feed(client_messages)
    assert messages(cw.conn.events()) == [[b"server", b"early"]]
    assert messages(sw.conn.events()) == [[b"early", b"bird"]]


def test_hand_client_opens_server_messages_with_inner_more_flags() -> None:
    """Server MESSAGEs open under beforenm(S', c'), prefix ...S; inner flags 0x01 then 0x00."""
    hand, sw = hand_handshake()
    sw.conn.send_message([b"one", b"two"])
    frames = sw.out()
    opened = [hand.open_message(body) for flags, body in frames]
    assert all(flags == 0 for flags, _ in frames)
    assert opened == [(2, 0x01, b"one"), (3, 0x00, b"two")]


def test_hand_client_messages_reach_the_server() -> None:
    """MESSAGEs boxed by an independent client, nonce prefix C, are delivered frame by frame."""
    hand, sw = hand_handshake()
    sw.feed([(0, hand.message(0x01, b"x", 3)), (0, hand.message(0x00, b"y", 4))])
    sw.feed([(0, hand.message(0x00, b"", 7))])  # gaps in the nonces are fine
    assert messages(sw.conn.events()) == [[b"x", b"y"], [b""]]


def test_smallest_message_is_33_bytes_and_accepted() -> None:
    """An empty frame makes a 33-byte MESSAGE, which is valid."""
    hand, sw = hand_handshake()
    body = hand.message(0x00, b"", 3)
    assert len(body) == 33
    sw.feed([(0, body)])
    assert messages(sw.conn.events()) == [[b""]]


def test_server_ping_travels_as_message_with_inner_command_flag() -> None:
    """The heartbeat PING is a MESSAGE (outer 0x00) whose inner flags are 0x02."""
    hand, sw = hand_handshake(heartbeat=1.0)
    sw.conn.handle_timer(1.0)
    frames = sw.out()
    assert len(frames) == 1
    flags, body = frames[0]
    assert flags == 0x00
    assert hand.open_message(body) == (2, 0x02, b"\x04PING\x00\x00")


def test_server_answers_a_boxed_ping_with_a_boxed_pong() -> None:
    """A PING inside a MESSAGE gets a PONG inside a MESSAGE, context echoed, inner flags 0x02."""
    hand, sw = hand_handshake()
    sw.feed([(0, hand.message(0x02, b"\x04PING\x00\x00ctx", 3))])
    frames = sw.out()
    assert len(frames) == 1 and frames[0][0] == 0x00
    assert hand.open_message(frames[0][1]) == (2, 0x02, b"\x04PONGctx")
    assert sw.conn.events() == []


def test_server_subscribe_travels_as_message_with_inner_command_flag() -> None:
    """A SUB server's SUBSCRIBE is boxed with inner flags 0x02 and the 3.1 command body."""
    hand, sw = hand_handshake(socket_type=T.SUB, metadata=PUB_METADATA)
    sw.conn.subscribe(b"topic")
    sw.conn.cancel(b"topic")
    frames = sw.out()
    assert [flags for flags, _ in frames] == [0x00, 0x00]
    assert [hand.open_message(body) for _, body in frames] == [
        (2, 0x02, b"\x09SUBSCRIBEtopic"),
        (3, 0x02, b"\x06CANCELtopic"),
    ]


def test_client_ping_pong_round_trip_between_connections() -> None:
    """handle_timer makes the client PING boxed; the server PONGs boxed; nobody fails."""
    cw, sw, _ = established(heartbeat=1.0)
    cw.conn.handle_timer(1.0)
    ping = cw.out()
    assert len(ping) == 1
    assert ping[0][0] == 0x00 and ping[0][1][:8] == b"\x07MESSAGE"
    assert U64.unpack(ping[0][1][8:16])[0] == 3
    sw.feed(ping, 1.0)
    pong = sw.out()
    assert len(pong) == 1
    assert pong[0][0] == 0x00 and pong[0][1][:8] == b"\x07MESSAGE"
    cw.feed(pong, 1.5)
    # The PONG cleared the heartbeat deadline: at 2.0 the client pings again, not times out.
    cw.conn.handle_timer(2.0)
    assert cw.conn.state is State.TRAFFIC and sw.conn.state is State.TRAFFIC
    assert cw.conn.events() == [] and sw.conn.events() == []
    assert len(cw.out()) == 1


def test_client_subscribe_reaches_a_pub_server_as_subscribe_received() -> None:
    """A SUB client's SUBSCRIBE/CANCEL travel as MESSAGE (outer 0x00) and surface as events."""
    cw, sw, _ = established(client_type=T.SUB, server_type=T.PUB)
    cw.conn.subscribe(b"news")
    cw.conn.cancel(b"news")
    frames = cw.out()
    assert [flags for flags, _ in frames] == [0x00, 0x00]
    assert all(body[:8] == b"\x07MESSAGE" for _, body in frames)
    sw.feed(frames)
    assert sw.conn.events() == [SubscribeReceived(b"news"), CancelReceived(b"news")]


@pytest.mark.parametrize("direction", ["to_server", "to_client"])
def test_message_with_outer_command_flag_is_accepted(direction: str) -> None:
    """A MESSAGE sent as a command frame (outer 0x04) is still opened and delivered."""
    cw, sw, _ = established()
    src, dst = (cw, sw) if direction == "to_server" else (sw, cw)
    src.conn.send_message([b"part1", b"part2"])
    dst.feed([(COMMAND, body) for _, body in src.out()])
    assert messages(dst.conn.events()) == [[b"part1", b"part2"]]
    assert dst.conn.state is State.TRAFFIC


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.lists(st.binary(max_size=300), min_size=1, max_size=4),
        min_size=1,
        max_size=4,
    )
)
def test_any_messages_round_trip(sent: list[list[bytes]]) -> None:
    """Whatever multipart messages the client sends, the server receives them unchanged."""
    cw, sw, _ = established()
    for message in sent:
        cw.conn.send_message(message)
    sw.feed(cw.out())
    assert messages(sw.conn.events()) == sent


def test_client_vouch_is_short_key_and_server_key() -> None:
    """The client's vouch, opened with (C, s'), is C' followed by S, as RFC 26 says."""
    hand, _, vouched = hand_served()
    assert vouched == hand.client_short + SERVER_PUBLIC


def test_client_messages_open_with_prefix_c_from_nonce_3() -> None:
    """Client MESSAGEs open under beforenm(C', s'), prefix ...C, nonces 3, 4; MORE 0x01, 0x00."""
    hand, cw, _ = hand_served()
    cw.conn.send_message([b"one", b"two"])
    frames = cw.out()
    assert all(flags == 0 for flags, _ in frames)
    assert [hand.open_message(body) for _, body in frames] == [(3, 0x01, b"one"), (4, 0x00, b"two")]


def test_client_ping_and_subscribe_have_inner_command_flag() -> None:
    """A client's PING and SUBSCRIBE are MESSAGEs (outer 0x00) with inner flags 0x02."""
    hand, cw, _ = hand_served(socket_type=T.SUB, server_metadata=PUB_METADATA, heartbeat=1.0)
    cw.conn.subscribe(b"t")
    cw.conn.handle_timer(1.0)
    frames = cw.out()
    assert [flags for flags, _ in frames] == [0x00, 0x00]
    assert [hand.open_message(body) for _, body in frames] == [
        (3, 0x02, b"\x09SUBSCRIBEt"),
        (4, 0x02, b"\x04PING\x00\x00"),
    ]


def test_client_accepts_hand_server_messages_from_nonce_2() -> None:
    """Server MESSAGEs boxed independently, nonce 2 on, are delivered to the client."""
    hand, cw, _ = hand_served()
    cw.feed([(0, hand.message(0x01, b"a", 2)), (0, hand.message(0x00, b"b", 5))])
    assert messages(cw.conn.events()) == [[b"a", b"b"]]


def test_client_refuses_a_message_reusing_the_ready_nonce() -> None:
    """Server nonce 1 was READY's: a well-boxed MESSAGE carrying it is refused."""
    hand, cw, _ = hand_served()
    cw.feed([(0, hand.message(0x00, b"dup", 1))])
    closed_with(cw, CryptographicError)


def test_cookie_sealed_by_the_server_but_for_another_client_is_refused() -> None:
    """White box: a cookie that opens under this connection's cookie key but names another C'."""
    cw, sw = curve_pair()
    relay(cw, sw)
    relay(sw, cw)
    cookie_key = sw.conn.mechanism._cookie_key  # type: ignore[attr-defined]
    short_secret = sw.conn.mechanism._short_secret  # type: ignore[attr-defined]
    other_short, _ = raw_keypair()
    nonce = os.urandom(16)
    forged = nonce + seal(other_short + short_secret, b"COOKIE--" + nonce, cookie_key)
    relay(cw, sw, lambda body: body[:9] + forged + body[105:])
    closed_with(sw, CryptographicError)
    assert sw.out() == []


# -- the handshake refused ------------------------------------------------------------------


@pytest.mark.parametrize("offset", [80, 111, 112, 119, 120, 135, 136, 160, 199])
def test_tampered_hello_is_a_cryptographic_error(offset: int) -> None:
    """Flipping a bit of C', the nonce or the box makes HELLO fail to open; no WELCOME."""
    cw, sw = curve_pair()
    relay(cw, sw, lambda body: flip(body, offset))
    closed_with(sw, CryptographicError)
    assert sw.out() == []


@pytest.mark.parametrize("size", [199, 201])
def test_hello_of_wrong_size_is_malformed(size: int) -> None:
    """HELLO must be exactly 200 bytes: MalformedCommand with libzmq's HELLO code."""
    cw, sw = curve_pair()
    relay(cw, sw, lambda body: body[:size] + bytes(max(0, size - len(body))))
    error = closed_with(sw, MalformedCommand)
    assert isinstance(error, MalformedCommand)
    assert error.code == ZMTP_MALFORMED_COMMAND_HELLO
    assert sw.out() == []


@pytest.mark.parametrize("version", [b"\x02\x00", b"\x01\x01", b"\x00\x00"])
def test_hello_version_other_than_1_0_is_malformed(version: bytes) -> None:
    """HELLO version must be 1.0; 2.0 (or 1.1) is refused with the HELLO code."""
    cw, sw = curve_pair()
    relay(cw, sw, lambda body: body[:6] + version + body[8:])
    error = closed_with(sw, MalformedCommand)
    assert isinstance(error, MalformedCommand)
    assert error.code == ZMTP_MALFORMED_COMMAND_HELLO


def test_hello_with_low_order_short_key_is_a_cryptographic_error() -> None:
    """A C' of all zeros (a low-order point) cannot make a shared key: CryptographicError."""
    hand = HandClient()
    hello = hand.hello()
    sw = hand_server()
    sw.feed([(COMMAND, hello[:80] + bytes(32) + hello[112:])])
    closed_with(sw, CryptographicError)


def test_client_with_wrong_server_key_fails_on_the_server() -> None:
    """A client holding the wrong S makes a HELLO the server cannot open."""
    wrong_public, _ = raw_keypair()
    cw, sw = curve_pair(server_key=wrong_public)
    relay(cw, sw)
    error = closed_with(sw, CryptographicError)
    assert handshake_failure(error) == (MonitorEvent.HANDSHAKE_FAILED_PROTOCOL, ZMTP_CRYPTOGRAPHIC)
    assert sw.out() == []
    assert cw.conn.events() == []


@pytest.mark.parametrize("offset", [8, 23, 24, 39, 40, 100, 167])
def test_tampered_welcome_is_a_cryptographic_error(offset: int) -> None:
    """Flipping a bit of WELCOME's nonce or box: the client fails and sends no INITIATE."""
    cw, sw = curve_pair()
    relay(cw, sw)
    relay(sw, cw, lambda body: flip(body, offset))
    closed_with(cw, CryptographicError)
    assert cw.out() == []


@pytest.mark.parametrize("size", [167, 169])
def test_welcome_of_wrong_size_is_malformed(size: int) -> None:
    """WELCOME must be exactly 168 bytes: MalformedCommand with libzmq's WELCOME code."""
    cw, sw = curve_pair()
    relay(cw, sw)
    relay(sw, cw, lambda body: body[:size] + bytes(max(0, size - len(body))))
    error = closed_with(cw, MalformedCommand)
    assert isinstance(error, MalformedCommand)
    assert error.code == ZMTP_MALFORMED_COMMAND_WELCOME
    assert cw.out() == []


@pytest.mark.parametrize("offset", [9, 24, 25, 60, 104])
def test_tampered_cookie_is_a_cryptographic_error(offset: int) -> None:
    """Flipping a bit of the cookie in INITIATE: the server cannot open it; no READY."""
    cw, sw = curve_pair()
    relay(cw, sw)
    relay(sw, cw)
    relay(cw, sw, lambda body: flip(body, offset))
    closed_with(sw, CryptographicError)
    assert sw.out() == []


def test_cookie_from_another_connection_is_refused() -> None:
    """An INITIATE carrying the cookie another connection was given (expired) is refused."""
    cw1, sw1 = curve_pair()
    cw2, sw2 = curve_pair()
    for cw, sw in ((cw1, sw1), (cw2, sw2)):
        relay(cw, sw)
        relay(sw, cw)
    other_cookie = cw2.command()[9:105]
    relay(cw1, sw1, lambda body: body[:9] + other_cookie + body[105:])
    closed_with(sw1, CryptographicError)
    assert sw1.out() == []


def test_whole_initiate_of_another_connection_is_refused() -> None:
    """Replaying a complete, valid INITIATE on another connection fails on the cookie."""
    cw1, sw1 = curve_pair()
    cw2, sw2 = curve_pair()
    for cw, sw in ((cw1, sw1), (cw2, sw2)):
        relay(cw, sw)
        relay(sw, cw)
    cw1.command()
    sw1.feed([(COMMAND, cw2.command())])
    closed_with(sw1, CryptographicError)
    assert sw1.out() == []


@pytest.mark.parametrize("offset", [105, 112, 113, 129, 130, 200, -1])
def test_tampered_initiate_box_is_a_cryptographic_error(offset: int) -> None:
    """Flipping a bit of INITIATE's nonce or box: the server refuses it; no READY."""
    cw, sw = curve_pair()
    relay(cw, sw)
    relay(sw, cw)
    relay(cw, sw, lambda body: flip(body, offset % len(body)))
    closed_with(sw, CryptographicError)
    assert sw.out() == []


def test_hand_built_initiate_is_accepted() -> None:
    """Control for the forged INITIATEs below: the hand client's own INITIATE gets READY."""
    _, sw = hand_handshake()
    assert sw.conn.peer_metadata is not None
    assert sw.conn.peer_metadata.get("Socket-Type") == b"DEALER"


def test_vouch_for_another_short_term_key_is_refused() -> None:
    """A vouch that opens but names a C' other than this connection's is refused."""
    hand = HandClient()
    sw = hand_server()
    sw.feed([(COMMAND, hand.hello())])
    hand.welcome(sw.command())
    other_short, _ = raw_keypair()
    sw.feed([(COMMAND, hand.initiate(vouched_short=other_short))])
    error = closed_with(sw, CryptographicError)
    assert isinstance(error, ProtocolError)
    assert sw.out() == []


def test_vouch_for_another_short_term_key_reports_key_exchange_code() -> None:
    """The monitor value for a vouch naming the wrong C' is libzmq's KEY_EXCHANGE code."""
    hand = HandClient()
    sw = hand_server()
    sw.feed([(COMMAND, hand.hello())])
    hand.welcome(sw.command())
    other_short, _ = raw_keypair()
    sw.feed([(COMMAND, hand.initiate(vouched_short=other_short))])
    assert handshake_failure(sw.conn.error)[1] == ZMTP_KEY_EXCHANGE


def test_vouch_not_made_with_the_announced_long_term_key_is_refused() -> None:
    """INITIATE naming C but vouched with another secret fails to open the vouch."""
    hand = HandClient()
    sw = hand_server()
    sw.feed([(COMMAND, hand.hello())])
    hand.welcome(sw.command())
    _, other_secret = raw_keypair()
    sw.feed([(COMMAND, hand.initiate(long_secret=other_secret))])
    closed_with(sw, CryptographicError)
    assert sw.out() == []


def test_low_order_long_term_key_in_initiate_is_refused() -> None:
    """A client long-term key of all zeros cannot open a vouch: CryptographicError."""
    hand = HandClient()
    sw = hand_server()
    sw.feed([(COMMAND, hand.hello())])
    hand.welcome(sw.command())
    sw.feed([(COMMAND, hand.initiate(long_public=bytes(32)))])
    closed_with(sw, CryptographicError)


def test_short_initiate_is_malformed() -> None:
    """An INITIATE below 257 bytes is a MalformedCommand."""
    cw, sw = curve_pair()
    relay(cw, sw)
    relay(sw, cw)
    relay(cw, sw, lambda body: body[:256])
    closed_with(sw, MalformedCommand)


def test_short_initiate_reports_the_initiate_code() -> None:
    """The monitor value for a short INITIATE is libzmq's MALFORMED_COMMAND_INITIATE."""
    cw, sw = curve_pair()
    relay(cw, sw)
    relay(sw, cw)
    relay(cw, sw, lambda body: body[:256])
    assert handshake_failure(sw.conn.error)[1] == ZMTP_MALFORMED_COMMAND_INITIATE


@pytest.mark.parametrize("offset", [6, 13, 14, 29, 30, -1])
def test_tampered_ready_is_a_cryptographic_error(offset: int) -> None:
    """Flipping a bit of READY's nonce or box: the client fails; messages behind it stay out."""
    cw, sw = curve_pair()
    sw.conn.send_message([b"must", b"not arrive"])
    relay(cw, sw)
    relay(sw, cw)
    relay(cw, sw)
    (ready_flags, ready), *rest = sw.out()
    assert ready_flags == COMMAND and ready[:6] == b"\x05READY" and rest
    cw.feed([(COMMAND, flip(ready, offset % len(ready))), *rest])
    closed_with(cw, CryptographicError)
    assert cw.out() == []


def test_unexpected_command_instead_of_hello_is_refused() -> None:
    """A server that gets INITIATE first refuses it as an unexpected command."""
    _, sw = curve_pair()
    sw.feed([(COMMAND, b"\x08INITIATE" + bytes(300))])
    closed_with(sw, UnexpectedCommand)


def test_second_hello_is_refused() -> None:
    """After WELCOME the server expects INITIATE: a repeated HELLO is refused."""
    cw, sw = curve_pair()
    hello = relay(cw, sw)
    sw.command()
    sw.feed([(COMMAND, hello)])
    closed_with(sw, UnexpectedCommand)


# -- ZAP ----------------------------------------------------------------------------------


def zap_pending() -> tuple[Wire, Wire, ZapRequest]:
    """A pair whose server has decrypted INITIATE and asked ZAP; no READY yet."""
    cw, sw = curve_pair(zap_domain=b"global")
    relay(cw, sw)
    relay(sw, cw)
    relay(cw, sw)
    assert sw.out() == []
    events = sw.conn.events()
    assert len(events) == 1 and isinstance(events[0], AuthenticationRequested), events
    return cw, sw, events[0].request


def test_zap_request_carries_the_client_long_term_key() -> None:
    """The ZAP request names mechanism CURVE and has one credential: the client's C."""
    _, _, request = zap_pending()
    assert request.mechanism == b"CURVE"
    assert request.credentials == (CLIENT_PUBLIC,)
    assert request == ZapRequest(b"global", b"10.0.0.1", b"SRV", b"CURVE", (CLIENT_PUBLIC,))


def test_zap_200_sends_ready_and_sets_user_id() -> None:
    """ZAP 200: READY goes out and the reply's User-Id is in the server's peer metadata."""
    cw, sw, _ = zap_pending()
    sw.conn.receive_zap_reply(ZapReply(b"200", b"OK", b"alice"), 0.0)
    relay(sw, cw)
    events = sw.conn.events()
    assert len(events) == 1 and isinstance(events[0], HandshakeComplete)
    assert events[0].user_id == b"alice"
    assert sw.conn.peer_metadata is not None
    assert sw.conn.peer_metadata.get("User-Id") == b"alice"
    assert isinstance(cw.conn.events()[0], HandshakeComplete)
    cw.conn.send_message([b"hi"])
    sw.feed(cw.out())
    assert messages(sw.conn.events()) == [[b"hi"]]


def test_zap_400_sends_error_and_the_client_fails_with_peer_refused() -> None:
    """ZAP 400: the server sends ERROR "400" in clear and closes; the client gets PeerRefused."""
    cw, sw, _ = zap_pending()
    sw.conn.receive_zap_reply(ZapReply(b"400", b"No access"), 0.0)
    error_body = relay(sw, cw)
    assert error_body == b"\x05ERROR\x03400"
    closed_with(sw, AuthenticationFailed)
    refused = closed_with(cw, PeerRefused)
    assert isinstance(refused, PeerRefused) and refused.reason == b"400"
    assert handshake_failure(refused) == (MonitorEvent.HANDSHAKE_FAILED_AUTH, 400)


def test_zap_300_sends_nothing() -> None:
    """ZAP 300: nothing is sent and the handshake simply stalls (libzmq)."""
    cw, sw, _ = zap_pending()
    sw.conn.receive_zap_reply(ZapReply(b"300", b"Try later"), 0.0)
    assert sw.out() == []
    assert sw.conn.events() == [] and sw.conn.state is State.HANDSHAKE
    assert cw.conn.events() == [] and cw.conn.state is State.HANDSHAKE


# -- traffic refused ------------------------------------------------------------------------


def test_replayed_message_is_a_cryptographic_error() -> None:
    """The same MESSAGE bytes delivered twice: the second is refused and not delivered."""
    cw, sw, _ = established()
    cw.conn.send_message([b"pay 100"])
    frames = cw.out()
    sw.feed(frames)
    sw.feed(frames)
    events = sw.conn.events()
    assert messages(events) == [[b"pay 100"]]
    assert isinstance(events[-1], ConnectionClosed)
    assert isinstance(events[-1].error, CryptographicError)
    assert sw.conn.state is State.CLOSED


def test_replayed_message_reports_the_invalid_sequence_code() -> None:
    """The monitor value for a replayed MESSAGE nonce is libzmq's INVALID_SEQUENCE."""
    cw, sw, _ = established()
    cw.conn.send_message([b"pay 100"])
    frames = cw.out()
    sw.feed(frames)
    sw.feed(frames)
    assert handshake_failure(sw.conn.error)[1] == ZMTP_INVALID_SEQUENCE


def test_out_of_order_message_is_refused() -> None:
    """Nonce 4 before 3 is fine (gaps are allowed), but the late 3 is then refused."""
    cw, sw, _ = established()
    cw.conn.send_message([b"first"])
    cw.conn.send_message([b"second"])
    first, second = cw.out()
    assert U64.unpack(second[1][8:16])[0] == 4
    sw.feed([second])
    sw.feed([first])
    events = sw.conn.events()
    assert messages(events) == [[b"second"]]
    assert isinstance(events[-1], ConnectionClosed)
    assert isinstance(events[-1].error, CryptographicError)


def test_replayed_message_to_the_client_is_refused() -> None:
    """The client checks server nonces too: a replayed server MESSAGE is refused."""
    cw, sw, _ = established()
    sw.conn.send_message([b"x"])
    frames = sw.out()
    cw.feed(frames + frames)
    events = cw.conn.events()
    assert messages(events) == [[b"x"]]
    assert isinstance(events[-1], ConnectionClosed)
    assert isinstance(events[-1].error, CryptographicError)


def test_message_reusing_the_initiate_nonce_is_refused() -> None:
    """Client nonce 2 was INITIATE's: a MESSAGE carrying it is refused, even if well boxed."""
    hand, sw = hand_handshake()
    sw.feed([(0, hand.message(0x00, b"dup", 2))])
    events = sw.conn.events()
    assert messages(events) == []
    assert isinstance(events[-1], ConnectionClosed)
    assert isinstance(events[-1].error, CryptographicError)


@pytest.mark.parametrize("offset", [8, 15, 16, 31, 32, 33, -1])
def test_tampered_message_is_refused(offset: int) -> None:
    """Flipping a bit of a MESSAGE's nonce or box: refused, nothing delivered."""
    cw, sw, _ = established()
    cw.conn.send_message([b"payload bytes"])
    ((flags, body),) = cw.out()
    sw.feed([(flags, flip(body, offset % len(body)))])
    closed_with(sw, CryptographicError)


def test_tampered_message_does_not_burn_its_nonce_for_the_genuine_one() -> None:
    """A forged MESSAGE is refused before its nonce counts: the connection ends, not the nonce."""
    hand, sw = hand_handshake()
    genuine = hand.message(0x00, b"real", 3)
    sw.feed([(0, flip(genuine, len(genuine) - 1))])
    closed_with(sw, CryptographicError)
    sw.feed([(0, genuine)])  # the connection is closed: nothing more is processed
    assert sw.conn.events() == []


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_any_single_bit_flip_in_a_message_is_refused(data: st.DataObject) -> None:
    """Wherever a MESSAGE is altered, the connection closes with a ProtocolError, undelivered."""
    cw, sw, _ = established()
    cw.conn.send_message([b"hello world"])
    ((flags, body),) = cw.out()
    offset = data.draw(st.integers(0, len(body) - 1))
    bit = data.draw(st.integers(0, 7))
    edited = bytearray(body)
    edited[offset] ^= 1 << bit
    sw.feed([(flags, bytes(edited))])
    events = sw.conn.events()
    assert messages(events) == []
    assert isinstance(events[-1], ConnectionClosed)
    assert isinstance(events[-1].error, ProtocolError)


@pytest.mark.parametrize("size", [16, 17, 32])
def test_message_shorter_than_33_bytes_is_malformed(size: int) -> None:
    """A MESSAGE body under 33 bytes cannot hold nonce, MAC and flags: MalformedCommand."""
    cw, sw, _ = established()
    cw.conn.send_message([b"x"])
    ((_, body),) = cw.out()
    sw.feed([(0, body[:size])])
    error = closed_with(sw, MalformedCommand)
    assert isinstance(error, MalformedCommand)
    assert error.code == ZMTP_MALFORMED_COMMAND_MESSAGE


@pytest.mark.parametrize(
    "frames",
    [
        [(0x00, b"hello in clear")],
        [(0x00, b"\x07not a MESSAGE but long enough to pass a size check")],
        [(MORE, b"\x07MESSAGE" + bytes(40)), (0x00, b"\x07MESSAGE" + bytes(40))],
        [(COMMAND, b"\x04PING\x00\x00")],
        [(COMMAND, b"\x09SUBSCRIBEtopic")],
    ],
    ids=["data", "long-data", "multipart", "ping", "subscribe"],
)
def test_frames_in_clear_after_the_handshake_are_refused(frames: list[Frame]) -> None:
    """After READY only MESSAGE boxes are allowed: clear data or commands end the connection."""
    _, sw, _ = established(client_type=T.SUB, server_type=T.PUB)
    sw.feed(frames)
    events = sw.conn.events()
    assert not any(isinstance(e, MessagesReceived | SubscribeReceived) for e in events), events
    assert isinstance(events[-1], ConnectionClosed)
    assert isinstance(events[-1].error, ProtocolError)
    assert sw.conn.state is State.CLOSED


def test_data_frame_in_clear_is_an_unexpected_command() -> None:
    """A clear data frame that is not a MESSAGE is reported as UnexpectedCommand."""
    _, sw, _ = established()
    sw.feed([(0x00, b"\x05HELLO and some more data to be long enough")])
    closed_with(sw, UnexpectedCommand)


def test_boxed_error_from_the_server_is_peer_refused() -> None:
    """An ERROR inside a MESSAGE (inner 0x02) after the handshake ends it with PeerRefused."""
    hand, sw = hand_handshake()
    sw.feed([(0, hand.message(0x02, b"\x05ERROR\x03bye", 3))])
    error = closed_with(sw, PeerRefused)
    assert isinstance(error, PeerRefused) and error.reason == b"bye"


# -- monitor mapping -------------------------------------------------------------------------


def test_cryptographic_error_maps_to_handshake_failed_protocol() -> None:
    """handshake_failure(CryptographicError) is (HANDSHAKE_FAILED_PROTOCOL, 0x11000001)."""
    assert handshake_failure(CryptographicError("box does not open")) == (
        MonitorEvent.HANDSHAKE_FAILED_PROTOCOL,
        0x11000001,
    )
    assert ZMTP_CRYPTOGRAPHIC == 0x11000001


def test_real_tampered_welcome_maps_to_the_cryptographic_code() -> None:
    """The error a tampered WELCOME produces is reported with the CRYPTOGRAPHIC code."""
    cw, sw = curve_pair()
    relay(cw, sw)
    relay(sw, cw, lambda body: flip(body, 100))
    assert handshake_failure(cw.conn.error) == (
        MonitorEvent.HANDSHAKE_FAILED_PROTOCOL,
        ZMTP_CRYPTOGRAPHIC,
    )
