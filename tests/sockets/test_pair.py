"""PAIR (RFC 31, Exclusive Pair; libzmq 4.3 pair.cpp): one peer, messages both ways."""

from __future__ import annotations

import pytest

from zmtp.constants import SocketType
from zmtp.errors import Again
from zmtp.pipe import Pipe
from zmtp.sockets import SocketCore, create_socket_core


def pair() -> SocketCore:
    return create_socket_core(SocketType.PAIR)


def connect(core: SocketCore, pipe: Pipe | None = None) -> Pipe:
    pipe = core.new_pipe() if pipe is None else pipe
    assert core.attach(pipe)
    return pipe


def test_pair_sends_to_its_peer_unchanged() -> None:
    core = pair()
    peer = connect(core)
    core.send([b"a", b"b"])
    assert list(peer.outbound) == [[b"a", b"b"]]


def test_pair_receives_from_its_peer_in_order() -> None:
    core = pair()
    peer = connect(core)
    peer.inbound.extend([[b"1"], [b"2", b"3"]])
    assert [core.recv(), core.recv()] == [[b"1"], [b"2", b"3"]]


def test_pair_refuses_a_second_peer() -> None:
    core = pair()
    connect(core)
    second = core.new_pipe()
    assert core.attach(second) is False
    assert not second.attached
    assert second not in core.pipes


def test_pair_never_sends_to_a_refused_peer() -> None:
    core = pair()
    first = connect(core)
    second = core.new_pipe()
    core.attach(second)
    core.send([b"x"])
    assert list(first.outbound) == [[b"x"]]
    assert not second.outbound


def test_pair_never_reads_from_a_refused_peer() -> None:
    core = pair()
    connect(core)
    second = core.new_pipe()
    core.attach(second)
    second.inbound.append([b"intruder"])
    assert not core.readable()
    with pytest.raises(Again):
        core.recv()


def test_pair_accepts_a_new_peer_once_the_first_has_gone() -> None:
    core = pair()
    first = connect(core)
    core.detach(first)
    second = core.new_pipe()
    assert core.attach(second)
    core.send([b"x"])
    assert list(second.outbound) == [[b"x"]]


def test_pair_send_without_a_peer_raises_again() -> None:
    with pytest.raises(Again):
        pair().send([b"x"])


def test_pair_send_to_a_full_peer_raises_again_and_queues_nothing() -> None:
    core = pair()
    peer = connect(core, Pipe(sndhwm=1))
    core.send([b"1"])
    with pytest.raises(Again):
        core.send([b"2"])
    assert list(peer.outbound) == [[b"1"]]


def test_pair_recv_with_nothing_waiting_raises_again() -> None:
    core = pair()
    connect(core)
    with pytest.raises(Again):
        core.recv()


def test_pair_pollout_is_true_only_with_a_peer_that_has_room() -> None:
    core = pair()
    assert not core.writable()
    connect(core, Pipe(sndhwm=1))
    assert core.writable()
    core.send([b"1"])
    assert not core.writable()


def test_pair_pollin_is_true_only_when_the_peer_sent_something() -> None:
    core = pair()
    assert not core.readable()
    peer = connect(core)
    assert not core.readable()
    peer.inbound.append([b"x"])
    assert core.readable()
    core.recv()
    assert not core.readable()
