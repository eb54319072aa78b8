"""PUSH and PULL (RFC 30, Pipeline; libzmq 4.3 push.cpp/pull.cpp over lb_t and fq_t)."""

from __future__ import annotations

import pytest

from zmtp.constants import Errno, SocketOption, SocketType
from zmtp.errors import Again, ZMQError
from zmtp.pipe import Pipe
from zmtp.sockets import SocketCore, create_socket_core


def push() -> SocketCore:
    return create_socket_core(SocketType.PUSH)


def pull() -> SocketCore:
    return create_socket_core(SocketType.PULL)


def connect(core: SocketCore, pipe: Pipe | None = None) -> Pipe:
    pipe = core.new_pipe() if pipe is None else pipe
    assert core.attach(pipe)
    return pipe


def full_pipe() -> Pipe:
    pipe = Pipe(sndhwm=1)
    pipe.write([b"old"])
    return pipe


# --- PUSH ---------------------------------------------------------------------------------


def test_push_round_robins_messages_over_its_peers() -> None:
    core = push()
    peers = [connect(core) for _ in range(3)]
    for n in range(6):
        core.send([str(n).encode()])
    assert [[m[0] for m in p.outbound] for p in peers] == [[b"0", b"3"], [b"1", b"4"], [b"2", b"5"]]


def test_push_sends_a_multipart_message_whole_to_one_peer() -> None:
    core = push()
    first, second = connect(core), connect(core)
    core.send([b"a", b"b", b"c"])
    assert list(first.outbound) == [[b"a", b"b", b"c"]]
    assert not second.outbound


def test_push_skips_a_peer_whose_queue_is_full() -> None:
    core = push()
    full = connect(core, full_pipe())
    other = connect(core)
    core.send([b"1"])
    core.send([b"2"])
    assert list(full.outbound) == [[b"old"]]
    assert list(other.outbound) == [[b"1"], [b"2"]]


def test_push_raises_again_when_every_peer_is_full() -> None:
    core = push()
    peers = [connect(core, full_pipe()) for _ in range(2)]
    with pytest.raises(Again):
        core.send([b"x"])
    assert [list(p.outbound) for p in peers] == [[[b"old"]], [[b"old"]]]


def test_push_without_peers_raises_again() -> None:
    with pytest.raises(Again):
        push().send([b"x"])


def test_push_with_sndhwm_zero_never_blocks() -> None:
    core = push()
    core.set_option(SocketOption.SNDHWM, 0)
    peer = connect(core)
    for n in range(5000):
        core.send([str(n).encode()])
    assert len(peer.outbound) == 5000


def test_push_stops_using_a_peer_that_went_away() -> None:
    core = push()
    gone, kept = connect(core), connect(core)
    core.detach(gone)
    core.send([b"1"])
    core.send([b"2"])
    assert not gone.outbound
    assert list(kept.outbound) == [[b"1"], [b"2"]]


def test_push_cannot_receive() -> None:
    with pytest.raises(ZMQError) as info:
        push().recv()
    assert info.value.errno == Errno.ENOTSUP


def test_push_pollout_follows_whether_some_peer_has_room() -> None:
    core = push()
    assert not core.writable()
    connect(core, full_pipe())
    assert not core.writable()
    connect(core, Pipe(sndhwm=1))
    assert core.writable()
    core.send([b"x"])
    assert not core.writable()


def test_push_is_never_readable() -> None:
    core = push()
    connect(core).inbound.append([b"stray"])
    assert not core.readable()


# --- PULL ---------------------------------------------------------------------------------


def test_pull_fair_queues_one_message_per_peer_in_turn() -> None:
    core = pull()
    chatty, quiet = connect(core), connect(core)
    chatty.inbound.extend([[b"c1"], [b"c2"], [b"c3"]])
    quiet.inbound.extend([[b"q1"], [b"q2"]])
    received = [core.recv()[0] for _ in range(5)]
    assert received == [b"c1", b"q1", b"c2", b"q2", b"c3"]


def test_pull_delivers_messages_unchanged() -> None:
    core = pull()
    connect(core).inbound.append([b"a", b"", b"b"])
    assert core.recv() == [b"a", b"", b"b"]


def test_pull_with_nothing_waiting_raises_again() -> None:
    core = pull()
    connect(core)
    with pytest.raises(Again):
        core.recv()


def test_pull_still_delivers_what_a_departed_peer_sent_before_leaving() -> None:
    # libzmq terminates a pipe behind its delimiter: what arrived first is still read
    # (the "send, then close" pattern relies on it).
    core = pull()
    gone = connect(core)
    gone.inbound.append([b"unread"])
    core.detach(gone)
    assert core.readable()
    assert core.recv() == [b"unread"]
    assert not core.readable()
    with pytest.raises(Again):
        core.recv()


def test_pull_cannot_send() -> None:
    core = pull()
    connect(core)
    with pytest.raises(ZMQError) as info:
        core.send([b"x"])
    assert info.value.errno == Errno.ENOTSUP


def test_pull_pollin_follows_whether_a_message_waits() -> None:
    core = pull()
    peer = connect(core)
    assert not core.readable()
    peer.inbound.append([b"x"])
    assert core.readable()
    core.recv()
    assert not core.readable()


def test_pull_is_never_writable() -> None:
    core = pull()
    connect(core)
    assert not core.writable()
