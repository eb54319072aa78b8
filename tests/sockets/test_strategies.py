"""Pipes, high-water marks, round-robin and fair-queueing (notes 4.2 and 4.5; libzmq pipe/lb/fq).

Each test states one rule of the libzmq 4.3 model that every socket type builds on: a pipe is
one peer with two queues of whole messages, SNDHWM/RCVHWM count messages (0 = no limit), a
paused reader resumes once the socket has read a full inbound queue down to half, round-robin
skips peers without room and fair-queueing takes one message per peer in turn.
"""

from __future__ import annotations

import pytest

from zmtp.constants import SocketOption, SocketType
from zmtp.errors import Again
from zmtp.pipe import Pipe
from zmtp.sockets import create_socket_core
from zmtp.sockets.strategies import FairQueue, LoadBalancer


def filled(pipe: Pipe, count: int, tag: bytes = b"m") -> Pipe:
    """Queue ``count`` messages from the peer on ``pipe``'s inbound side."""
    for index in range(count):
        pipe.inbound.append([tag + str(index).encode()])
    return pipe


# --- Pipe and high-water marks ------------------------------------------------------------


def test_new_pipes_get_libzmqs_default_hwm_of_1000_messages() -> None:
    pipe = create_socket_core(SocketType.DEALER).new_pipe()
    assert (pipe.sndhwm, pipe.rcvhwm) == (1000, 1000)


def test_new_pipes_take_the_sockets_current_hwm_options() -> None:
    core = create_socket_core(SocketType.DEALER)
    core.set_option(SocketOption.SNDHWM, 7)
    core.set_option(SocketOption.RCVHWM, 3)
    pipe = core.new_pipe()
    assert (pipe.sndhwm, pipe.rcvhwm) == (7, 3)


def test_sndhwm_counts_whole_messages_not_frames() -> None:
    pipe = Pipe(sndhwm=2)
    pipe.write([b"a"] * 50)
    assert pipe.writable()
    pipe.write([b"b"] * 50)
    assert not pipe.writable()


def test_sndhwm_zero_means_no_limit() -> None:
    pipe = Pipe(sndhwm=0)
    for index in range(10_000):
        pipe.write([str(index).encode()])
    assert pipe.writable()


def test_rcvhwm_counts_whole_messages_for_the_inbound_queue() -> None:
    pipe = Pipe(rcvhwm=3)
    filled(pipe, 2)
    assert not pipe.inbound_full()
    pipe.inbound.append([b"x", b"y", b"z"])
    assert pipe.inbound_full()


def test_rcvhwm_zero_never_fills() -> None:
    pipe = filled(Pipe(rcvhwm=0), 10_000)
    assert not pipe.inbound_full()


def test_write_notifies_only_when_the_outbound_queue_stops_being_empty() -> None:
    pipe = Pipe()
    calls: list[Pipe] = []
    pipe.on_outbound = calls.append
    pipe.write([b"1"])
    pipe.write([b"2"])
    assert calls == [pipe]
    pipe.outbound.clear()
    pipe.write([b"3"])
    assert calls == [pipe, pipe]


def test_read_takes_the_oldest_inbound_message() -> None:
    pipe = filled(Pipe(), 3)
    assert [pipe.read(), pipe.read(), pipe.read()] == [[b"m0"], [b"m1"], [b"m2"]]


def test_paused_reader_resumes_when_inbound_drops_to_half_rcvhwm() -> None:
    pipe = filled(Pipe(rcvhwm=5), 5)
    pipe.reading_paused = True
    resumed: list[Pipe] = []
    pipe.on_resume_reading = resumed.append
    pipe.read()
    pipe.read()  # 3 left: more than 5 // 2, libzmq has not yet sent the reader's credit
    assert resumed == []
    assert pipe.reading_paused
    pipe.read()  # 2 left: (5 + 1) // 2 messages read since the queue was full
    assert resumed == [pipe]
    assert not pipe.reading_paused


def test_resume_is_announced_once_per_pause() -> None:
    pipe = filled(Pipe(rcvhwm=4), 4)
    pipe.reading_paused = True
    resumed: list[Pipe] = []
    pipe.on_resume_reading = resumed.append
    while pipe.inbound:
        pipe.read()
    assert resumed == [pipe]


def test_a_reader_that_is_not_paused_is_never_told_to_resume() -> None:
    pipe = filled(Pipe(rcvhwm=4), 4)
    resumed: list[Pipe] = []
    pipe.on_resume_reading = resumed.append
    while pipe.inbound:
        pipe.read()
    assert resumed == []


def test_terminate_asks_the_driver_to_close_the_peer() -> None:
    pipe = Pipe()
    closed: list[Pipe] = []
    pipe.on_terminate = closed.append
    pipe.terminate()
    assert closed == [pipe]


@pytest.mark.parametrize(
    ("first_frame", "expected"),
    [(b"ab", True), (b"abc", True), (b"a", False), (b"xab", False), (b"", False)],
)
def test_subscriptions_match_as_binary_prefixes_of_the_first_frame(
    first_frame: bytes, expected: bool
) -> None:
    pipe = Pipe()
    pipe.subscriptions.add(b"ab")
    assert pipe.matches(first_frame) is expected


def test_the_empty_subscription_matches_every_message() -> None:
    pipe = Pipe()
    pipe.subscriptions.add(b"")
    assert pipe.matches(b"") and pipe.matches(b"\x00anything")


def test_no_subscription_matches_nothing() -> None:
    assert not Pipe().matches(b"")


# --- round-robin (libzmq lb_t) ------------------------------------------------------------


def test_load_balancer_sends_to_each_pipe_in_turn() -> None:
    lb = LoadBalancer()
    pipes = [Pipe(), Pipe(), Pipe()]
    for pipe in pipes:
        lb.add(pipe)
    chosen = [lb.send([str(n).encode()]) for n in range(6)]
    assert chosen == pipes + pipes
    assert [list(p.outbound) for p in pipes] == [
        [[b"0"], [b"3"]],
        [[b"1"], [b"4"]],
        [[b"2"], [b"5"]],
    ]


def test_load_balancer_skips_a_full_pipe() -> None:
    lb = LoadBalancer()
    first, full, last = Pipe(), Pipe(sndhwm=1), Pipe()
    full.write([b"old"])
    for pipe in (first, full, last):
        lb.add(pipe)
    assert [lb.send([b"x"]) for _ in range(4)] == [first, last, first, last]
    assert list(full.outbound) == [[b"old"]]


def test_load_balancer_raises_again_when_every_pipe_is_full() -> None:
    lb = LoadBalancer()
    for _ in range(2):
        pipe = Pipe(sndhwm=1)
        pipe.write([b"old"])
        lb.add(pipe)
    with pytest.raises(Again):
        lb.send([b"x"])
    assert not lb.writable()


def test_load_balancer_without_pipes_raises_again() -> None:
    lb = LoadBalancer()
    with pytest.raises(Again):
        lb.send([b"x"])
    assert not lb.writable()


def test_load_balancer_continues_the_rotation_after_a_removed_pipe() -> None:
    lb = LoadBalancer()
    a, b, c = Pipe(), Pipe(), Pipe()
    for pipe in (a, b, c):
        lb.add(pipe)
    assert lb.send([b"1"]) is a
    lb.remove(b)  # b was next in turn: c takes its place, a does not get two in a row
    assert [lb.send([b"x"]) for _ in range(3)] == [c, a, c]


# --- fair-queueing (libzmq fq_t) ----------------------------------------------------------


def test_fair_queue_takes_one_message_from_each_pipe_in_turn() -> None:
    fq = FairQueue()
    chatty, quiet = filled(Pipe(), 3, b"c"), filled(Pipe(), 1, b"q")
    fq.add(chatty)
    fq.add(quiet)
    received = [fq.recv() for _ in range(4)]
    assert received == [([b"c0"], chatty), ([b"q0"], quiet), ([b"c1"], chatty), ([b"c2"], chatty)]


def test_fair_queue_skips_pipes_with_nothing_waiting() -> None:
    fq = FairQueue()
    empty, busy = Pipe(), filled(Pipe(), 2)
    fq.add(empty)
    fq.add(busy)
    assert [fq.recv()[1] for _ in range(2)] == [busy, busy]


def test_fair_queue_raises_again_when_nothing_waits() -> None:
    fq = FairQueue()
    fq.add(Pipe())
    with pytest.raises(Again):
        fq.recv()
    assert not fq.readable()


def test_fair_queue_does_not_start_over_with_the_first_pipe_after_each_message() -> None:
    fq = FairQueue()
    a, b = filled(Pipe(), 2, b"a"), filled(Pipe(), 2, b"b")
    fq.add(a)
    fq.add(b)
    assert fq.recv()[1] is a
    a.inbound.append([b"late"])
    assert fq.recv()[1] is b


def test_fair_queue_drains_a_removed_pipe_then_forgets_it() -> None:
    fq = FairQueue()
    gone, kept = filled(Pipe(), 2, b"g"), filled(Pipe(), 1, b"k")
    fq.add(gone)
    fq.add(kept)
    fq.remove(gone)
    received = [fq.recv()[0] for _ in range(3)]
    assert sorted(received) == [[b"g0"], [b"g1"], [b"k0"]]
    assert gone not in fq.pipes
    with pytest.raises(Again):
        fq.recv()


def test_fair_queue_forgets_a_removed_empty_pipe_at_once() -> None:
    fq = FairQueue()
    gone = Pipe()
    fq.add(gone)
    fq.remove(gone)
    assert fq.pipes == []
