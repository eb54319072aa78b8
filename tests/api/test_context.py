"""``zmtp.Context``: socket creation, default socket options, term/destroy, and its I/O thread.

libzmq's rules for ending a context (zmq_ctx_term): term blocks until every socket is closed;
a thread blocked in a socket call meanwhile gets ETERM, and should then close its socket.
pyzmq is asked at test time where its answer is the reference. Every wait is bounded.
"""

from __future__ import annotations

import contextlib
import gc
import socket
import threading
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import zmq
from api_support import Worker

import zmtp
import zmtp.asyncio

WAIT = 5000  # ms: the bound on anything that should happen
QUIET = 300  # ms: how long "it has not happened" is watched for


@pytest.fixture
def ctx() -> Iterator[zmtp.Context]:
    context = zmtp.Context()
    yield context
    gc.collect()  # not inside destroy(): see the Socket.__del__ deadlock test below
    if not context.closed:
        assert Worker(context.destroy, 0).join(), "ctx.destroy(linger=0) hung"


def _blocked_in(worker: Worker, sock: zmtp.Socket) -> None:
    """Wait (bounded) until ``worker`` is waiting inside a call on ``sock``.

    Seen from outside only through the thread the blocking API records as blocked in the
    socket; this keeps "the other thread is blocked" free of sleeps.
    """
    for _ in range(WAIT // 5):
        if sock._handle.waiter is not None or not worker.thread.is_alive():
            return
        worker.join(0.005)
    pytest.fail("the worker never blocked")


def _until(condition: Callable[[], bool]) -> None:
    """Wait (bounded, in short joins of nothing) until ``condition()`` holds."""
    pause = threading.Event()
    for _ in range(WAIT // 2):
        if condition():
            return
        pause.wait(0.002)
    pytest.fail("the condition never held")


def _term_started(context: zmtp.Context, probe: zmtp.Socket) -> None:
    """Wait (bounded) until term() has started: zmtp marks the context closed at once;
    libzmq instead fails calls on open sockets with ETERM (so pyzmq's answer is seen too).
    """

    def started() -> bool:
        if context.closed:
            return True
        try:
            probe.getsockopt(zmtp.TYPE)
        except zmtp.ContextTerminated:
            return True
        return False

    _until(started)


def _wait_for_thread_count(expected: int) -> int:
    """Threads may take a moment to exit after term; wait (bounded) for the count."""
    for _ in range(WAIT // 10):
        if threading.active_count() <= expected:
            break
        threading.Event().wait(0.01)
    return threading.active_count()


# -- socket creation and default options ------------------------------------------------------


def test_socket_makes_a_socket_of_the_type_in_this_context(ctx: zmtp.Context) -> None:
    sock = ctx.socket(zmtp.DEALER)
    assert isinstance(sock, zmtp.Socket)
    assert sock.type == zmtp.DEALER == sock.getsockopt(zmtp.TYPE)
    assert sock.context is ctx
    sock.close()


def test_socket_keyword_arguments_set_options_a_zmtp_extension(ctx: zmtp.Context) -> None:
    """As in pyzmq the keywords go to the socket class; zmtp.Socket takes them as options."""
    sock = ctx.socket(zmtp.DEALER, linger=0, routing_id=b"kw")
    assert (sock.linger, sock.routing_id) == (0, b"kw")
    sock.close()


def test_socket_class_argument_chooses_the_class_as_in_pyzmq(ctx: zmtp.Context) -> None:
    sock = ctx.socket(zmtp.PULL, socket_class=zmtp.asyncio.Socket)
    try:
        assert isinstance(sock, zmtp.asyncio.Socket)
    finally:
        sock.close()


def test_an_unknown_socket_type_is_einval(ctx: zmtp.Context) -> None:
    with pytest.raises(zmtp.ZMQError) as info:
        ctx.socket(999)
    assert info.value.errno == zmtp.EINVAL


def test_ctx_sockopts_are_defaults_for_new_sockets(ctx: zmtp.Context) -> None:
    ctx.sockopts[zmtp.LINGER] = 0
    ctx.sockopts[zmtp.SNDHWM] = 5
    sock = ctx.socket(zmtp.PUSH)
    assert (sock.linger, sock.sndhwm) == (0, 5)
    sock.close()


def test_ctx_sockopts_that_do_not_fit_a_socket_type_are_skipped_for_it(
    ctx: zmtp.Context,
) -> None:
    ctx.sockopts[zmtp.SUBSCRIBE] = b""
    ctx.sockopts[zmtp.RCVHWM] = 9
    pub = ctx.socket(zmtp.PUB)  # SUBSCRIBE is EINVAL on PUB: skipped, as pyzmq does
    sub = ctx.socket(zmtp.SUB)
    assert (pub.rcvhwm, sub.rcvhwm) == (9, 9)
    pub.bind("inproc://defaults")
    sub.connect("inproc://defaults")
    sub.rcvtimeo = 20
    for _ in range(WAIT // 20):  # SUB got the subscription: it receives everything
        pub.send(b"anything")
        try:
            assert sub.recv() == b"anything"
            break
        except zmtp.Again:
            pass
    else:
        pytest.fail("the context's SUBSCRIBE default was not applied to the SUB socket")
    pub.close(0)
    sub.close(0)


def test_ctx_setsockopt_and_getsockopt_as_pyzmq(ctx: zmtp.Context) -> None:
    ctx.setsockopt(zmtp.LINGER, 0)
    assert ctx.getsockopt(zmtp.LINGER) == 0
    sock = ctx.socket(zmtp.PUSH)
    assert sock.linger == 0
    sock.close()


def test_ctx_options_as_attributes_as_pyzmq(ctx: zmtp.Context) -> None:
    ctx.linger = 0
    sock = ctx.socket(zmtp.PUSH)
    assert sock.linger == 0
    assert ctx.io_threads == 1
    sock.close()


# -- context options --------------------------------------------------------------------------


def test_context_options_read_and_write_with_get_and_set(ctx: zmtp.Context) -> None:
    assert ctx.get(zmtp.IO_THREADS) == 1
    ctx.set(zmtp.MAX_SOCKETS, 100)
    assert ctx.get(zmtp.MAX_SOCKETS) == 100


def test_an_unknown_context_option_is_einval_as_in_pyzmq(ctx: zmtp.Context) -> None:
    with zmq.Context() as theirs, pytest.raises(zmq.ZMQError) as expected:
        theirs.get(9999)
    with pytest.raises(zmtp.ZMQError) as info:
        ctx.get(9999)
    assert info.value.errno == expected.value.errno == zmtp.EINVAL


def test_instance_is_shared_until_terminated_then_renewed() -> None:
    first = zmtp.Context.instance()
    assert zmtp.Context.instance() is first
    first.term()
    second = zmtp.Context.instance()
    assert second is not first
    assert not second.closed
    second.term()


def test_asyncio_instance_is_an_asyncio_context_even_after_the_blocking_one() -> None:
    blocking = zmtp.Context.instance()
    try:
        asynchronous = zmtp.asyncio.Context.instance()
        try:
            assert isinstance(asynchronous, zmtp.asyncio.Context)
        finally:
            if asynchronous is not blocking:
                asynchronous.term()
    finally:
        blocking.term()


# -- term -------------------------------------------------------------------------------------


def test_term_with_no_sockets_returns_and_marks_the_context_closed() -> None:
    context = zmtp.Context()
    Worker(context.term).result()
    assert context.closed


def test_term_returns_only_once_every_socket_is_closed() -> None:
    context = zmtp.Context()
    first, second = context.socket(zmtp.PUSH), context.socket(zmtp.PULL)
    second.bind("inproc://term")
    terminating = Worker(context.term)
    assert not terminating.join(QUIET / 1000), "term returned with sockets open"
    first.close()
    assert not terminating.join(QUIET / 1000), "term returned with a socket open"
    second.close()
    terminating.result()


def test_term_makes_a_thread_blocked_in_recv_raise_context_terminated() -> None:
    context = zmtp.Context()
    sock = context.socket(zmtp.PULL)
    sock.rcvtimeo = WAIT * 2  # bounded, and longer than the test waits for ETERM
    sock.bind("inproc://blocked")

    def receive() -> type[BaseException] | None:
        try:
            sock.recv()
        except zmtp.ZMQError as exc:
            return type(exc)
        finally:
            sock.close()  # what a well-behaved thread does on ETERM
        return None

    receiver = Worker(receive)
    _blocked_in(receiver, sock)
    Worker(context.term).result()
    assert receiver.result() is zmtp.ContextTerminated


def test_term_makes_a_thread_blocked_in_send_raise_context_terminated() -> None:
    context = zmtp.Context()
    sock = context.socket(zmtp.PUSH)  # no peer: send blocks
    sock.sndtimeo = WAIT * 2

    def send() -> type[BaseException] | None:
        try:
            sock.send(b"x")
        except zmtp.ZMQError as exc:
            return type(exc)
        finally:
            sock.close(linger=0)
        return None

    sender = Worker(send)
    _blocked_in(sender, sock)
    Worker(context.term).result()
    assert sender.result() is zmtp.ContextTerminated


def test_calls_on_an_open_socket_after_term_started_raise_context_terminated() -> None:
    context = zmtp.Context()
    pub = context.socket(zmtp.PUB)  # one socket: see the close race test below
    terminating = Worker(context.term)
    try:
        _term_started(context, pub)
        with pytest.raises(zmtp.ContextTerminated):
            pub.send(b"x", zmtp.DONTWAIT)  # a PUB send never blocks
        with pytest.raises(zmtp.ContextTerminated):
            pub.bind("inproc://after-term")
    finally:
        pub.close(0)
        terminating.result()


def _absent_tcp_peer() -> tuple[socket.socket, str]:
    """A port that is bound but not listening: connecting to it is refused."""
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    return holder, f"tcp://127.0.0.1:{holder.getsockname()[1]}"


def test_term_waits_for_a_linger_minus_1_close_until_the_peer_takes_the_messages() -> None:
    holder, addr = _absent_tcp_peer()
    context = zmtp.Context()
    push = context.socket(zmtp.PUSH)
    assert push.linger == -1
    push.connect(addr)
    push.send_multipart([b"kept", b"until delivered"], zmtp.DONTWAIT)
    push.close()  # returns at once, as zmq_close
    terminating = Worker(context.term)
    assert not terminating.join(QUIET / 1000), "term() must wait: LINGER -1 and a message"
    holder.close()
    with zmtp.Context() as other, other.socket(zmtp.PULL) as pull:
        pull.rcvtimeo = WAIT
        pull.bind(addr)  # the peer appears; the reconnecting PUSH delivers
        assert pull.recv_multipart() == [b"kept", b"until delivered"]
        terminating.result()
        pull.linger = 0


def test_term_waits_for_no_linger_once_the_queued_messages_are_gone() -> None:
    context = zmtp.Context()
    pull, push = context.socket(zmtp.PULL), context.socket(zmtp.PUSH)
    pull.bind("tcp://127.0.0.1:*")
    push.connect(pull.getsockopt_string(zmtp.LAST_ENDPOINT))
    push.send(b"delivered")
    pull.rcvtimeo = WAIT
    assert pull.recv() == b"delivered"
    push.close()  # LINGER -1, nothing queued any more
    pull.close()
    Worker(context.term).result()


@pytest.mark.filterwarnings("ignore:coroutine 'SocketEngine")
def test_term_waits_for_a_close_that_is_still_in_progress_when_another_socket_closes() -> None:
    holder, addr = _absent_tcp_peer()
    context = zmtp.Context()
    lingering = context.socket(zmtp.PUSH)  # LINGER -1: term() must wait for its message
    lingering.connect(addr)
    lingering.send(b"queued", zmtp.DONTWAIT)
    other = context.socket(zmtp.PULL)
    terminating = Worker(context.term)
    _term_started(context, other)
    # Hold the lingering socket's close() inside its first call to the I/O thread, which
    # is where it is marked closed but has not handed its linger to the context yet.
    entered, gate, held = threading.Event(), threading.Event(), set()
    original_run = context.run

    def run(coroutine: Any) -> Any:
        if threading.get_ident() in held:
            entered.set()
            gate.wait(WAIT / 1000)
        return original_run(coroutine)

    context.run = run  # type: ignore[method-assign]

    def close_lingering() -> None:
        held.add(threading.get_ident())
        lingering.close()

    closing = Worker(close_lingering)
    try:
        assert entered.wait(WAIT / 1000)
        other.close()  # wakes term() while the other close is in progress
        assert not terminating.join(QUIET / 1000), "term() returned before the LINGER -1 close"
        gate.set()
        closing.result()
        holder.close()
        with zmtp.Context() as peer, peer.socket(zmtp.PULL) as pull:
            pull.rcvtimeo = WAIT
            pull.bind(addr)
            assert pull.recv() == b"queued"
            terminating.result()
            pull.linger = 0
    finally:
        gate.set()
        holder.close()


@pytest.mark.filterwarnings("ignore:coroutine 'SocketEngine.close' was never awaited")
def test_a_socket_made_with_the_socket_class_is_ended_by_term_too() -> None:
    context = zmtp.Context()
    sock = zmtp.Socket(context, zmtp.PULL)
    sock.rcvtimeo = 1000
    sock.bind("inproc://direct")

    def receive() -> type[BaseException] | None:
        try:
            sock.recv()
        except zmtp.ZMQError as exc:
            return type(exc)
        return None

    receiver = Worker(receive)
    _blocked_in(receiver, sock)
    terminating = Worker(context.term)
    try:
        assert receiver.result() is zmtp.ContextTerminated
    finally:
        with contextlib.suppress(zmtp.ZMQError):
            sock.close()
        terminating.result()


def test_term_does_not_wait_for_a_bound_socket_dropped_without_close() -> None:
    context = zmtp.Context()
    sock = context.socket(zmtp.PULL)
    sock.bind("tcp://127.0.0.1:*")
    ref = weakref.ref(sock)
    del sock
    gc.collect()
    terminating = Worker(context.term)
    try:
        assert terminating.join(1), "term() waits for a socket nobody can close any more"
    finally:
        leftover = ref()
        if leftover is not None:
            leftover.close(0)
        terminating.result()


def test_collecting_a_dropped_socket_while_its_context_is_busy_does_not_deadlock() -> None:
    context = zmtp.Context()
    gc.disable()  # keep the garbage for the collection below
    try:
        sock = context.socket(zmtp.PUSH)
        cycle: list[Any] = [sock]
        cycle.append(cycle)
        del sock, cycle

        def collect_while_the_context_is_locked() -> None:
            with context._lock:  # where destroy(), term() and socket() may meet the collector
                gc.collect()

        collecting = Worker(collect_while_the_context_is_locked)
        assert collecting.join(2), "the collecting thread deadlocked on the context's lock"
    finally:
        gc.enable()
    Worker(context.destroy, 0).result()


def test_socket_on_a_terminated_context_raises_zmqerror() -> None:
    context = zmtp.Context()
    context.term()
    with pytest.raises(zmtp.ZMQError):
        context.socket(zmtp.PAIR)


# -- destroy and context managers -------------------------------------------------------------


def test_destroy_with_linger_0_closes_sockets_with_messages_queued_for_an_absent_peer() -> None:
    context = zmtp.Context()
    push = context.socket(zmtp.PUSH)  # LINGER -1: close() alone would wait forever
    push.connect("tcp://127.0.0.1:1")
    push.send(b"stuck", zmtp.DONTWAIT)
    other = context.socket(zmtp.PULL)
    other.bind("inproc://destroy")
    Worker(context.destroy, 0).result()
    assert push.closed and other.closed and context.closed


def test_destroy_without_linger_uses_each_sockets_linger() -> None:
    context = zmtp.Context()
    push = context.socket(zmtp.PUSH)
    push.linger = 100
    push.connect("tcp://127.0.0.1:1")
    push.send(b"stuck", zmtp.DONTWAIT)
    Worker(context.destroy).result()
    assert push.closed and context.closed


def test_a_context_manager_terms_the_context_on_exit() -> None:
    with zmtp.Context() as context:
        with context.socket(zmtp.PULL) as sock:
            sock.bind("inproc://cm")
        assert sock.closed
    assert context.closed


def test_a_context_manager_closes_sockets_left_open_on_exit() -> None:
    context = zmtp.Context()
    sock = context.socket(zmtp.PUSH)

    def use() -> None:
        with context:
            pass

    leaving = Worker(use)
    try:
        assert leaving.join(1), "leaving the with block hangs on the open socket"
        assert sock.closed
    finally:
        sock.close(0)  # unblocks term() if it hung
        leaving.result()


# -- the I/O thread ---------------------------------------------------------------------------


@pytest.mark.parametrize("transport", ["tcp", "ipc", "inproc"])
def test_no_thread_is_left_after_term(transport: str, tmp_path: Any) -> None:
    baseline = threading.active_count()
    context = zmtp.Context()
    pull, push = context.socket(zmtp.PULL), context.socket(zmtp.PUSH)
    pull.rcvtimeo = WAIT
    addr = {"tcp": "tcp://127.0.0.1:*", "ipc": f"ipc://{tmp_path}/t", "inproc": "inproc://t"}
    pull.bind(addr[transport])
    push.connect(pull.getsockopt_string(zmtp.LAST_ENDPOINT))
    push.send(b"traffic")
    assert pull.recv() == b"traffic"
    assert threading.active_count() > baseline  # the I/O thread ran
    push.close()
    pull.close()
    Worker(context.term).result()
    assert _wait_for_thread_count(baseline) <= baseline


def test_a_context_that_never_made_a_socket_starts_no_thread() -> None:
    baseline = threading.active_count()
    context = zmtp.Context()
    context.term()
    assert threading.active_count() == baseline
