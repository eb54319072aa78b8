"""The blocking ``zmtp.Socket`` API, rule by rule, zmtp talking to zmtp through the real engine.

Where pyzmq (libzmq 4.3) has an answer, the expected errno or exception type is taken from
pyzmq itself at test time, on the same call, so these tests say "as pyzmq does" and mean it.
Every wait is bounded: receivers and senders get RCVTIMEO/SNDTIMEO, threads are joined with a
timeout, and "nothing arrives" is a bounded poll.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import zmq
from api_support import Worker, endpoint_maker, socket_maker

import zmtp

WAIT = 5000  # ms: the bound on anything that should happen
QUIET = 300  # ms: how long "nothing arrives" is watched for
TRANSPORTS = ["tcp", "ipc", "inproc"]


# -- fixtures and helpers ---------------------------------------------------------------------


@pytest.fixture
def zctx() -> Iterator[zmq.Context]:
    """A pyzmq context, only to ask libzmq what it answers."""
    context = zmq.Context()
    yield context
    context.destroy(linger=0)


Maker = Callable[..., zmtp.Socket]


@pytest.fixture
def make(ctx: zmtp.Context) -> Maker:
    """Create sockets whose waits are bounded; the ctx fixture closes them."""
    return socket_maker(ctx, zmtp.Socket)


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def endpoint(transport: str, tmp_path: Path) -> Callable[[], str]:
    """Return fresh bind addresses for the transport under test."""
    return endpoint_maker(transport, tmp_path, "s")


def bind(sock: zmtp.Socket, addr: str) -> str:
    """Bind and return the resolved endpoint (the real port for tcp://...:*)."""
    sock.bind(addr)
    return sock.getsockopt_string(zmtp.LAST_ENDPOINT)


def pair(make: Maker, endpoint: Callable[[], str], bound: int, connected: int) -> tuple:
    """A socket of type ``bound`` bound, and one of type ``connected`` connected to it."""
    server = make(bound)
    client = make(connected)
    client.connect(bind(server, endpoint()))
    return server, client


def outcome(call: Callable[[], object]) -> object:
    """What a call did, comparably between pyzmq and zmtp: 'ok', an errno, or a type name."""
    try:
        call()
    except (zmq.ZMQError, zmtp.ZMQError) as exc:
        return ("ZMQError", int(exc.errno or 0))
    except Exception as exc:
        return type(exc).__name__
    return "ok"


def reserved_tcp_port() -> tuple[socket.socket, int]:
    """A port that is bound but not listening: connecting to it is refused (an absent peer)."""
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    return holder, holder.getsockname()[1]


# -- constants and errors ---------------------------------------------------------------------

CONSTANT_NAMES = [
    "PAIR",
    "PUB",
    "SUB",
    "REQ",
    "REP",
    "DEALER",
    "ROUTER",
    "PULL",
    "PUSH",
    "XPUB",
    "XSUB",
    "STREAM",
    "XREQ",
    "XREP",
    "NOBLOCK",
    "DONTWAIT",
    "SNDMORE",
    "RCVMORE",
    "POLLIN",
    "POLLOUT",
    "POLLERR",
    "MORE",
    "LINGER",
    "SNDHWM",
    "RCVHWM",
    "HWM",
    "RCVTIMEO",
    "SNDTIMEO",
    "IDENTITY",
    "ROUTING_ID",
    "SUBSCRIBE",
    "UNSUBSCRIBE",
    "TYPE",
    "EVENTS",
    "LAST_ENDPOINT",
    "ROUTER_MANDATORY",
    "IMMEDIATE",
    "RECONNECT_IVL",
    "MAXMSGSIZE",
    "IO_THREADS",
    "MAX_SOCKETS",
    "EVENT_CONNECTED",
    "EVENT_ALL",
    "EAGAIN",
    "EFSM",
    "ETERM",
    "EHOSTUNREACH",
    "ENOTSOCK",
    "EINVAL",
    "EPROTONOSUPPORT",
    "EADDRINUSE",
    "ENOTSUP",
    "EFAULT",
    "ENOCOMPATPROTO",
]


@pytest.mark.parametrize("name", CONSTANT_NAMES)
def test_constants_are_top_level_names_with_pyzmqs_values(name: str) -> None:
    assert getattr(zmtp, name) == getattr(zmq, name)


def test_req_is_3_noblock_is_dontwait_and_the_flags_are_libzmqs() -> None:
    assert zmtp.REQ == 3
    assert zmtp.NOBLOCK == zmtp.DONTWAIT == 1
    assert zmtp.SNDMORE == 2
    assert (zmtp.POLLIN, zmtp.POLLOUT) == (1, 2)
    assert zmtp.LINGER == 17


def test_zmqerror_carries_errno_and_libzmqs_strerror() -> None:
    error = zmtp.ZMQError(zmtp.EINVAL)
    assert error.errno == zmtp.EINVAL
    assert error.strerror == str(error) == str(zmq.ZMQError(zmq.EINVAL)) == "Invalid argument"


def test_zmqerror_with_a_message_uses_it_as_strerror() -> None:
    error = zmtp.ZMQError(zmtp.EINVAL, "custom")
    assert (error.errno, error.strerror, str(error)) == (zmtp.EINVAL, "custom", "custom")


@pytest.mark.parametrize(
    ("cls", "errno"),
    [(zmtp.Again, zmtp.EAGAIN), (zmtp.ContextTerminated, zmtp.ETERM)],
    ids=["Again", "ContextTerminated"],
)
def test_again_and_context_terminated_are_zmqerrors_with_their_errno(
    cls: type[zmtp.ZMQError], errno: int
) -> None:
    assert issubclass(cls, zmtp.ZMQError)
    error = cls()
    assert error.errno == errno
    assert error.strerror == zmq.strerror(errno)


@pytest.mark.parametrize("errno", list(zmtp.Errno), ids=lambda e: e.name)
def test_strerror_is_libzmqs_message(errno: zmtp.Errno) -> None:
    assert zmtp.strerror(errno) == zmq.strerror(int(errno))


def test_a_call_that_would_block_raises_again_which_is_a_zmqerror(make: Maker) -> None:
    pull = make(zmtp.PULL)
    with pytest.raises(zmtp.ZMQError) as info:
        pull.recv(zmtp.NOBLOCK)
    assert isinstance(info.value, zmtp.Again)
    assert info.value.errno == zmtp.EAGAIN


# -- send and recv ----------------------------------------------------------------------------


def test_frames_sent_with_sndmore_arrive_as_one_message_with_rcvmore(
    make: Maker, endpoint: Callable[[], str]
) -> None:
    pull, push = pair(make, endpoint, zmtp.PULL, zmtp.PUSH)
    push.send(b"a", zmtp.SNDMORE)
    push.send(b"", zmtp.SNDMORE)
    push.send(b"c")
    frames = []
    more = []
    for _ in range(3):
        frames.append(pull.recv())
        more.append((pull.getsockopt(zmtp.RCVMORE), pull.rcvmore))
    assert frames == [b"a", b"", b"c"]
    assert more == [(1, True), (1, True), (0, False)]


def test_send_multipart_and_recv_multipart_keep_every_frame(
    make: Maker, endpoint: Callable[[], str]
) -> None:
    pull, push = pair(make, endpoint, zmtp.PULL, zmtp.PUSH)
    message = [b"", bytes(range(256)), b"x" * 100_000, b""]
    push.send_multipart(message)
    push.send_multipart([b"single"])
    assert pull.recv_multipart() == message
    assert pull.recv_multipart() == [b"single"]


def test_recv_multipart_after_recv_returns_the_rest_of_the_message(make: Maker) -> None:
    pull, push = pair(make, lambda: "inproc://rest", zmtp.PULL, zmtp.PUSH)
    push.send_multipart([b"1", b"2", b"3"])
    push.send_multipart([b"next"])
    assert pull.recv() == b"1"
    assert pull.recv_multipart() == [b"2", b"3"]
    assert pull.recv_multipart() == [b"next"]


def test_frames_may_be_any_bytes_like_object(make: Maker) -> None:
    pull, push = pair(make, lambda: "inproc://buffers", zmtp.PULL, zmtp.PUSH)
    push.send(bytearray(b"ba"), zmtp.SNDMORE)
    push.send(memoryview(b"mv"))
    push.send_multipart([bytearray(b"1"), memoryview(b"2")])
    assert pull.recv_multipart() == [b"ba", b"mv"]
    assert pull.recv_multipart() == [b"1", b"2"]


def test_send_string_recv_string_with_an_encoding(make: Maker) -> None:
    pull, push = pair(make, lambda: "inproc://strings", zmtp.PULL, zmtp.PUSH)
    push.send_string("héllo")
    push.send_string("héllo", encoding="latin-1")
    assert pull.recv_string() == "héllo"
    assert pull.recv() == "héllo".encode("latin-1")


def test_send_json_recv_json_round_trip(make: Maker) -> None:
    pull, push = pair(make, lambda: "inproc://json", zmtp.PULL, zmtp.PUSH)
    obj = {"a": [1, 2.5, None, True], "b": "ü"}
    push.send_json(obj)
    assert pull.recv_json() == obj


def test_send_pyobj_recv_pyobj_round_trip(make: Maker) -> None:
    pull, push = pair(make, lambda: "inproc://pyobj", zmtp.PULL, zmtp.PUSH)
    obj = {"set": {1, 2}, "tuple": (b"x", 3), "complex": 1j}
    push.send_pyobj(obj)
    assert pull.recv_pyobj() == obj


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.send("text"),
        lambda s: s.send("text", zmtp.SNDMORE),
        lambda s: s.send_multipart([b"ok", "text"]),
        lambda s: s.send_string(b"bytes"),
        lambda s: s.send(12),
    ],
    ids=["send", "send-sndmore", "send_multipart", "send_string-bytes", "send-int"],
)
def test_a_frame_that_is_not_bytes_is_a_type_error_and_sends_nothing(
    make: Maker, call: Callable[[zmtp.Socket], None]
) -> None:
    pull, push = pair(make, lambda: "inproc://types", zmtp.PULL, zmtp.PUSH)
    with pytest.raises(TypeError):
        call(push)
    push.send(b"only")
    assert pull.recv_multipart() == [b"only"]


def test_retrying_the_last_frame_after_again_keeps_the_earlier_sndmore_frames(
    make: Maker, endpoint: Callable[[], str]
) -> None:
    push = make(zmtp.PUSH)  # no peer yet: the last frame cannot go
    push.send(b"first", zmtp.SNDMORE)
    push.send(b"second", zmtp.SNDMORE)
    with pytest.raises(zmtp.Again):
        push.send(b"last", zmtp.DONTWAIT)
    pull = make(zmtp.PULL)
    push.connect(bind(pull, endpoint()))
    push.send(b"last")  # the retry, now that there is a peer
    assert pull.recv_multipart() == [b"first", b"second", b"last"]
    push.send(b"alone")
    assert pull.recv_multipart() == [b"alone"]


# -- options ----------------------------------------------------------------------------------


def test_options_read_and_write_as_attributes(make: Maker) -> None:
    sock = make(zmtp.DEALER)
    sock.linger = 250
    sock.sndhwm = 7
    sock.routing_id = b"me"
    assert (sock.linger, sock.sndhwm, sock.routing_id) == (250, 7, b"me")
    assert sock.getsockopt(zmtp.LINGER) == 250
    assert sock.rcvhwm == 1000


def test_setsockopt_getsockopt_set_and_get_address_the_same_option(make: Maker) -> None:
    sock = make(zmtp.DEALER)
    sock.setsockopt(zmtp.RCVHWM, 11)
    assert sock.get(zmtp.RCVHWM) == 11
    sock.set(zmtp.RCVHWM, 12)
    assert sock.getsockopt(zmtp.RCVHWM) == 12
    sock.set_string(zmtp.ROUTING_ID, "name")
    assert sock.get_string(zmtp.ROUTING_ID) == "name"
    assert sock.getsockopt(zmtp.ROUTING_ID) == b"name"


def test_hwm_attribute_sets_both_sndhwm_and_rcvhwm(make: Maker) -> None:
    sock = make(zmtp.DEALER)
    sock.hwm = 42
    assert (sock.sndhwm, sock.rcvhwm, sock.hwm) == (42, 42, 42)


def test_setsockopt_hwm_is_einval_as_in_pyzmq(make: Maker, zctx: zmq.Context) -> None:
    with zctx.socket(zmq.DEALER) as theirs:
        expected = [outcome(lambda: theirs.setsockopt(zmq.HWM, 5))]
        expected.append(outcome(lambda: theirs.getsockopt(zmq.HWM)))
    ours = make(zmtp.DEALER)
    got = [
        outcome(lambda: ours.setsockopt(zmtp.HWM, 5)),
        outcome(lambda: ours.getsockopt(zmtp.HWM)),
    ]
    assert got == expected == [("ZMQError", zmq.EINVAL)] * 2


OPTION_CASES = [
    ("PUSH", "LINGER", -2),
    ("PUSH", "LINGER", -1),
    ("PUSH", "LINGER", True),
    ("PUSH", "LINGER", "0"),
    ("PUSH", "LINGER", 1.5),
    ("PUSH", "LINGER", None),
    ("PUSH", "LINGER", b"1"),
    ("PUSH", "SNDHWM", -1),
    ("PUSH", "SNDHWM", 0),
    ("PULL", "RCVTIMEO", -2),
    ("PUSH", "SNDTIMEO", -2),
    ("PUSH", "RECONNECT_IVL", -2),
    ("PUSH", "BACKLOG", -1),
    ("PUSH", "IMMEDIATE", 2),
    ("PUSH", "MAXMSGSIZE", 2**40),
    ("DEALER", "ROUTING_ID", "text"),
    ("DEALER", "ROUTING_ID", 5),
    ("DEALER", "ROUTING_ID", bytearray(b"ab")),
    ("DEALER", "ROUTING_ID", b""),
    ("DEALER", "ROUTING_ID", b"x" * 255),
    ("DEALER", "ROUTING_ID", b"x" * 256),
    ("PUSH", "TYPE", 1),
    ("PUSH", "RCVMORE", 1),
    ("PUSH", "EVENTS", 1),
    ("PUSH", "LAST_ENDPOINT", b"tcp://127.0.0.1:1"),
    ("PUSH", "SUBSCRIBE", b""),
    ("SUB", "SUBSCRIBE", b""),
    ("SUB", "SUBSCRIBE", "text"),
    ("PUSH", "ROUTER_MANDATORY", 1),
    ("ROUTER", "ROUTER_MANDATORY", -1),
    ("ROUTER", "ROUTER_MANDATORY", 1),
]


@pytest.mark.parametrize(
    ("kind", "option", "value"),
    OPTION_CASES,
    ids=[f"{k}-{o}-{v!r:.12}-{n}" for n, (k, o, v) in enumerate(OPTION_CASES)],
)
def test_setsockopt_accepts_and_refuses_values_as_pyzmq_does(
    make: Maker, zctx: zmq.Context, kind: str, option: str, value: object
) -> None:
    """Wrong type: TypeError; out of range or not for this socket type: ZMQError(EINVAL)."""
    with zctx.socket(getattr(zmq, kind)) as theirs:
        expected = outcome(lambda: theirs.setsockopt(getattr(zmq, option), value))
    ours = make(getattr(zmtp, kind))
    assert outcome(lambda: ours.setsockopt(getattr(zmtp, option), value)) == expected


@pytest.mark.parametrize("option", ["TYPE", "RCVMORE", "EVENTS", "LAST_ENDPOINT"])
def test_read_only_options_refuse_setsockopt_with_einval(make: Maker, option: str) -> None:
    sock = make(zmtp.PULL)
    value = b"x" if option == "LAST_ENDPOINT" else 1
    with pytest.raises(zmtp.ZMQError) as info:
        sock.setsockopt(getattr(zmtp, option), value)
    assert info.value.errno == zmtp.EINVAL


def test_read_only_options_report_the_sockets_state(make: Maker) -> None:
    pull, push = pair(make, lambda: "inproc://state", zmtp.PULL, zmtp.PUSH)
    assert (pull.getsockopt(zmtp.TYPE), push.type) == (zmtp.PULL, zmtp.PUSH)
    assert pull.getsockopt(zmtp.LAST_ENDPOINT) == b"inproc://state"
    assert pull.getsockopt(zmtp.EVENTS) == 0
    push.send_multipart([b"1", b"2"])
    assert pull.poll(WAIT) == zmtp.POLLIN
    assert pull.getsockopt(zmtp.EVENTS) & zmtp.POLLIN
    pull.recv()
    assert pull.getsockopt(zmtp.RCVMORE) == 1


@pytest.mark.parametrize("call", ["setsockopt", "getsockopt"])
def test_an_unknown_option_number_is_einval(make: Maker, call: str) -> None:
    sock = make(zmtp.PUSH)
    args = (9999, 1) if call == "setsockopt" else (9999,)
    with pytest.raises(zmtp.ZMQError) as info:
        getattr(sock, call)(*args)
    assert info.value.errno == zmtp.EINVAL


@pytest.mark.parametrize("value", [b"5", "5", 5.0], ids=["bytes", "str", "float"])
def test_an_unknown_option_with_a_non_int_value_is_type_error_as_in_pyzmq(
    make: Maker, value: object
) -> None:
    """pyzmq treats an unknown option number as an int option (its test_bad_sockopts)."""
    libzmq = zmq.Context()
    try:
        theirs = libzmq.socket(zmq.PUSH)
        with pytest.raises(TypeError):
            theirs.setsockopt(9999, value)
        theirs.close(linger=0)
    finally:
        libzmq.term()
    with pytest.raises(TypeError, match="9999"):
        make(zmtp.PUSH).setsockopt(9999, value)


def test_reading_an_unknown_option_attribute_is_attribute_error(make: Maker) -> None:
    with pytest.raises(AttributeError):
        _ = make(zmtp.PUSH).no_such_option


def test_setting_an_unknown_option_attribute_is_attribute_error(make: Maker) -> None:
    with pytest.raises(AttributeError):
        make(zmtp.PUSH).lingr = 0


def test_last_endpoint_attribute_is_bytes_as_in_pyzmq(make: Maker) -> None:
    sock = make(zmtp.PULL)
    sock.bind("inproc://le")
    assert sock.last_endpoint == sock.getsockopt(zmtp.LAST_ENDPOINT) == b"inproc://le"


DEFAULT_OPTIONS = [
    "LINGER",
    "SNDHWM",
    "RCVHWM",
    "RCVTIMEO",
    "SNDTIMEO",
    "TYPE",
    "RCVMORE",
    "EVENTS",
    "IMMEDIATE",
    "RECONNECT_IVL",
    "RECONNECT_IVL_MAX",
    "MAXMSGSIZE",
    "ROUTING_ID",
    "LAST_ENDPOINT",
    "BACKLOG",
    "HANDSHAKE_IVL",
    "HEARTBEAT_IVL",
    "SNDBUF",
    "RCVBUF",
]
SOCKET_TYPES = [
    "PAIR",
    "PUB",
    "SUB",
    "REQ",
    "REP",
    "DEALER",
    "ROUTER",
    "PULL",
    "PUSH",
    "XPUB",
    "XSUB",
]


@pytest.mark.parametrize("kind", SOCKET_TYPES)
def test_a_fresh_socket_reads_pyzmqs_default_option_values(
    ctx: zmtp.Context, zctx: zmq.Context, kind: str
) -> None:
    ours = ctx.socket(getattr(zmtp, kind))
    with zctx.socket(getattr(zmq, kind)) as theirs:
        expected = {name: theirs.getsockopt(getattr(zmq, name)) for name in DEFAULT_OPTIONS}
    assert {name: ours.getsockopt(getattr(zmtp, name)) for name in DEFAULT_OPTIONS} == expected


# -- endpoints --------------------------------------------------------------------------------


def test_bind_to_random_port_returns_a_port_peers_can_connect_to(make: Maker) -> None:
    pull = make(zmtp.PULL)
    port = pull.bind_to_random_port("tcp://127.0.0.1")
    assert pull.getsockopt_string(zmtp.LAST_ENDPOINT) == f"tcp://127.0.0.1:{port}"
    push = make(zmtp.PUSH)
    push.connect(f"tcp://127.0.0.1:{port}")
    push.send(b"hi")
    assert pull.recv() == b"hi"


def test_bind_to_random_port_in_a_taken_range_raises_zmqbinderror(make: Maker) -> None:
    holder = make(zmtp.PULL)  # kept referenced: a collected socket is closed, as in pyzmq
    port = holder.bind_to_random_port("tcp://127.0.0.1")
    sock = make(zmtp.PULL)
    with pytest.raises(zmtp.ZMQBindError):
        sock.bind_to_random_port("tcp://127.0.0.1", min_port=port, max_port=port + 1, max_tries=1)


def test_binding_port_star_reports_the_chosen_port_in_last_endpoint(make: Maker) -> None:
    pull = make(zmtp.PULL)
    pull.bind("tcp://127.0.0.1:*")
    resolved = pull.getsockopt_string(zmtp.LAST_ENDPOINT)
    host, port = resolved.rsplit(":", 1)
    assert host == "tcp://127.0.0.1"
    assert 0 < int(port) < 65536
    push = make(zmtp.PUSH)
    push.connect(resolved)
    push.send(b"via last_endpoint")
    assert pull.recv() == b"via last_endpoint"


def test_unbind_frees_the_endpoint_for_another_bind(
    make: Maker, endpoint: Callable[[], str]
) -> None:
    first = make(zmtp.PULL)
    resolved = bind(first, endpoint())
    first.unbind(resolved)
    second = make(zmtp.PULL)
    assert bind(second, resolved) == resolved
    push = make(zmtp.PUSH)
    push.connect(resolved)
    push.send(b"to the new owner")
    assert second.recv() == b"to the new owner"


def test_after_unbind_newly_connecting_peers_do_not_reach_the_socket(
    make: Maker, endpoint: Callable[[], str]
) -> None:
    pull = make(zmtp.PULL)
    resolved = bind(pull, endpoint())
    pull.unbind(resolved)
    push = make(zmtp.PUSH)
    push.connect(resolved)
    with contextlib.suppress(zmtp.Again):  # queued (tcp, ipc) or refused (zmtp's inproc)
        push.send(b"lost", zmtp.DONTWAIT)
    assert pull.poll(QUIET) == 0


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_unbind_drops_the_connections_accepted_on_that_endpoint(
    make: Maker, endpoint: Callable[[], str]
) -> None:
    pull, push = pair(make, endpoint, zmtp.PULL, zmtp.PUSH)
    push.send(b"before")
    assert pull.recv() == b"before"
    pull.unbind(pull.getsockopt_string(zmtp.LAST_ENDPOINT))
    push.send(b"after")
    assert pull.poll(QUIET) == 0


def test_unbind_keeps_inproc_links_made_before_it_as_libzmq_does(make: Maker) -> None:
    pull, push = pair(make, lambda: "inproc://kept", zmtp.PULL, zmtp.PUSH)
    pull.unbind("inproc://kept")
    push.send(b"still linked")
    assert pull.recv() == b"still linked"


def test_disconnect_stops_sending_to_that_peer(make: Maker, endpoint: Callable[[], str]) -> None:
    keep, gone = make(zmtp.PULL), make(zmtp.PULL)
    keep_ep, gone_ep = bind(keep, endpoint()), bind(gone, endpoint())
    push = make(zmtp.PUSH)
    push.connect(keep_ep)
    push.connect(gone_ep)
    push.disconnect(gone_ep)
    for n in range(4):
        push.send(b"%d" % n)
    assert [keep.recv() for _ in range(4)] == [b"0", b"1", b"2", b"3"]
    assert gone.poll(QUIET) == 0


BAD_ENDPOINTS = [
    "tcp://127.0.0.1",
    "foo://bar",
    "nonsense",
    "tcp://",
    "inproc://",
    "ipc://",
    "ipc://@",
    "tcp://127.0.0.1:*x",
    "TCP://127.0.0.1:5555",
    "pgm://eth0;239.192.1.1:5555",
    "ws://127.0.0.1:5555",
]


@pytest.mark.parametrize(
    ("call", "addr"),
    [
        *[("bind", a) for a in [*BAD_ENDPOINTS, "tcp://:5555"]],
        *[("connect", a) for a in [*BAD_ENDPOINTS, "tcp://*:*"]],
    ],
)
def test_a_bad_endpoint_raises_zmqerror_with_libzmqs_errno(
    make: Maker, zctx: zmq.Context, call: str, addr: str
) -> None:
    with zctx.socket(zmq.PULL) as theirs:
        expected = outcome(lambda: getattr(theirs, call)(addr))
    assert expected[0] == "ZMQError", "libzmq accepts this endpoint: the case is wrong"
    ours = make(zmtp.PULL)
    assert outcome(lambda: getattr(ours, call)(addr)) == expected


def test_bad_endpoint_errnos_include_einval_and_eprotonosupport(make: Maker) -> None:
    sock = make(zmtp.PULL)
    with pytest.raises(zmtp.ZMQError) as invalid:
        sock.bind("tcp://127.0.0.1")
    with pytest.raises(zmtp.ZMQError) as unsupported:
        sock.connect("nosuch://x")
    assert (invalid.value.errno, unsupported.value.errno) == (zmtp.EINVAL, zmtp.EPROTONOSUPPORT)


def test_a_second_bind_of_a_tcp_endpoint_is_eaddrinuse(make: Maker) -> None:
    first = make(zmtp.PULL)  # kept referenced: a collected socket is closed, as in pyzmq
    resolved = bind(first, "tcp://127.0.0.1:*")
    with pytest.raises(zmtp.ZMQError) as info:
        make(zmtp.PULL).bind(resolved)
    assert info.value.errno == zmtp.EADDRINUSE


def test_a_second_bind_of_an_inproc_name_is_eaddrinuse(make: Maker) -> None:
    first = make(zmtp.PULL)  # kept referenced: a collected socket is closed, as in pyzmq
    first.bind("inproc://taken")
    with pytest.raises(zmtp.ZMQError) as info:
        make(zmtp.PULL).bind("inproc://taken")
    assert info.value.errno == zmtp.EADDRINUSE


def test_a_second_ipc_bind_takes_the_path_over_as_libzmq_does(make: Maker, tmp_path: Path) -> None:
    addr = f"ipc://{tmp_path}/shared"
    make(zmtp.PULL).bind(addr)
    newer = make(zmtp.PULL)
    newer.bind(addr)
    push = make(zmtp.PUSH)
    push.connect(addr)
    push.send(b"to the newer")
    assert newer.recv() == b"to the newer"


def test_inproc_names_belong_to_one_context(make: Maker) -> None:
    make(zmtp.PULL).bind("inproc://mine")
    with zmtp.Context() as other:
        sock = other.socket(zmtp.PULL)
        sock.bind("inproc://mine")
        sock.close()


@pytest.mark.parametrize(
    ("call", "addr"),
    [
        ("unbind", "tcp://127.0.0.1:5555"),
        ("unbind", "tcp://127.0.0.1:*"),
        ("unbind", "inproc://never"),
        ("disconnect", "tcp://127.0.0.1:5555"),
        ("disconnect", "inproc://never"),
    ],
)
def test_unbind_or_disconnect_of_an_unknown_endpoint_is_enoent(
    make: Maker, call: str, addr: str
) -> None:
    sock = make(zmtp.PULL)
    with pytest.raises(zmtp.ZMQError) as info:
        getattr(sock, call)(addr)
    assert info.value.errno == zmtp.ENOENT


def test_inproc_connect_before_bind_links_when_the_bind_comes(make: Maker) -> None:
    push = make(zmtp.PUSH)
    push.connect("inproc://later")
    pull = make(zmtp.PULL)
    pull.bind("inproc://later")
    push.send(b"after bind")
    assert pull.recv() == b"after bind"


def test_inproc_connect_before_bind_queues_messages_sent_before_the_bind(make: Maker) -> None:
    push = make(zmtp.PUSH)
    push.connect("inproc://early")
    push.send(b"early", zmtp.DONTWAIT)
    pull = make(zmtp.PULL)
    pull.bind("inproc://early")
    assert pull.recv() == b"early"


# -- socket semantics through the engine ------------------------------------------------------


def test_req_rep_round_trip(make: Maker, endpoint: Callable[[], str]) -> None:
    rep, req = pair(make, endpoint, zmtp.REP, zmtp.REQ)
    for n in range(3):
        req.send_multipart([b"ask", b"%d" % n])
        assert rep.recv_multipart() == [b"ask", b"%d" % n]
        rep.send(b"answer %d" % n)
        assert req.recv() == b"answer %d" % n


def test_req_must_alternate_send_and_recv_or_get_efsm(make: Maker) -> None:
    rep, req = pair(make, lambda: "inproc://efsm-req", zmtp.REP, zmtp.REQ)
    with pytest.raises(zmtp.ZMQError) as before:
        req.recv()
    req.send(b"one")
    with pytest.raises(zmtp.ZMQError) as twice:
        req.send(b"two")
    assert before.value.errno == twice.value.errno == zmtp.EFSM == zmq.EFSM
    assert rep.recv() == b"one"


def test_rep_must_recv_before_send_and_reply_before_recv_or_get_efsm(make: Maker) -> None:
    rep, req = pair(make, lambda: "inproc://efsm-rep", zmtp.REP, zmtp.REQ)
    with pytest.raises(zmtp.ZMQError) as early:
        rep.send(b"unasked")
    req.send(b"q")
    assert rep.recv() == b"q"
    with pytest.raises(zmtp.ZMQError) as owed:
        rep.recv(zmtp.DONTWAIT)
    assert early.value.errno == owed.value.errno == zmtp.EFSM
    rep.send(b"a")
    assert req.recv() == b"a"


def test_router_mandatory_makes_an_unknown_peer_ehostunreach(make: Maker) -> None:
    router = make(zmtp.ROUTER)
    router.router_mandatory = 1
    with pytest.raises(zmtp.ZMQError) as info:
        router.send_multipart([b"nobody", b"x"])
    assert info.value.errno == zmtp.EHOSTUNREACH == zmq.EHOSTUNREACH


def test_router_without_mandatory_drops_unroutable_messages_silently(make: Maker) -> None:
    router = make(zmtp.ROUTER)
    router.send_multipart([b"nobody", b"x"], zmtp.DONTWAIT)


def test_router_routes_replies_by_routing_id(make: Maker, endpoint: Callable[[], str]) -> None:
    router = make(zmtp.ROUTER, router_mandatory=1)
    addr = bind(router, endpoint())
    dealers = {}
    for name in (b"d1", b"d2"):
        dealer = make(zmtp.DEALER, routing_id=name)
        dealer.connect(addr)
        dealer.send(b"hello from " + name)
        dealers[name] = dealer
    seen = {}
    for _ in range(2):
        rid, body = router.recv_multipart()
        seen[rid] = body
    assert seen == {b"d1": b"hello from d1", b"d2": b"hello from d2"}
    router.send_multipart([b"d2", b"for d2"])
    router.send_multipart([b"d1", b"for d1"])
    assert dealers[b"d1"].recv() == b"for d1"
    assert dealers[b"d2"].recv() == b"for d2"


def _until_subscribed(pub: zmtp.Socket, sub: zmtp.Socket, topic: bytes) -> None:
    """Publish probes on ``topic`` until one arrives, then drain every probe (bounded)."""
    for _ in range(WAIT // 20):
        pub.send(topic + b"-probe")
        if sub.poll(20):
            break
    else:
        pytest.fail("the subscription never reached the publisher")
    pub.send(topic + b"-end")
    while sub.recv() != topic + b"-end":
        pass


def test_sub_receives_only_messages_starting_with_a_subscribed_prefix(
    make: Maker, endpoint: Callable[[], str]
) -> None:
    pub, sub = pair(make, endpoint, zmtp.PUB, zmtp.SUB)
    sub.subscribe(b"a")
    _until_subscribed(pub, sub, b"a")
    for topic in (b"b-1", b"a-1", b"ab-2", b"-a", b"A-3", b"a-end"):
        pub.send(topic)
    received = []
    while (message := sub.recv()) != b"a-end":
        received.append(message)
    assert received == [b"a-1", b"ab-2"]


def test_unsubscribe_stops_delivery_of_that_prefix(
    make: Maker, endpoint: Callable[[], str]
) -> None:
    pub, sub = pair(make, endpoint, zmtp.PUB, zmtp.SUB)
    sub.subscribe(b"a")
    _until_subscribed(pub, sub, b"a")
    sub.unsubscribe(b"a")
    sub.subscribe(b"z")
    _until_subscribed(pub, sub, b"z")
    for topic in (b"a-2", b"z-2", b"z-end"):
        pub.send(topic)
    received = []
    while (message := sub.recv()) != b"z-end":
        received.append(message)
    assert received == [b"z-2"]


def test_a_topic_subscribed_twice_needs_two_unsubscribes(make: Maker) -> None:
    pub, sub = pair(make, lambda: "inproc://twice", zmtp.PUB, zmtp.SUB)
    sub.subscribe(b"t")
    sub.subscribe(b"t")
    sub.unsubscribe(b"t")
    _until_subscribed(pub, sub, b"t")
    pub.send(b"t-still")
    assert sub.recv() == b"t-still"


def test_push_round_robins_over_two_pulls(make: Maker, endpoint: Callable[[], str]) -> None:
    first, second = make(zmtp.PULL), make(zmtp.PULL)
    push = make(zmtp.PUSH)
    push.connect(bind(first, endpoint()))
    push.connect(bind(second, endpoint()))
    for n in range(10):
        push.send(b"%d" % n)
    assert [first.recv() for _ in range(5)] == [b"0", b"2", b"4", b"6", b"8"]
    assert [second.recv() for _ in range(5)] == [b"1", b"3", b"5", b"7", b"9"]


def _fill(push: zmtp.Socket, payload: bytes, limit: int = 100_000) -> int:
    """Send with DONTWAIT until Again and no room appears for QUIET ms; return the count."""
    sent = 0
    for _ in range(limit):
        try:
            push.send(payload, zmtp.DONTWAIT)
        except zmtp.Again:
            if push.poll(QUIET, zmtp.POLLOUT) == 0:
                return sent
        else:
            sent += 1
    pytest.fail(f"{limit} messages went out and the HWM never pushed back")


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_push_to_a_pull_that_does_not_read_eventually_raises_again(
    make: Maker, endpoint: Callable[[], str]
) -> None:
    pull = make(zmtp.PULL, rcvhwm=10)
    push = make(zmtp.PUSH, sndhwm=10)
    push.connect(bind(pull, endpoint()))
    sent = _fill(push, b"x" * 16384)
    assert sent >= 10  # at least the SNDHWM; OS buffers add an unknown amount
    with pytest.raises(zmtp.Again):
        push.send(b"one more", zmtp.DONTWAIT)
    for _ in range(sent):  # PUSH blocks rather than drops: every message is there
        assert len(pull.recv()) == 16384


@pytest.mark.parametrize(("sndhwm", "rcvhwm"), [(5, 3), (1, 1), (3, 7)])
def test_inproc_holds_exactly_sndhwm_plus_rcvhwm_messages(
    make: Maker, sndhwm: int, rcvhwm: int
) -> None:
    pull = make(zmtp.PULL, rcvhwm=rcvhwm)
    push = make(zmtp.PUSH, sndhwm=sndhwm)
    pull.bind("inproc://hwm")
    push.connect("inproc://hwm")
    assert _fill(push, b"m") == sndhwm + rcvhwm


def test_rcvtimeo_makes_recv_raise_again_after_the_timeout(make: Maker) -> None:
    pull = make(zmtp.PULL, rcvtimeo=100)
    pull.bind("inproc://rcvtimeo")
    with pytest.raises(zmtp.Again):
        pull.recv()
    with pytest.raises(zmtp.Again):
        pull.recv_multipart()


def test_sndtimeo_makes_send_raise_again_after_the_timeout(make: Maker) -> None:
    push = make(zmtp.PUSH, sndtimeo=100)  # no peer: PUSH blocks
    with pytest.raises(zmtp.Again):
        push.send(b"x")
    with pytest.raises(zmtp.Again):
        push.send_multipart([b"x", b"y"])


CLOSED_CALLS = {
    "send": lambda s: s.send(b"x"),
    "send_multipart": lambda s: s.send_multipart([b"x"]),
    "recv": lambda s: s.recv(),
    "recv_multipart": lambda s: s.recv_multipart(),
    "bind": lambda s: s.bind("inproc://closed"),
    "connect": lambda s: s.connect("inproc://closed"),
    "setsockopt": lambda s: s.setsockopt(zmtp.LINGER, 0),
    "getsockopt": lambda s: s.getsockopt(zmtp.LINGER),
    "attribute": lambda s: s.linger,
}


@pytest.mark.parametrize("call", list(CLOSED_CALLS))
def test_using_a_closed_socket_raises_enotsock_as_pyzmq_does(
    ctx: zmtp.Context, zctx: zmq.Context, call: str
) -> None:
    theirs = zctx.socket(zmq.PUSH)
    theirs.close()
    ours = ctx.socket(zmtp.PUSH)
    ours.close()
    assert ours.closed
    assert outcome(lambda: CLOSED_CALLS[call](ours)) == outcome(lambda: CLOSED_CALLS[call](theirs))
    assert outcome(lambda: CLOSED_CALLS[call](ours)) == ("ZMQError", zmtp.ENOTSOCK)


def test_poll_on_a_closed_socket_raises_zmqerror(ctx: zmtp.Context) -> None:
    sock = ctx.socket(zmtp.PULL)
    sock.close()
    with pytest.raises(zmtp.ZMQError):
        sock.poll(0)


def test_closing_twice_is_harmless(ctx: zmtp.Context) -> None:
    sock = ctx.socket(zmtp.PULL)
    sock.close()
    sock.close()
    assert sock.closed


def test_a_socket_is_a_context_manager_that_closes_it(ctx: zmtp.Context) -> None:
    with ctx.socket(zmtp.PULL) as sock:
        sock.bind("inproc://cm")
    assert sock.closed


# -- closing and LINGER -----------------------------------------------------------------------
# As zmq_close: close() returns at once and frees the socket's addresses; queued messages get
# up to LINGER ms on the I/O thread, and Context.term() waits for them (test_context.py).


def _absent_peer(transport: str, tmp_path: Path) -> tuple[str, Callable[[], None]]:
    """An endpoint nobody listens on yet, and how to release it for a later bind."""
    if transport == "tcp":
        holder, port = reserved_tcp_port()
        return f"tcp://127.0.0.1:{port}", holder.close
    return f"ipc://{tmp_path}/absent", lambda: None


@pytest.mark.parametrize("linger", [0, 200, -1])
@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_close_returns_at_once_even_with_messages_queued_for_an_absent_peer(
    transport: str, linger: int, tmp_path: Path
) -> None:
    addr, release = _absent_peer(transport, tmp_path)
    context = zmtp.Context()
    push = context.socket(zmtp.PUSH)
    push.linger = linger
    push.connect(addr)
    for _ in range(3):
        push.send(b"queued", zmtp.DONTWAIT)
    Worker(push.close).result()
    assert push.closed
    release()
    if linger == -1:  # term() waits for them: let the peer appear and take them
        with zmtp.Context() as peer, peer.socket(zmtp.PULL) as pull:
            pull.rcvtimeo = WAIT
            pull.linger = 0
            pull.bind(addr)
            assert [pull.recv() for _ in range(3)] == [b"queued"] * 3
    Worker(context.destroy, 0).result()


@pytest.mark.parametrize("linger", [0, 200])
@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_with_linger_0_or_positive_term_gives_up_on_an_absent_peer(
    transport: str, linger: int, tmp_path: Path
) -> None:
    addr, release = _absent_peer(transport, tmp_path)
    context = zmtp.Context()
    push = context.socket(zmtp.PUSH)
    push.linger = linger
    push.connect(addr)
    push.send(b"queued", zmtp.DONTWAIT)
    push.close()
    Worker(context.term).result()  # waits at most LINGER (bounded here by WAIT)
    release()


def test_close_frees_the_address_before_it_returns(
    make: Maker, endpoint: Callable[[], str]
) -> None:
    pull, push = pair(make, endpoint, zmtp.PULL, zmtp.PUSH)
    addr = pull.getsockopt_string(zmtp.LAST_ENDPOINT)
    push.send(b"to the first")
    assert pull.recv() == b"to the first"
    pull.close()
    successor = make(zmtp.PULL)
    assert bind(successor, addr) == addr
    late = make(zmtp.PUSH)
    late.connect(addr)
    late.send(b"to the successor")
    assert successor.recv() == b"to the successor"


def test_close_with_linger_minus_1_delivers_everything_queued_to_a_live_peer(
    ctx: zmtp.Context, endpoint: Callable[[], str]
) -> None:
    pull = ctx.socket(zmtp.PULL)
    pull.rcvtimeo = WAIT
    addr = bind(pull, endpoint())
    push = ctx.socket(zmtp.PUSH)
    push.linger = -1
    push.connect(addr)
    for n in range(200):
        push.send(b"%d" % n)
    Worker(push.close).result()
    assert [pull.recv() for _ in range(200)] == [b"%d" % n for n in range(200)]
    pull.close(0)


# -- one socket, two threads ------------------------------------------------------------------


def _race(calls: list[Callable[[], Any]]) -> list[Worker]:
    """Start ``calls`` in threads released together by a barrier."""
    barrier = threading.Barrier(len(calls))

    def released(call: Callable[[], Any]) -> Any:
        barrier.wait(WAIT / 1000)
        return call()

    return [Worker(released, call) for call in calls]


def _refused_and_waiting(workers: list[Worker]) -> tuple[Worker, Worker]:
    """Wait (bounded) until one worker failed; return it and the other one."""
    for _ in range(WAIT // 10):
        failed = [w for w in workers if not w.thread.is_alive() and w.error is not None]
        if failed:
            (refused,) = failed
            (other,) = [w for w in workers if w is not refused]
            return refused, other
        workers[0].join(0.01)
    pytest.fail("neither concurrent call was refused")


def test_a_second_thread_calling_recv_while_another_waits_in_recv_gets_zmqerror(
    make: Maker,
) -> None:
    pull, push = pair(make, lambda: "inproc://threads-recv", zmtp.PULL, zmtp.PUSH)
    workers = _race([pull.recv, pull.recv])
    refused, waiting = _refused_and_waiting(workers)
    assert isinstance(refused.error, zmtp.ZMQError)
    assert not isinstance(refused.error, zmtp.Again)
    push.send(b"for the waiting thread")
    assert waiting.result() == b"for the waiting thread"
    push.send(b"later")  # the socket is still sound
    assert pull.recv() == b"later"


def test_a_second_thread_calling_send_while_another_waits_in_send_gets_zmqerror(
    make: Maker,
) -> None:
    pull = make(zmtp.PULL, rcvhwm=1)
    push = make(zmtp.PUSH, sndhwm=1)
    pull.bind("inproc://threads-send")
    push.connect("inproc://threads-send")
    assert _fill(push, b"fill") == 2
    workers = _race([lambda: push.send(b"A"), lambda: push.send(b"B")])
    refused, waiting = _refused_and_waiting(workers)
    assert isinstance(refused.error, zmtp.ZMQError)
    assert not isinstance(refused.error, zmtp.Again)
    received = [pull.recv() for _ in range(3)]
    waiting.result()
    assert received[:2] == [b"fill", b"fill"]
    assert received[2] in (b"A", b"B")
    assert pull.poll(QUIET) == 0  # the refused message was not sent
