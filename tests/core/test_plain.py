"""Tests of the PLAIN security mechanism (RFC 24), alone and between two Connections."""

from __future__ import annotations

import errno

import pytest
from core_support import shuttle
from hypothesis import given
from hypothesis import strategies as st

from zmtp.commands import Error, Ready, parse_command
from zmtp.connection import Connection, ConnectionOptions, State
from zmtp.constants import Event as MonitorEvent
from zmtp.constants import SocketType
from zmtp.errors import (
    ZAP_BAD_VERSION,
    ZMTP_MALFORMED_COMMAND_HELLO,
    AuthenticationFailed,
    MalformedCommand,
    MechanismMismatch,
    PeerRefused,
    UnexpectedCommand,
    ZapReplyError,
    ZapUnavailable,
    ZMTPError,
)
from zmtp.events import (
    AuthenticationRequested,
    ConnectionClosed,
    Event,
    HandshakeComplete,
    MessagesReceived,
)
from zmtp.frames import DecodedItem, FrameDecoder, encode_command
from zmtp.greeting import GREETING_SIZE, Greeting
from zmtp.mechanisms.base import ZapContext
from zmtp.mechanisms.null import NullMechanism
from zmtp.mechanisms.plain import PlainClient, PlainServer
from zmtp.metadata import Metadata
from zmtp.monitor import handshake_failure
from zmtp.zap import ZapReply, ZapRequest

T = SocketType

DEALER_METADATA = Metadata([("Socket-Type", b"DEALER"), ("Identity", b"")])
DEALER_PROPERTIES = b"\x0bSocket-Type\x00\x00\x00\x06DEALER" + b"\x08Identity\x00\x00\x00\x00"
ROUTER_METADATA = Metadata([("Socket-Type", b"ROUTER"), ("Identity", b"SRV")])
ROUTER_PROPERTIES = b"\x0bSocket-Type\x00\x00\x00\x06ROUTER" + b"\x08Identity\x00\x00\x00\x03SRV"
ZAP = ZapContext(domain=b"global", address=b"127.0.0.1", identity=b"SRV")

HELLO_ADMIN = b"\x05HELLO\x05admin\x06secret"
WELCOME = b"\x07WELCOME"
INITIATE_DEALER = b"\x08INITIATE" + DEALER_PROPERTIES
READY_ROUTER = b"\x05READY" + ROUTER_PROPERTIES
LIBZMQ_ERROR_400 = b"\x5eRROR\x03400"


# -- helpers -------------------------------------------------------------------------------


def client(username: bytes = b"admin", password: bytes = b"secret") -> PlainClient:
    mechanism = PlainClient(username, password)
    mechanism.start(DEALER_METADATA, None)
    return mechanism


def server(zap: ZapContext | None = ZAP) -> PlainServer:
    mechanism = PlainServer()
    mechanism.start(ROUTER_METADATA, zap)
    return mechanism


def taken(mechanism: PlainClient | PlainServer) -> list[bytes]:
    """Return and clear what the mechanism has queued."""
    out = list(mechanism.commands_to_send)
    mechanism.commands_to_send.clear()
    return out


def welcomed_client() -> PlainClient:
    mechanism = client()
    taken(mechanism)
    mechanism.receive_command(WELCOME)
    taken(mechanism)
    return mechanism


def server_waiting_for_initiate() -> PlainServer:
    mechanism = server()
    mechanism.receive_command(HELLO_ADMIN)
    mechanism.receive_zap_reply(ZapReply(b"200", b"OK", b"alice"))
    assert taken(mechanism) == [WELCOME]
    return mechanism


def decode(data: bytes) -> list[DecodedItem]:
    """Decode the frames that follow a greeting (commands come back as bodies)."""
    items: list[DecodedItem] = []
    FrameDecoder().feed(data, items)
    return items


def plain_pair(
    *,
    zap_domain: bytes | None = b"global",
    username: bytes = b"admin",
    password: bytes = b"secret",
) -> tuple[Connection, Connection, bytes, bytes]:
    """A PLAIN client DEALER and server ROUTER, shuttled until both are quiet."""
    cli = Connection(ConnectionOptions(socket_type=T.DEALER), PlainClient(username, password))
    srv = Connection(
        ConnectionOptions(
            socket_type=T.ROUTER,
            routing_id=b"SRV",
            zap_domain=zap_domain,
            peer_address=b"10.0.0.1",
        ),
        PlainServer(),
    )
    cli.start(0.0)
    srv.start(0.0)
    wrote_cli, wrote_srv = shuttle(cli, srv)
    return cli, srv, wrote_cli, wrote_srv


def waiting_for_zap() -> tuple[Connection, Connection, ZapRequest]:
    """A PLAIN pair whose server has reported its one AuthenticationRequested."""
    cli, srv, _, _ = plain_pair()
    assert cli.events() == []
    events = srv.events()
    assert len(events) == 1
    assert isinstance(events[0], AuthenticationRequested)
    return cli, srv, events[0].request


def closed_with(conn: Connection) -> ZMTPError | None:
    """Return the error of the connection's last event, which must be ConnectionClosed."""
    events = conn.events()
    assert events, "no event at all"
    assert isinstance(events[-1], ConnectionClosed), events
    assert conn.state is State.CLOSED
    return events[-1].error


def only_complete(conn: Connection) -> HandshakeComplete:
    events: list[Event] = conn.events()
    assert len(events) == 1, events
    assert isinstance(events[0], HandshakeComplete)
    return events[0]


# -- the client alone ----------------------------------------------------------------------


def test_client_names_plain_and_is_not_the_server() -> None:
    """A PLAIN client announces PLAIN with the as-server octet clear (RFC 24)."""
    mechanism = PlainClient(b"u", b"p")
    assert mechanism.name == b"PLAIN"
    assert mechanism.as_server is False
    assert mechanism.commands_to_send == []
    assert not mechanism.complete


def test_client_start_queues_hello_with_length_prefixed_credentials() -> None:
    """HELLO = 05 "HELLO" len(user) user len(password) password, byte for byte."""
    assert taken(client()) == [HELLO_ADMIN]


def test_client_hello_with_empty_credentials() -> None:
    """Empty user name and password are two zero length octets."""
    assert taken(client(b"", b"")) == [b"\x05HELLO\x00\x00"]


def test_client_hello_with_255_byte_credentials() -> None:
    """255 bytes is the longest user name or password; the length octet is FF."""
    user, password = b"u" * 255, b"p" * 255
    assert taken(client(user, password)) == [b"\x05HELLO\xff" + user + b"\xff" + password]


@pytest.mark.parametrize(("username", "password"), [(b"u" * 256, b""), (b"", b"p" * 256)])
def test_client_refuses_credentials_longer_than_255_bytes(username: bytes, password: bytes) -> None:
    """A length octet cannot say 256: the constructor refuses with ValueError."""
    with pytest.raises(ValueError, match="255"):
        PlainClient(username, password)


def test_client_answers_welcome_with_initiate_carrying_its_metadata() -> None:
    """INITIATE = 08 "INITIATE" metadata, sent only once WELCOME arrived."""
    mechanism = client()
    taken(mechanism)
    mechanism.receive_command(WELCOME)
    assert taken(mechanism) == [INITIATE_DEALER]
    assert not mechanism.complete


def test_client_completes_on_ready_and_exposes_server_metadata() -> None:
    """READY after WELCOME ends the client's handshake with the server's metadata."""
    mechanism = welcomed_client()
    mechanism.receive_command(READY_ROUTER)
    assert mechanism.complete
    assert mechanism.peer_metadata == ROUTER_METADATA
    assert mechanism.commands_to_send == []


def test_client_welcome_with_trailing_data_is_malformed() -> None:
    """WELCOME has no data (RFC 24); anything after the name is a malformed command."""
    mechanism = client()
    taken(mechanism)
    with pytest.raises(MalformedCommand):
        mechanism.receive_command(WELCOME + b"x")
    assert mechanism.commands_to_send == []
    assert not mechanism.complete


def test_client_ready_before_welcome_is_unexpected() -> None:
    """READY may only follow WELCOME and INITIATE."""
    mechanism = client()
    taken(mechanism)
    with pytest.raises(UnexpectedCommand):
        mechanism.receive_command(READY_ROUTER)
    assert mechanism.commands_to_send == []
    assert mechanism.peer_metadata is None


@pytest.mark.parametrize("body", [HELLO_ADMIN, INITIATE_DEALER, b"\x04PING\x00\x00"])
def test_client_other_command_before_welcome_is_unexpected(body: bytes) -> None:
    """Only WELCOME or ERROR may answer HELLO."""
    mechanism = client()
    taken(mechanism)
    with pytest.raises(UnexpectedCommand):
        mechanism.receive_command(body)


@pytest.mark.parametrize("body", [WELCOME, READY_ROUTER])
def test_client_second_welcome_or_ready_is_unexpected(body: bytes) -> None:
    """After WELCOME (and READY) the same command again breaks the sequence."""
    mechanism = welcomed_client()
    mechanism.receive_command(READY_ROUTER)
    with pytest.raises(UnexpectedCommand):
        mechanism.receive_command(body)


def test_client_welcome_twice_is_unexpected() -> None:
    """A second WELCOME where READY is expected is refused, and no second INITIATE goes out."""
    mechanism = welcomed_client()
    with pytest.raises(UnexpectedCommand):
        mechanism.receive_command(WELCOME)
    assert mechanism.commands_to_send == []


@pytest.mark.parametrize("welcomed", [False, True], ids=["before-welcome", "after-welcome"])
def test_client_error_raises_peer_refused_with_reason(welcomed: bool) -> None:
    """ERROR at any point of the client's handshake is the server's refusal."""
    mechanism = welcomed_client() if welcomed else client()
    with pytest.raises(PeerRefused) as info:
        mechanism.receive_command(b"\x05ERROR\x03400")
    assert info.value.reason == b"400"
    assert not mechanism.complete


def test_client_reads_libzmq_misencoded_error_as_refusal() -> None:
    """libzmq 4.3's PLAIN server writes ERROR as 5E "RROR"; the reason is still read."""
    mechanism = client()
    taken(mechanism)
    with pytest.raises(PeerRefused) as info:
        mechanism.receive_command(LIBZMQ_ERROR_400)
    assert info.value.reason == b"400"


def test_client_never_consults_zap() -> None:
    """A client sends no ZAP request, so a ZAP reply reaching it is a programming error."""
    mechanism = client()
    assert mechanism.zap_request is None
    with pytest.raises(AssertionError):
        mechanism.receive_zap_reply(ZapReply(b"200"))


# -- the server alone ----------------------------------------------------------------------


def test_server_names_plain_and_leaves_as_server_clear_like_libzmq() -> None:
    """A PLAIN server announces PLAIN with the as-server octet 0, as libzmq 4.3.5 sends it."""
    mechanism = PlainServer()
    assert mechanism.name == b"PLAIN"
    assert mechanism.as_server is False


def test_server_sends_nothing_until_hello() -> None:
    """The client speaks first in PLAIN."""
    mechanism = server()
    assert mechanism.commands_to_send == []
    assert mechanism.zap_request is None
    assert not mechanism.complete


def test_server_hello_becomes_a_zap_request_with_the_credentials() -> None:
    """HELLO is judged by ZAP: the request carries domain, address, identity, PLAIN, user, pw."""
    mechanism = server()
    mechanism.receive_command(HELLO_ADMIN)
    assert mechanism.commands_to_send == []
    assert mechanism.zap_request == ZapRequest(
        b"global", b"127.0.0.1", b"SRV", b"PLAIN", (b"admin", b"secret")
    )
    assert mechanism.zap_request.frames() == [
        b"1.0",
        b"1",
        b"global",
        b"127.0.0.1",
        b"SRV",
        b"PLAIN",
        b"admin",
        b"secret",
    ]


@given(username=st.binary(max_size=255), password=st.binary(max_size=255))
def test_server_reads_back_every_hello_the_client_writes(username: bytes, password: bytes) -> None:
    """Any credentials of up to 255 bytes survive the HELLO encoding unchanged."""
    hello = taken(client(username, password))
    mechanism = server()
    mechanism.receive_command(hello[0])
    assert mechanism.zap_request is not None
    assert mechanism.zap_request.credentials == (username, password)


def test_server_zap_200_sends_welcome_and_waits_for_initiate() -> None:
    """ZAP 200 answers HELLO with WELCOME = 07 "WELCOME"; READY waits for INITIATE."""
    mechanism = server()
    mechanism.receive_command(HELLO_ADMIN)
    reply = ZapReply(b"200", b"OK", b"alice")
    mechanism.receive_zap_reply(reply)
    assert taken(mechanism) == [WELCOME]
    assert mechanism.zap_reply is reply
    assert mechanism.failure is None
    assert not mechanism.complete


def test_server_answers_initiate_with_ready_and_completes() -> None:
    """INITIATE's metadata becomes the peer's; READY carries the server's own."""
    mechanism = server_waiting_for_initiate()
    mechanism.receive_command(INITIATE_DEALER)
    assert taken(mechanism) == [b"\x05READY" + ROUTER_PROPERTIES]
    assert mechanism.complete
    assert mechanism.peer_metadata == DEALER_METADATA


@pytest.mark.parametrize("status", [b"400", b"500"])
def test_server_zap_400_or_500_sends_error_with_the_status_code(status: bytes) -> None:
    """A refusal is sent as ERROR whose reason is the ZAP status code, and fails the server."""
    mechanism = server()
    mechanism.receive_command(HELLO_ADMIN)
    mechanism.receive_zap_reply(ZapReply(status, b"denied"))
    assert taken(mechanism) == [b"\x05ERROR\x03" + status]
    assert isinstance(mechanism.failure, AuthenticationFailed)
    assert mechanism.failure.status_code == status
    assert mechanism.failure.status_text == b"denied"
    assert not mechanism.complete


def test_server_zap_300_sends_nothing_and_does_not_fail() -> None:
    """ZAP 300 (temporary failure) leaves the handshake to HANDSHAKE_IVL, as libzmq does."""
    mechanism = server()
    mechanism.receive_command(HELLO_ADMIN)
    mechanism.receive_zap_reply(ZapReply(b"300", b"later"))
    assert mechanism.commands_to_send == []
    assert mechanism.failure is None
    assert not mechanism.complete


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"\x05HELLO", id="no-data"),
        pytest.param(b"\x05HELLO\x05adm", id="truncated-username"),
        pytest.param(b"\x05HELLO\x05admin", id="missing-password-length"),
        pytest.param(b"\x05HELLO\x05admin\x06sec", id="truncated-password"),
        pytest.param(HELLO_ADMIN + b"x", id="trailing-bytes"),
        pytest.param(b"\x05HELLO\x00", id="empty-username-no-password-length"),
    ],
)
def test_server_malformed_hello_is_malformed_command_hello(body: bytes) -> None:
    """A HELLO whose lengths do not add up exactly is libzmq's MALFORMED_COMMAND_HELLO."""
    mechanism = server()
    with pytest.raises(MalformedCommand) as info:
        mechanism.receive_command(body)
    assert info.value.code == ZMTP_MALFORMED_COMMAND_HELLO == 0x10000013
    assert mechanism.zap_request is None
    assert mechanism.commands_to_send == []


def test_server_hello_with_empty_credentials_is_accepted() -> None:
    """Two zero length octets are a well formed HELLO with empty user name and password."""
    mechanism = server()
    mechanism.receive_command(b"\x05HELLO\x00\x00")
    assert mechanism.zap_request is not None
    assert mechanism.zap_request.credentials == (b"", b"")


def test_server_without_zap_handler_refuses_every_hello() -> None:
    """No ZAP handler: PLAIN would accept any password, so the server fails after HELLO."""
    mechanism = server(zap=None)
    with pytest.raises(ZapUnavailable):
        mechanism.receive_command(HELLO_ADMIN)
    assert mechanism.commands_to_send == []
    assert mechanism.zap_request is None


def test_server_without_zap_handler_still_checks_the_hello_first() -> None:
    """A malformed HELLO is a protocol error even when there is no handler to ask."""
    mechanism = server(zap=None)
    with pytest.raises(MalformedCommand):
        mechanism.receive_command(b"\x05HELLO\x05admin")


@pytest.mark.parametrize("body", [INITIATE_DEALER, WELCOME, b"\x05READY"])
def test_server_other_command_before_hello_is_unexpected(body: bytes) -> None:
    """The first command a PLAIN server accepts is HELLO."""
    mechanism = server()
    with pytest.raises(UnexpectedCommand):
        mechanism.receive_command(body)
    assert mechanism.zap_request is None


def test_server_initiate_before_welcome_is_unexpected() -> None:
    """INITIATE while ZAP has not yet answered (no WELCOME sent) breaks the sequence."""
    mechanism = server()
    mechanism.receive_command(HELLO_ADMIN)
    with pytest.raises(UnexpectedCommand):
        mechanism.receive_command(INITIATE_DEALER)
    assert mechanism.commands_to_send == []
    assert not mechanism.complete


def test_server_initiate_after_zap_300_is_unexpected() -> None:
    """ZAP 300 sends no WELCOME, so an INITIATE after it is still out of order."""
    mechanism = server()
    mechanism.receive_command(HELLO_ADMIN)
    mechanism.receive_zap_reply(ZapReply(b"300"))
    with pytest.raises(UnexpectedCommand):
        mechanism.receive_command(INITIATE_DEALER)
    assert mechanism.commands_to_send == []


@pytest.mark.parametrize("body", [HELLO_ADMIN, b"\x05READY"])
def test_server_other_command_instead_of_initiate_is_unexpected(body: bytes) -> None:
    """After WELCOME only INITIATE (or ERROR) may come."""
    mechanism = server_waiting_for_initiate()
    with pytest.raises(UnexpectedCommand):
        mechanism.receive_command(body)
    assert not mechanism.complete


def test_server_second_initiate_is_unexpected() -> None:
    """One INITIATE, one READY: a second INITIATE is refused and no second READY goes out."""
    mechanism = server_waiting_for_initiate()
    mechanism.receive_command(INITIATE_DEALER)
    taken(mechanism)
    with pytest.raises(UnexpectedCommand):
        mechanism.receive_command(INITIATE_DEALER)
    assert mechanism.commands_to_send == []


@pytest.mark.parametrize("body", [b"\x05ERROR\x03400", LIBZMQ_ERROR_400])
def test_server_error_from_client_is_peer_refused(body: bytes) -> None:
    """An ERROR from the client (either encoding) ends the server's handshake too."""
    mechanism = server()
    with pytest.raises(PeerRefused) as info:
        mechanism.receive_command(body)
    assert info.value.reason == b"400"


# -- two connections -----------------------------------------------------------------------


def test_greeting_announces_plain_with_the_as_server_octet_clear() -> None:
    """RFC 23 greeting: mechanism at octets 12..31, as-server at 32 (0 on both, as libzmq)."""
    _, _, wrote_cli, wrote_srv = plain_pair()
    assert wrote_cli[12:32] == b"PLAIN" + bytes(15)
    assert wrote_srv[12:32] == b"PLAIN" + bytes(15)
    assert wrote_cli[32] == 0
    assert wrote_srv[32] == 0
    assert Greeting.decode(wrote_srv[:GREETING_SIZE]).as_server is False
    assert Greeting.decode(wrote_cli[:GREETING_SIZE]).as_server is False


def test_client_sends_hello_right_after_the_greeting() -> None:
    """The client's first command on the wire is its HELLO; the server sends none yet."""
    _, _, wrote_cli, wrote_srv = plain_pair()
    assert decode(wrote_cli[GREETING_SIZE:]) == [HELLO_ADMIN]
    assert wrote_srv[GREETING_SIZE:] == b""


def test_server_connection_reports_authentication_requested_once() -> None:
    """The server's HELLO becomes one AuthenticationRequested with the connection's context."""
    cli, srv, request = waiting_for_zap()
    assert request == ZapRequest(b"global", b"10.0.0.1", b"SRV", b"PLAIN", (b"admin", b"secret"))
    assert shuttle(cli, srv) == (b"", b"")
    assert srv.events() == []
    assert srv.state is State.HANDSHAKE
    assert cli.state is State.HANDSHAKE


def test_zap_200_completes_both_sides_with_the_user_id_on_the_server() -> None:
    """WELCOME, INITIATE, READY follow ZAP 200; the server reports User-Id and ZAP metadata."""
    cli, srv, _ = waiting_for_zap()
    zap_metadata = Metadata([("X-Role", b"admin")])
    srv.receive_zap_reply(ZapReply(b"200", b"OK", b"alice", zap_metadata), 0.0)
    wrote_cli, wrote_srv = shuttle(cli, srv)
    assert decode(wrote_srv) == [WELCOME, b"\x05READY" + ROUTER_PROPERTIES]
    assert decode(wrote_cli) == [INITIATE_DEALER]

    done_srv = only_complete(srv)
    assert done_srv.mechanism == b"PLAIN"
    assert done_srv.user_id == b"alice"
    assert done_srv.peer_socket_type is T.DEALER
    assert done_srv.metadata["User-Id"] == b"alice"
    assert done_srv.metadata["X-Role"] == b"admin"
    assert done_srv.metadata["Socket-Type"] == b"DEALER"
    assert srv.peer_metadata is not None
    assert srv.peer_metadata["User-Id"] == b"alice"
    assert srv.state is State.TRAFFIC

    done_cli = only_complete(cli)
    assert done_cli.mechanism == b"PLAIN"
    assert done_cli.peer_socket_type is T.ROUTER
    assert done_cli.routing_id == b"SRV"
    assert done_cli.user_id == b""
    assert "User-Id" not in done_cli.metadata
    assert cli.state is State.TRAFFIC


def test_messages_flow_both_ways_after_a_plain_handshake() -> None:
    """Once PLAIN completes, messages queued on either side are delivered."""
    cli, srv, _ = waiting_for_zap()
    cli.send_message([b"early"])
    srv.receive_zap_reply(ZapReply(b"200", b"OK", b"alice"), 0.0)
    shuttle(cli, srv)
    srv_events = srv.events()
    assert [type(event) for event in srv_events] == [HandshakeComplete, MessagesReceived]
    assert srv_events[1] == MessagesReceived([[b"early"]])
    assert [type(event) for event in cli.events()] == [HandshakeComplete]
    srv.send_message([b"pong"])
    shuttle(cli, srv)
    assert cli.events() == [MessagesReceived([[b"pong"]])]


@pytest.mark.parametrize("status", [b"400", b"500"])
def test_zap_refusal_sends_error_and_fails_both_sides(status: bytes) -> None:
    """400/500: the server writes ERROR(status) and fails; the client fails with PeerRefused."""
    cli, srv, _ = waiting_for_zap()
    srv.receive_zap_reply(ZapReply(status, b"denied"), 0.0)
    wrote_srv = srv.data_to_send()
    assert decode(wrote_srv) == [b"\x05ERROR\x03" + status]
    error = closed_with(srv)
    assert isinstance(error, AuthenticationFailed)
    assert error.status_code == status
    assert srv.error is error

    cli.receive_data(wrote_srv, 0.0)
    refusal = closed_with(cli)
    assert isinstance(refusal, PeerRefused)
    assert refusal.reason == status
    assert cli.data_to_send() == b""


def test_zap_300_sends_nothing_and_leaves_both_sides_handshaking() -> None:
    """300: no ERROR, no WELCOME, no failure; only the handshake timer can end it."""
    cli, srv, _ = waiting_for_zap()
    srv.receive_zap_reply(ZapReply(b"300", b"later"), 0.0)
    assert shuttle(cli, srv) == (b"", b"")
    assert srv.events() == []
    assert cli.events() == []
    assert srv.state is State.HANDSHAKE
    assert cli.state is State.HANDSHAKE
    assert srv.get_timer() == 30.0


def test_zap_error_fails_the_server_with_zap_reply_error_and_sends_nothing() -> None:
    """A handler reply that breaks RFC 27 ends the server's handshake with ZapReplyError."""
    cli, srv, _ = waiting_for_zap()
    error = ZapReplyError("ZAP reply version b'2.0' is not '1.0'", ZAP_BAD_VERSION)
    srv.receive_zap_error(error)
    assert closed_with(srv) is error
    assert srv.data_to_send() == b""
    assert cli.events() == []


def test_server_connection_without_zap_domain_fails_after_hello() -> None:
    """No ZAP handler (zap_domain None): the server fails after HELLO and writes nothing."""
    cli, srv, _, wrote_srv = plain_pair(zap_domain=None)
    assert wrote_srv[GREETING_SIZE:] == b""
    assert isinstance(closed_with(srv), ZapUnavailable)
    assert cli.events() == []
    assert cli.state is State.HANDSHAKE


def test_server_connection_malformed_hello_closes_with_hello_code() -> None:
    """A malformed HELLO on the wire closes the server with code 0x10000013, writing nothing."""
    srv = Connection(ConnectionOptions(socket_type=T.ROUTER, zap_domain=b""), PlainServer())
    srv.start(0.0)
    peer = Greeting(mechanism=b"PLAIN").encode()
    srv.receive_data(peer + encode_command(b"\x05HELLO\x05admin"), 0.0)
    error = closed_with(srv)
    assert isinstance(error, MalformedCommand)
    assert error.code == ZMTP_MALFORMED_COMMAND_HELLO
    assert len(srv.data_to_send()) == GREETING_SIZE  # its greeting, and no ERROR after it


def test_client_connection_reads_libzmq_misencoded_error() -> None:
    """A libzmq server's 5E "RROR" 03 "400" frame closes the client with PeerRefused(b"400")."""
    cli = Connection(ConnectionOptions(socket_type=T.DEALER), PlainClient(b"admin", b"secret"))
    cli.start(0.0)
    peer = Greeting(mechanism=b"PLAIN", as_server=True).encode()
    cli.receive_data(peer + encode_command(LIBZMQ_ERROR_400), 0.0)
    error = closed_with(cli)
    assert isinstance(error, PeerRefused)
    assert error.reason == b"400"


def test_client_connection_welcome_with_data_is_malformed() -> None:
    """WELCOME with trailing data on the wire closes the client with MalformedCommand."""
    cli = Connection(ConnectionOptions(socket_type=T.DEALER), PlainClient(b"admin", b"secret"))
    cli.start(0.0)
    peer = Greeting(mechanism=b"PLAIN", as_server=True).encode()
    cli.receive_data(peer + encode_command(WELCOME + b"\x00"), 0.0)
    assert isinstance(closed_with(cli), MalformedCommand)
    assert decode(cli.data_to_send()[GREETING_SIZE:]) == [HELLO_ADMIN]  # and no INITIATE


def test_client_connection_ready_before_welcome_is_unexpected() -> None:
    """A server that skips WELCOME and sends READY is refused by the client."""
    cli = Connection(ConnectionOptions(socket_type=T.DEALER), PlainClient(b"admin", b"secret"))
    cli.start(0.0)
    peer = Greeting(mechanism=b"PLAIN", as_server=True).encode()
    cli.receive_data(peer + encode_command(Ready(ROUTER_METADATA).encode()), 0.0)
    assert isinstance(closed_with(cli), UnexpectedCommand)
    assert cli.peer_metadata is None


def test_plain_client_against_null_server_is_a_mechanism_mismatch() -> None:
    """Both sides must announce the same mechanism: PLAIN against NULL closes the client."""
    cli = Connection(ConnectionOptions(socket_type=T.DEALER), PlainClient(b"admin", b"secret"))
    null = Connection(ConnectionOptions(socket_type=T.ROUTER), NullMechanism())
    cli.start(0.0)
    null.start(0.0)
    shuttle(cli, null)
    assert isinstance(closed_with(cli), MechanismMismatch)
    assert isinstance(closed_with(null), MechanismMismatch)


def test_server_connection_error_reason_is_the_status_code_not_the_text() -> None:
    """The ERROR reason is the 3-digit status (what libzmq sends), never the status text."""
    _cli, srv, _ = waiting_for_zap()
    srv.receive_zap_reply(ZapReply(b"400", b"bad password"), 0.0)
    commands = [parse_command(body) for body in decode(srv.data_to_send())]
    assert commands == [Error(b"400")]


def test_client_completes_with_a_libzmq_server_greeting_whose_as_server_octet_is_zero() -> None:
    """libzmq 4.3.5's PLAIN server leaves the as-server octet 0; the client must not mind."""
    cli = Connection(ConnectionOptions(socket_type=T.DEALER), PlainClient(b"admin", b"secret"))
    cli.start(0.0)
    peer = Greeting(mechanism=b"PLAIN", as_server=False).encode()
    cli.receive_data(peer + encode_command(WELCOME), 0.0)
    assert decode(cli.data_to_send()[GREETING_SIZE:]) == [HELLO_ADMIN, INITIATE_DEALER]
    cli.receive_data(encode_command(READY_ROUTER), 0.0)
    done = only_complete(cli)
    assert done.peer_socket_type is T.ROUTER
    assert cli.state is State.TRAFFIC


def test_zap_user_id_and_metadata_override_what_the_client_claims() -> None:
    """The client cannot forge User-Id: ZAP's User-Id and metadata win over INITIATE's."""
    srv = Connection(ConnectionOptions(socket_type=T.ROUTER, zap_domain=b"global"), PlainServer())
    srv.start(0.0)
    srv.receive_data(Greeting(mechanism=b"PLAIN").encode() + encode_command(HELLO_ADMIN), 0.0)
    assert [type(event) for event in srv.events()] == [AuthenticationRequested]
    zap_metadata = Metadata([("X-Role", b"admin")])
    srv.receive_zap_reply(ZapReply(b"200", b"OK", b"alice", zap_metadata), 0.0)
    claims = Metadata([("Socket-Type", b"DEALER"), ("User-Id", b"mallory"), ("X-Role", b"root")])
    srv.receive_data(encode_command(b"\x08INITIATE" + claims.encode()), 0.0)
    done = only_complete(srv)
    assert done.user_id == b"alice"
    assert done.metadata["User-Id"] == b"alice"
    assert done.metadata["X-Role"] == b"admin"
    assert done.metadata["Socket-Type"] == b"DEALER"


@pytest.mark.parametrize("status", [b"400", b"500"])
def test_zap_refusal_is_reported_to_monitors_as_auth_failure_on_both_sides(status: bytes) -> None:
    """libzmq: HANDSHAKE_FAILED_AUTH with the status code, on the server and on the client."""
    cli, srv, _ = waiting_for_zap()
    srv.receive_zap_reply(ZapReply(status), 0.0)
    cli.receive_data(srv.data_to_send(), 0.0)
    expected = (MonitorEvent.HANDSHAKE_FAILED_AUTH, int(status))
    assert handshake_failure(closed_with(srv)) == expected
    assert handshake_failure(closed_with(cli)) == expected


def test_malformed_hello_is_reported_to_monitors_as_protocol_error_0x10000013() -> None:
    """libzmq: HANDSHAKE_FAILED_PROTOCOL with ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_HELLO."""
    srv = Connection(ConnectionOptions(socket_type=T.ROUTER, zap_domain=b""), PlainServer())
    srv.start(0.0)
    srv.receive_data(Greeting(mechanism=b"PLAIN").encode() + encode_command(HELLO_ADMIN + b"x"), 0)
    assert handshake_failure(closed_with(srv)) == (
        MonitorEvent.HANDSHAKE_FAILED_PROTOCOL,
        0x10000013,
    )


def test_server_without_zap_handler_is_reported_to_monitors_like_libzmq() -> None:
    """libzmq's plain_server: zap_connect fails -> event_handshake_failed_no_detail(EFAULT)."""
    _, srv, _, _ = plain_pair(zap_domain=None)
    assert handshake_failure(closed_with(srv)) == (
        MonitorEvent.HANDSHAKE_FAILED_NO_DETAIL,
        errno.EFAULT,
    )
