"""``zmtp.asyncio``: pyzmq's ``zmq.asyncio`` API — awaitable send, recv, poll and Poller.

The cancel-safety rules are the point of an asyncio socket: a cancelled recv loses no message
(the next recv gets it), and a cancelled send sends all of its message or none of it. They are
checked both while the operation waits and racing with the event that would end the wait.
Every wait is bounded: sockets have RCVTIMEO/SNDTIMEO and awaits go through ``bounded``.
``await asyncio.sleep(0)`` only yields once to let a task reach its wait; nothing sleeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import socket
import threading
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from api_support import Worker, endpoint_maker, socket_maker

import zmtp
import zmtp.asyncio

WAIT = 5000  # ms: the bound on anything that should happen
QUIET = 200  # ms: a timeout that is expected to expire
TRANSPORTS = ["tcp", "ipc", "inproc"]
BIG = b"f" * 65536  # fills OS buffers in a few hundred messages over tcp and ipc

T = TypeVar("T")


async def bounded(awaitable: Awaitable[T], seconds: float = WAIT / 1000) -> T:
    return await asyncio.wait_for(awaitable, seconds)


@pytest.fixture
def actx() -> Iterator[zmtp.asyncio.Context]:
    context = zmtp.asyncio.Context()
    yield context
    gc.collect()  # not inside destroy(): see test_context.py's Socket.__del__ deadlock test
    closing = threading.Thread(target=context.destroy, args=(0,), daemon=True)
    closing.start()
    closing.join(WAIT / 1000)
    assert not closing.is_alive(), "ctx.destroy(linger=0) hung"


Maker = Callable[..., zmtp.asyncio.Socket]


@pytest.fixture
def make(actx: zmtp.asyncio.Context) -> Maker:
    return socket_maker(actx, zmtp.asyncio.Socket)


@pytest.fixture(params=TRANSPORTS)
def endpoint(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    return endpoint_maker(request.param, tmp_path, "a")


def linked(
    make: Maker,
    endpoint: Callable[[], str],
    bound: int,
    connected: int,
    *,
    rcvhwm: int = 1000,
    sndhwm: int = 1000,
) -> tuple[zmtp.asyncio.Socket, zmtp.asyncio.Socket]:
    """A ``bound`` socket (with ``rcvhwm``) and a ``connected`` one (with ``sndhwm``)."""
    server, client = make(bound, rcvhwm=rcvhwm), make(connected, sndhwm=sndhwm)
    server.bind(endpoint())
    client.connect(server.getsockopt_string(zmtp.LAST_ENDPOINT))
    return server, client


async def fill(push: zmtp.asyncio.Socket, payload: bytes) -> int:
    """Send with DONTWAIT until Again and no room appears for QUIET ms; return the count."""
    sent = 0
    for _ in range(100_000):
        try:
            await push.send(payload, zmtp.DONTWAIT)
        except zmtp.Again:
            if await push.poll(QUIET, zmtp.POLLOUT) == 0:
                return sent
        else:
            sent += 1
    pytest.fail("the HWM never pushed back")


async def drain_until_end(pull: zmtp.asyncio.Socket, push: zmtp.asyncio.Socket) -> list:
    """Send an end marker (it waits for room) and return every message received before it."""
    end = asyncio.ensure_future(push.send_multipart([b"end"]))
    received = []
    while (message := await bounded(pull.recv_multipart())) != [b"end"]:
        received.append(message)
    await bounded(end)
    return received


# -- the asyncio API --------------------------------------------------------------------------


def test_an_asyncio_context_makes_asyncio_sockets_that_are_zmtp_sockets(
    actx: zmtp.asyncio.Context,
) -> None:
    sock = actx.socket(zmtp.PULL)
    assert isinstance(sock, zmtp.asyncio.Socket)
    assert isinstance(sock, zmtp.Socket)
    assert isinstance(actx, zmtp.Context)
    sock.close()


@pytest.mark.asyncio
async def test_send_and_recv_are_awaitable(make: Maker, endpoint: Callable[[], str]) -> None:
    pull, push = linked(make, endpoint, zmtp.PULL, zmtp.PUSH)
    await bounded(push.send(b"hello"))
    assert await bounded(pull.recv()) == b"hello"


@pytest.mark.asyncio
async def test_send_multipart_and_recv_multipart_are_awaitable(
    make: Maker, endpoint: Callable[[], str]
) -> None:
    pull, push = linked(make, endpoint, zmtp.PULL, zmtp.PUSH)
    message = [b"", b"body", bytes(range(256))]
    await bounded(push.send_multipart(message))
    assert await bounded(pull.recv_multipart()) == message


@pytest.mark.asyncio
async def test_sndmore_frames_arrive_as_one_message_with_rcvmore(make: Maker) -> None:
    pull, push = linked(make, lambda: "inproc://more", zmtp.PULL, zmtp.PUSH)
    await push.send(b"1", zmtp.SNDMORE)
    await push.send(b"2", zmtp.SNDMORE)
    await bounded(push.send(b"3"))
    frames = []
    for _ in range(3):
        frames.append((await bounded(pull.recv()), pull.getsockopt(zmtp.RCVMORE)))
    assert frames == [(b"1", 1), (b"2", 1), (b"3", 0)]


@pytest.mark.asyncio
async def test_string_json_and_pyobj_helpers_are_awaitable(make: Maker) -> None:
    pull, push = linked(make, lambda: "inproc://helpers", zmtp.PULL, zmtp.PUSH)
    await bounded(push.send_string("ünïcode"))
    await bounded(push.send_json({"k": [1, None]}))
    await bounded(push.send_pyobj({"t": (1, 2)}))
    assert await bounded(pull.recv_string()) == "ünïcode"
    assert await bounded(pull.recv_json()) == {"k": [1, None]}
    assert await bounded(pull.recv_pyobj()) == {"t": (1, 2)}


@pytest.mark.asyncio
async def test_a_str_frame_is_a_type_error(make: Maker) -> None:
    push = make(zmtp.PUSH)
    with pytest.raises(TypeError):
        await push.send("text")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        await push.send_multipart(["text"])


@pytest.mark.asyncio
async def test_req_rep_over_asyncio(make: Maker, endpoint: Callable[[], str]) -> None:
    rep, req = linked(make, endpoint, zmtp.REP, zmtp.REQ)

    async def serve() -> None:
        request = await rep.recv_multipart()
        await rep.send_multipart([b"re:", *request])

    server = asyncio.ensure_future(serve())
    await bounded(req.send_multipart([b"q", b"1"]))
    assert await bounded(req.recv_multipart()) == [b"re:", b"q", b"1"]
    await bounded(server)
    with pytest.raises(zmtp.ZMQError) as info:
        await req.recv(zmtp.DONTWAIT)
    assert info.value.errno == zmtp.EFSM


@pytest.mark.asyncio
async def test_awaiting_recv_leaves_the_event_loop_free(make: Maker) -> None:
    pull, push = linked(make, lambda: "inproc://free", zmtp.PULL, zmtp.PUSH)
    receiving = asyncio.ensure_future(pull.recv())
    await asyncio.sleep(0)
    assert not receiving.done()
    await bounded(push.send(b"sent while recv waits"))  # runs only if the loop is free
    assert await bounded(receiving) == b"sent while recv waits"


@pytest.mark.asyncio
async def test_concurrent_recvs_on_one_socket_each_get_one_message(make: Maker) -> None:
    pull, push = linked(make, lambda: "inproc://concurrent", zmtp.PULL, zmtp.PUSH)
    receivers = [asyncio.ensure_future(pull.recv()) for _ in range(3)]
    await asyncio.sleep(0)
    for n in range(3):
        await bounded(push.send(b"%d" % n))
    assert sorted(await bounded(asyncio.gather(*receivers))) == [b"0", b"1", b"2"]


@pytest.mark.asyncio
async def test_dontwait_raises_again_at_once(make: Maker) -> None:
    pull = make(zmtp.PULL)
    with pytest.raises(zmtp.Again):
        await bounded(pull.recv(zmtp.DONTWAIT))
    with pytest.raises(zmtp.Again):
        await bounded(make(zmtp.PUSH).send(b"x", zmtp.DONTWAIT))


@pytest.mark.asyncio
async def test_rcvtimeo_is_honoured_with_again(make: Maker) -> None:
    pull = make(zmtp.PULL, rcvtimeo=100)
    pull.bind("inproc://rcvtimeo")
    with pytest.raises(zmtp.Again):
        await bounded(pull.recv())
    with pytest.raises(zmtp.Again):
        await bounded(pull.recv_multipart())


@pytest.mark.asyncio
async def test_sndtimeo_is_honoured_with_again(make: Maker) -> None:
    push = make(zmtp.PUSH, sndtimeo=100)  # no peer: a send waits
    with pytest.raises(zmtp.Again):
        await bounded(push.send(b"x"))
    with pytest.raises(zmtp.Again):
        await bounded(push.send_multipart([b"x", b"y"]))


@pytest.mark.asyncio
async def test_an_asyncio_socket_that_is_closed_raises_enotsock(make: Maker) -> None:
    sock = make(zmtp.PUSH)
    sock.close()
    with pytest.raises(zmtp.ZMQError) as info:
        await sock.send(b"x")
    assert info.value.errno == zmtp.ENOTSOCK


# -- poll and Poller --------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_socket_poll_is_awaitable_and_returns_0_on_timeout(make: Maker) -> None:
    pull, push = linked(make, lambda: "inproc://poll", zmtp.PULL, zmtp.PUSH)
    assert await bounded(pull.poll(QUIET)) == 0
    assert await bounded(push.poll(0, zmtp.POLLOUT)) == zmtp.POLLOUT
    waiting = asyncio.ensure_future(pull.poll(WAIT))
    await asyncio.sleep(0)
    await push.send(b"x")
    assert await bounded(waiting) == zmtp.POLLIN


@pytest.mark.asyncio
async def test_asyncio_poller_reports_the_ready_sockets(
    make: Maker, endpoint: Callable[[], str]
) -> None:
    (a_pull, a_push), (b_pull, _) = (
        linked(make, endpoint, zmtp.PULL, zmtp.PUSH),
        linked(make, endpoint, zmtp.PULL, zmtp.PUSH),
    )
    poller = zmtp.asyncio.Poller()
    poller.register(a_pull, zmtp.POLLIN)
    poller.register(b_pull, zmtp.POLLIN)
    poller.register(a_push, zmtp.POLLOUT)
    assert await bounded(poller.poll(0)) == [(a_push, zmtp.POLLOUT)]
    poller.unregister(a_push)
    assert await bounded(poller.poll(QUIET)) == []
    waiting = asyncio.ensure_future(poller.poll(WAIT))
    await asyncio.sleep(0)
    await a_push.send(b"x")
    assert await bounded(waiting) == [(a_pull, zmtp.POLLIN)]


@pytest.mark.asyncio
async def test_asyncio_poller_wakes_for_a_raw_socket(make: Maker) -> None:
    a, b = socket.socketpair()
    try:
        poller = zmtp.asyncio.Poller()
        poller.register(make(zmtp.PULL), zmtp.POLLIN)
        poller.register(a, zmtp.POLLIN)
        waiting = asyncio.ensure_future(poller.poll())
        await asyncio.sleep(0)
        b.send(b"!")
        ready = await bounded(waiting, 1)
        assert [(s if isinstance(s, int) else s.fileno(), e) for s, e in ready] == [
            (a.fileno(), zmtp.POLLIN)
        ]
    finally:
        a.close()
        b.close()


# -- cancel safety ----------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_cancelled_recv_loses_no_message(make: Maker, endpoint: Callable[[], str]) -> None:
    pull, push = linked(make, endpoint, zmtp.PULL, zmtp.PUSH)
    receiving = asyncio.ensure_future(pull.recv_multipart())
    await asyncio.sleep(0)
    assert not receiving.done()
    receiving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await receiving
    await bounded(push.send_multipart([b"kept", b"whole"]))
    assert await bounded(pull.recv_multipart()) == [b"kept", b"whole"]


@pytest.mark.asyncio
async def test_a_recv_cancelled_as_its_message_arrives_delivers_it_exactly_once(
    make: Maker,
) -> None:
    pull, push = linked(make, lambda: "inproc://race-recv", zmtp.PULL, zmtp.PUSH)
    for n in range(24):
        receiving = asyncio.ensure_future(pull.recv_multipart())
        await asyncio.sleep(0)
        await push.send_multipart([b"m", b"%d" % n])
        for _ in range(n % 4):  # cancel at different points of the wake-up
            await asyncio.sleep(0)
        receiving.cancel()
        try:
            got = [await receiving]
        except asyncio.CancelledError:
            got = [await bounded(pull.recv_multipart())]
        assert got == [[b"m", b"%d" % n]]
    assert await bounded(pull.poll(QUIET)) == 0


@pytest.mark.asyncio
async def test_a_cancelled_send_sends_the_whole_message_or_nothing(
    make: Maker, endpoint: Callable[[], str]
) -> None:
    pull, push = linked(make, endpoint, zmtp.PULL, zmtp.PUSH, rcvhwm=1, sndhwm=1)
    filled = await fill(push, BIG)
    sending = asyncio.ensure_future(push.send_multipart([b"a", b"b", b"c"]))
    await asyncio.sleep(0)
    assert not sending.done()  # it waits for room
    sending.cancel()
    with pytest.raises(asyncio.CancelledError):
        await sending
    received = await drain_until_end(pull, push)
    assert received.count([BIG]) == filled
    assert [m for m in received if m != [BIG]] in ([], [[b"a", b"b", b"c"]])


@pytest.mark.asyncio
async def test_a_send_cancelled_as_room_appears_sends_the_whole_message_or_nothing(
    make: Maker,
) -> None:
    # inproc holds exactly SNDHWM + RCVHWM = 2 messages
    pull, push = linked(make, lambda: "inproc://race", zmtp.PULL, zmtp.PUSH, rcvhwm=1, sndhwm=1)
    outcomes = set()
    for n in range(24):
        for _ in range(2):
            await bounded(push.send(b"fill"))
        message = [b"msg", b"%d" % n, b"end"]
        sending = asyncio.ensure_future(push.send_multipart(message))
        await asyncio.sleep(0)
        assert not sending.done()
        assert await bounded(pull.recv()) == b"fill"  # room appears
        for _ in range(n % 4):
            await asyncio.sleep(0)
        sending.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sending  # done before the cancel took effect, or cancelled
        received = await drain_until_end(pull, push)
        assert received.count([b"fill"]) == 1
        rest = [m for m in received if m != [b"fill"]]
        assert rest in ([], [message])
        outcomes.add(bool(rest))
    assert outcomes  # at least one outcome was seen; either is correct


# -- Futures, as pyzmq's zmq.asyncio returns them ----------------------------------------------


@pytest.mark.asyncio
async def test_an_operation_that_need_not_wait_returns_a_future_already_done(make: Maker) -> None:
    pull, push = linked(make, lambda: "inproc://done-at-once", zmtp.PULL, zmtp.PUSH)
    sent = push.send(b"x")
    assert isinstance(sent, asyncio.Future)
    assert sent.done()
    assert sent.result() is None
    assert await bounded(pull.poll(WAIT)) == zmtp.POLLIN
    received = pull.recv()
    assert isinstance(received, asyncio.Future)
    assert received.done()
    assert received.result() == b"x"


@pytest.mark.asyncio
async def test_pending_recvs_get_the_frames_in_call_order(make: Maker) -> None:
    pull, push = linked(make, lambda: "inproc://order", zmtp.PULL, zmtp.PUSH)
    first, second, rest = pull.recv(), pull.recv(), pull.recv_multipart()
    assert not any(f.done() for f in (first, second, rest))
    await push.send_multipart([b"1", b"2", b"3"])
    await push.send_multipart([b"next"])
    assert await bounded(rest) == [b"3"]
    assert (first.result(), second.result()) == (b"1", b"2")
    assert await bounded(pull.recv_multipart()) == [b"next"]


@pytest.mark.asyncio
async def test_a_cancelled_pending_future_is_skipped_and_not_kept(make: Maker) -> None:
    pull, push = linked(make, lambda: "inproc://skip", zmtp.PULL, zmtp.PUSH)
    first, second = pull.recv_multipart(), pull.recv_multipart()
    assert first.cancel()
    for _ in range(10):  # cancelled polls must not pile up on a quiet socket either
        assert pull.poll(WAIT).cancel()
    await asyncio.sleep(0)
    assert len(pull._recv_futures) == 1
    await push.send_multipart([b"a"])
    assert await bounded(second) == [b"a"]
    assert not pull._recv_futures


@pytest.mark.asyncio
async def test_a_message_whose_task_is_cancelled_before_it_resumes_is_given_back(
    make: Maker,
) -> None:
    pull, push = linked(make, lambda: "inproc://give-back", zmtp.PULL, zmtp.PUSH)
    received = pull.recv()

    async def consume() -> bytes:
        return await received

    task = asyncio.ensure_future(consume())
    # Registered before the task's own wake-up, so it runs first: the task is cancelled
    # after its Future got the first frame and before the task could see it.
    received.add_done_callback(lambda _: task.cancel())
    await asyncio.sleep(0)  # the task now waits on the Future
    await push.send_multipart([b"a", b"b"])
    with pytest.raises(asyncio.CancelledError):
        await bounded(task)
    assert received.result() == b"a"
    assert await bounded(pull.recv()) == b"a"
    assert pull.rcvmore
    assert await bounded(pull.recv()) == b"b"
    assert not pull.rcvmore


@pytest.mark.asyncio
async def test_a_message_cannot_be_given_back_once_the_socket_received_again(
    make: Maker,
) -> None:
    pull, push = linked(make, lambda: "inproc://no-give-back", zmtp.PULL, zmtp.PUSH)
    received = pull.recv()
    later: list[asyncio.Future[bytes]] = []

    async def consume() -> bytes:
        return await received

    def receive_again_then_cancel(_: object) -> None:
        later.append(pull.recv())  # takes the second frame: the first can no longer go back
        task.cancel()

    task = asyncio.ensure_future(consume())
    received.add_done_callback(receive_again_then_cancel)
    await asyncio.sleep(0)
    await push.send_multipart([b"a", b"b"])
    with pytest.warns(RuntimeWarning, match="dropped"), pytest.raises(asyncio.CancelledError):
        await bounded(task)
    assert later[0].result() == b"b"
    assert await bounded(pull.poll(QUIET)) == 0


@pytest.mark.asyncio
async def test_each_future_keeps_the_rcvtimeo_it_was_created_with(make: Maker) -> None:
    pull, push = linked(make, lambda: "inproc://rcvtimeo-each", zmtp.PULL, zmtp.PUSH)
    pull.rcvtimeo = QUIET
    short = pull.recv()
    pull.rcvtimeo = WAIT
    long = pull.recv_multipart()
    with pytest.raises(zmtp.Again):
        await bounded(short)
    await push.send_multipart([b"late"])
    assert await bounded(long) == [b"late"]


@pytest.mark.asyncio
async def test_dontwait_does_not_overtake_a_pending_recv(make: Maker) -> None:
    pull, push = linked(make, lambda: "inproc://overtake", zmtp.PULL, zmtp.PUSH)
    waiting = pull.recv()
    await push.send(b"1")
    # Wait with the blocking API: the loop is held, so the pending recv was not served yet.
    assert zmtp.Socket.poll(pull, WAIT) == zmtp.POLLIN
    now = pull.recv(zmtp.DONTWAIT)
    assert waiting.result() == b"1"
    with pytest.raises(zmtp.Again):
        await now


@pytest.mark.asyncio
async def test_pending_sends_leave_in_call_order_and_dontwait_does_not_overtake(
    make: Maker,
) -> None:
    # inproc holds exactly SNDHWM + RCVHWM = 2 messages
    pull, push = linked(
        make, lambda: "inproc://send-order", zmtp.PULL, zmtp.PUSH, rcvhwm=1, sndhwm=1
    )
    for _ in range(2):
        await bounded(push.send(b"fill"))
    sends = [
        push.send(b"a", zmtp.SNDMORE),
        push.send(b"b"),
        push.send_multipart([b"c"]),
        push.send(b"d", zmtp.SNDMORE),
        push.send(b"e"),
    ]
    assert [f.done() for f in sends] == [True, False, False, False, False]
    with pytest.raises(zmtp.Again):
        await push.send(b"x", zmtp.DONTWAIT)
    received = [await bounded(pull.recv_multipart()) for _ in range(5)]
    assert received == [[b"fill"], [b"fill"], [b"a", b"b"], [b"c"], [b"d", b"e"]]
    await bounded(asyncio.gather(*sends))


@pytest.mark.asyncio
async def test_closing_a_socket_cancels_what_waits_on_it(make: Maker) -> None:
    pull = make(zmtp.PULL)
    receiving, polling = pull.recv(), pull.poll(WAIT)
    poller = zmtp.asyncio.Poller()
    poller.register(pull, zmtp.POLLIN)
    polled = poller.poll(WAIT)
    pull.close()
    assert receiving.cancelled()
    assert polling.cancelled()
    with pytest.raises(asyncio.CancelledError):
        await bounded(polled)
    with pytest.raises(zmtp.ZMQError) as info:
        pull.poll()
    assert info.value.errno == zmtp.ENOTSUP


@pytest.mark.asyncio
async def test_a_pending_recv_fails_with_eterm_when_the_context_ends() -> None:
    context = zmtp.asyncio.Context()
    pull = context.socket(zmtp.PULL)
    pull.linger = 0
    receiving = pull.recv()
    terminating = Worker(context.term)
    with pytest.raises(zmtp.ContextTerminated):
        await bounded(receiving)
    pull.close()
    terminating.result()


@pytest.mark.asyncio
async def test_asyncio_poller_watches_blocking_sockets_too(actx: zmtp.asyncio.Context) -> None:
    pull = actx.socket(zmtp.PULL, socket_class=zmtp.Socket)
    push = actx.socket(zmtp.PUSH, socket_class=zmtp.Socket)
    for sock in (pull, push):
        sock.linger = 0
    pull.bind("inproc://blocking-in-asyncio-poller")
    push.connect("inproc://blocking-in-asyncio-poller")
    poller = zmtp.asyncio.Poller()
    poller.register(pull, zmtp.POLLIN)
    polled = poller.poll(WAIT)
    assert not polled.done()
    push.send(b"x")
    assert await bounded(polled) == [(pull, zmtp.POLLIN)]
    assert pull.recv() == b"x"


@pytest.mark.asyncio
async def test_send_serialized_and_recv_serialized(make: Maker) -> None:
    router, dealer = linked(make, lambda: "inproc://serialized", zmtp.ROUTER, zmtp.DEALER)
    await bounded(dealer.send_serialized({"n": 1}, lambda m: [json.dumps(m).encode()]))
    identity, body = await bounded(router.recv_serialized(lambda frames: frames))
    assert json.loads(body) == {"n": 1}
    with pytest.raises(TypeError):
        await bounded(router.send_serialized(json, json.dumps))  # serialize fails at once
    await router.send_multipart([identity, b"not json"])
    with pytest.raises(json.JSONDecodeError):
        await bounded(dealer.recv_serialized(lambda frames: json.loads(frames[0])))


def test_a_socket_moves_to_a_new_event_loop_and_cancels_what_waited_on_the_old(
    make: Maker,
) -> None:
    pull, push = linked(make, lambda: "inproc://loops", zmtp.PULL, zmtp.PUSH)

    async def start_recv() -> asyncio.Future[bytes]:
        return pull.recv()

    async def round_trip() -> bytes:
        await push.send(b"x")
        return await bounded(pull.recv())

    old = asyncio.new_event_loop()
    try:
        stale = old.run_until_complete(start_recv())
        assert asyncio.run(round_trip()) == b"x"
        old.run_until_complete(asyncio.sleep(0))  # runs the cancellation sent to the old loop
        assert stale.cancelled()
    finally:
        old.close()


@pytest.mark.asyncio
async def test_recv_into_fills_the_buffer_once_a_frame_arrives(make: Maker) -> None:
    pull, push = linked(make, lambda: "inproc://recv-into", zmtp.PULL, zmtp.PUSH)
    buffer = bytearray(4)
    receiving = pull.recv_into(buffer)
    assert not receiving.done()
    await push.send(b"abcdef")
    assert await bounded(receiving) == 6  # the frame's size: it was truncated
    assert buffer == b"abcd"
    with pytest.raises(ValueError):
        await pull.recv_into(buffer, nbytes=-1)


@pytest.mark.asyncio
async def test_an_asyncio_socket_made_on_a_blocking_socket_shares_it(
    actx: zmtp.asyncio.Context,
) -> None:
    pull = actx.socket(zmtp.PULL, socket_class=zmtp.Socket)
    push = actx.socket(zmtp.PUSH, socket_class=zmtp.Socket)
    for sock in (pull, push):
        sock.linger = 0
    on_pull = zmtp.asyncio.Socket.from_socket(pull)
    assert isinstance(on_pull, zmtp.asyncio.Socket)
    assert (on_pull.underlying, on_pull.type) == (pull.underlying, zmtp.PULL)
    pull.bind("inproc://shared")
    push.connect("inproc://shared")
    receiving = on_pull.recv()
    push.send(b"x")
    assert await bounded(receiving) == b"x"
    with pytest.warns(DeprecationWarning, match="io_loop"):
        zmtp.asyncio.Socket(pull, io_loop=asyncio.get_running_loop())
