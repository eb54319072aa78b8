"""Several Socket objects on one socket: ``Socket.shadow``, ``Socket(other)``, ``copy.copy``.

As in pyzmq (where they share one libzmq socket), the objects share everything that is the
socket's: its peers, queues, a message half received, and whether it is closed.
"""

from __future__ import annotations

import copy
import gc
from collections.abc import Iterator

import pytest
from api_support import Worker, socket_maker

import zmtp


@pytest.fixture
def ctx() -> Iterator[zmtp.Context]:
    context = zmtp.Context()
    yield context
    gc.collect()
    assert Worker(context.destroy, 0).join(), "ctx.destroy(linger=0) hung"


@pytest.fixture
def pair(ctx: zmtp.Context) -> tuple[zmtp.Socket, zmtp.Socket]:
    make = socket_maker(ctx, zmtp.Socket)
    push, pull = make(zmtp.PUSH), make(zmtp.PULL)
    pull.bind("inproc://shadowed")
    push.connect("inproc://shadowed")
    return push, pull


def test_shadow_by_address_drives_the_same_socket(pair: tuple[zmtp.Socket, zmtp.Socket]) -> None:
    push, pull = pair
    shadow = zmtp.Socket.shadow(pull.underlying)
    assert shadow.underlying == pull.underlying != push.underlying
    assert shadow._shadow and not pull._shadow
    push.send(b"one")
    assert shadow.recv() == b"one"
    assert shadow.context is pull.context and shadow.socket_type == zmtp.PULL


def test_socket_of_a_socket_is_a_shadow_that_keeps_it(
    pair: tuple[zmtp.Socket, zmtp.Socket],
) -> None:
    push, _ = pair
    for shadow in (zmtp.Socket(push), zmtp.Socket(shadow=push), zmtp.Socket.shadow(push)):
        assert shadow._shadow_obj is push
        assert shadow.underlying == push.underlying


def test_copy_and_deepcopy_make_shadows(pair: tuple[zmtp.Socket, zmtp.Socket]) -> None:
    push, _ = pair
    for twin in (copy.copy(push), copy.deepcopy(push)):
        assert twin._shadow and twin.underlying == push.underlying


def test_a_message_half_received_through_one_object_continues_through_the_other(
    pair: tuple[zmtp.Socket, zmtp.Socket],
) -> None:
    push, pull = pair
    shadow = zmtp.Socket(pull)
    push.send_multipart([b"a", b"b"])
    assert pull.recv() == b"a"
    assert shadow.rcvmore
    assert shadow.recv_multipart() == [b"b"]


def test_options_set_through_a_shadow_are_the_sockets(
    pair: tuple[zmtp.Socket, zmtp.Socket],
) -> None:
    _, pull = pair
    zmtp.Socket(pull).rcvhwm = 7
    assert pull.rcvhwm == 7


def test_closing_either_object_closes_the_socket_for_both(
    pair: tuple[zmtp.Socket, zmtp.Socket],
) -> None:
    _, pull = pair
    shadow = zmtp.Socket(pull)
    shadow.close()
    assert pull.closed and shadow.closed
    with pytest.raises(zmtp.ZMQError) as raised:
        pull.recv()
    assert raised.value.errno == zmtp.ENOTSOCK
    assert "closed" in repr(pull)


def test_a_collected_shadow_leaves_the_socket_open(pair: tuple[zmtp.Socket, zmtp.Socket]) -> None:
    push, pull = pair
    zmtp.Socket(pull)  # dropped at once
    gc.collect()
    push.send(b"still")
    assert pull.recv() == b"still"


def test_a_blocked_recv_on_a_shadow_is_woken_by_a_message(
    pair: tuple[zmtp.Socket, zmtp.Socket],
) -> None:
    push, pull = pair
    shadow = zmtp.Socket(pull)
    waiting = Worker(shadow.recv)
    push.send(b"wake")
    assert waiting.result() == b"wake"


def test_term_reaches_shadows_with_eterm(ctx: zmtp.Context) -> None:
    pull = ctx.socket(zmtp.PULL)
    shadow = zmtp.Socket(pull)
    blocked = Worker(shadow.recv)
    terminating = Worker(ctx.term)
    with pytest.raises(zmtp.ContextTerminated):
        blocked.result()
    shadow.close()
    assert terminating.join(), "term() did not return once the socket was closed"


def test_shadowing_an_unknown_address_is_enotsock() -> None:
    with pytest.raises(zmtp.ZMQError) as raised:
        zmtp.Socket.shadow(12345)
    assert raised.value.errno == zmtp.ENOTSOCK
    with pytest.raises(TypeError):
        zmtp.Socket.shadow("not an address")  # type: ignore[arg-type]
