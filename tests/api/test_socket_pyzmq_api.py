"""pyzmq's conveniences on the blocking Socket, each checked against pyzmq where it answers.

recv_into, bind/connect as context managers, ``sock.subscribe = topic``, serialized sends,
string options, repr and dir, and write-only options as missing attributes.
"""

from __future__ import annotations

import gc
import json
from array import array
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import zmq
from api_support import Worker, socket_maker

import zmtp

QUIET = 300  # ms: how long "nothing arrives" is watched for

Maker = Callable[..., zmtp.Socket]


@pytest.fixture
def ctx() -> Iterator[zmtp.Context]:
    context = zmtp.Context()
    yield context
    gc.collect()
    assert Worker(context.destroy, 0).join(), "ctx.destroy(linger=0) hung"


@pytest.fixture
def make(ctx: zmtp.Context) -> Maker:
    return socket_maker(ctx, zmtp.Socket)


@pytest.fixture
def pair(make: Maker) -> tuple[zmtp.Socket, zmtp.Socket]:
    push, pull = make(zmtp.PUSH), make(zmtp.PULL)
    pull.bind("inproc://pyzmq-api")
    push.connect("inproc://pyzmq-api")
    return push, pull


def test_recv_into_fills_the_buffer_and_returns_the_frames_whole_size(
    pair: tuple[zmtp.Socket, zmtp.Socket],
) -> None:
    push, pull = pair
    push.send_multipart([b"hello", b"there world", b"part 3", b"rest"])
    wide = array("Q", [0])
    assert pull.recv_into(wide) == 5 and wide.tobytes()[:5] == b"hello"
    short = bytearray(4)
    assert pull.recv_into(short) == 11 and short == b"ther"
    limited = bytearray(10)
    assert pull.recv_into(limited, nbytes=4) == 6 and limited == b"part" + bytes(6)
    assert pull.recv_into(memoryview(bytearray(10))[:0]) == 4
    assert not pull.rcvmore


def _recv_into_error(sock: Any, buffer: Any, **kwargs: Any) -> type[BaseException]:
    with pytest.raises(Exception) as raised:
        sock.recv_into(buffer, **kwargs)
    return raised.type


@pytest.mark.parametrize(
    ("buffer", "kwargs"),
    [
        (bytearray(10), {"nbytes": -1}),
        (bytearray(10), {"nbytes": 11}),
        (memoryview(bytearray(10))[::2], {}),
        (memoryview(b"readonly"), {}),
        (object(), {}),
        (bytearray(5), {"flags": zmtp.DONTWAIT}),
    ],
)
def test_recv_into_refuses_bad_calls_as_pyzmq_does(
    pair: tuple[zmtp.Socket, zmtp.Socket], buffer: Any, kwargs: dict[str, Any]
) -> None:
    _, pull = pair
    with zmq.Context() as zctx, zctx.socket(zmq.PULL) as theirs:
        theirs.linger = 0
        expected = _recv_into_error(theirs, buffer, **kwargs)
    got = _recv_into_error(pull, buffer, **kwargs)
    assert got is expected or (issubclass(got, zmtp.Again) and expected is zmq.Again)


def test_bind_and_connect_return_context_managers_that_undo_them(make: Maker) -> None:
    push, pull = make(zmtp.PUSH), make(zmtp.PULL)
    binding = push.bind("tcp://127.0.0.1:0")
    endpoint = push.last_endpoint.decode()
    assert repr(binding) == f"<SocketContext(bind={endpoint!r})>"
    with binding, pull.connect(endpoint) as connected:
        assert connected is pull
        push.send(b"inside")
        assert pull.recv() == b"inside"
    assert pull.poll(QUIET) == 0
    with pytest.raises(zmtp.ZMQError) as raised:
        push.unbind(endpoint)
    assert raised.value.errno == zmtp.ENOENT


def test_assigning_subscribe_and_unsubscribe_sets_the_options(make: Maker) -> None:
    pub, sub = make(zmtp.PUB), make(zmtp.SUB)
    pub.bind("inproc://topics")
    sub.connect("inproc://topics")
    sub.subscribe = "c"
    poller = zmtp.Poller()
    poller.register(sub, zmtp.POLLIN)
    for _ in range(100):  # a subscription reaches the publisher asynchronously
        pub.send(b"canary")
        if poller.poll(50):
            break
    assert sub.recv() == b"canary"
    sub.unsubscribe = b"c"
    sub.subscribe = b"x"
    for _ in range(100):
        pub.send(b"canary")
        pub.send(b"xylophone")
        if poller.poll(50):
            break
    assert sub.recv() == b"xylophone"


def test_send_serialized_and_recv_serialized_pass_frames_through_the_functions(
    pair: tuple[zmtp.Socket, zmtp.Socket],
) -> None:
    push, pull = pair
    push.send_serialized({"a": [1, 2]}, lambda msg: [b"json", json.dumps(msg).encode()])
    kind, body = pull.recv_serialized(lambda frames: (frames[0], json.loads(frames[1])))
    assert (kind, body) == (b"json", {"a": [1, 2]})


def test_string_options_are_only_the_bytes_ones(make: Maker) -> None:
    sub = make(zmtp.SUB)
    sub.setsockopt_unicode(zmtp.IDENTITY, "tést", "utf16")
    assert sub.getsockopt_unicode(zmtp.IDENTITY, "utf16") == "tést"
    with pytest.raises(TypeError):
        sub.getsockopt_string(zmtp.AFFINITY)
    with pytest.raises(TypeError):
        sub.set_string(zmtp.IDENTITY, b"bytes")  # type: ignore[arg-type]
    with pytest.raises(zmtp.ZMQError) as raised:
        sub.get_string(zmtp.SUBSCRIBE)
    assert raised.value.errno == zmtp.EINVAL


@pytest.mark.parametrize("name", ["router_mandatory", "probe_router", "linger", "rcvmore"])
def test_an_option_the_socket_cannot_read_is_no_attribute_as_in_pyzmq(
    make: Maker, name: str
) -> None:
    with zmq.Context() as zctx, zctx.socket(zmq.ROUTER) as theirs:
        theirs.linger = 0
        expected = hasattr(theirs, name)
    assert hasattr(make(zmtp.ROUTER), name) is expected


def test_repr_names_the_type_and_says_closed_only_once_closed(make: Maker) -> None:
    sock = make(zmtp.PUSH)
    assert repr(sock).startswith("<zmtp.Socket(zmq.PUSH) at 0x")
    assert "closed" not in repr(sock)
    sock.close()
    assert repr(sock).endswith(" closed>")


def test_dir_lists_the_option_names_for_completion(make: Maker) -> None:
    names = dir(make(zmtp.PUB))
    assert {"send", "IDENTITY", "AFFINITY", "FD"} <= set(names)


def test_poller_knows_which_sockets_it_watches(pair: tuple[zmtp.Socket, zmtp.Socket]) -> None:
    push, pull = pair
    poller = zmtp.Poller()
    poller.register(push, zmtp.POLLOUT)
    poller.register(pull, 0)
    assert push in poller and pull not in poller
    poller.register(push, 0)
    assert push not in poller


def test_hwm_reads_sndhwm_and_sets_both_as_get_hwm_and_set_hwm(make: Maker) -> None:
    sock = make(zmtp.DEALER)
    sock.set_hwm(11)
    assert (sock.get_hwm(), sock.sndhwm, sock.rcvhwm) == (11, 11, 11)
    sock.hwm = 12
    assert sock.hwm == 12 and sock.rcvhwm == 12


def test_fileno_is_the_fd_option(make: Maker) -> None:
    sock = make(zmtp.DEALER)
    assert sock.fileno() == sock.fd == sock.getsockopt(zmtp.FD)
