"""``getsockopt(FD)`` / EVENTS with libzmq's edge-triggered contract (zmtp.signal_fd).

What event-loop integrations rely on: the descriptor wakes a ``select`` when something happened,
EVENTS resets it, a change after EVENTS wakes it again (no lost wake-up), and nothing pending
means nothing readable (no busy loop). Every wait here is bounded.
"""

from __future__ import annotations

import asyncio
import select
import threading
from collections.abc import Iterator

import pytest
import zmq

import zmtp

WAIT_S = 5.0
QUIET_S = 0.1


def readable(fd: int, timeout: float) -> bool:
    return bool(select.select([fd], [], [], timeout)[0])


@pytest.fixture
def pipeline() -> Iterator[tuple[zmtp.Socket, zmtp.Socket]]:
    context = zmtp.Context()
    pull = context.socket(zmtp.PULL)
    push = context.socket(zmtp.PUSH)
    for sock in (pull, push):
        sock.linger = 0
    pull.bind("inproc://fd")
    push.connect("inproc://fd")
    yield pull, push
    pull.close()
    push.close()
    context.term()


def test_fd_is_stable_and_starts_readable(pipeline: tuple[zmtp.Socket, zmtp.Socket]) -> None:
    """One descriptor per socket; readable at first so queued events are looked at."""
    pull, _ = pipeline
    fd = pull.getsockopt(zmtp.FD)
    assert isinstance(fd, int) and fd == pull.fd
    assert readable(fd, 0)


def test_events_resets_and_nothing_pending_is_not_readable(
    pipeline: tuple[zmtp.Socket, zmtp.Socket],
) -> None:
    """After EVENTS with nothing new, the descriptor stays quiet: a reactor does not spin."""
    pull, _ = pipeline
    fd = pull.fd
    assert not pull.getsockopt(zmtp.EVENTS) & zmtp.POLLIN
    assert not readable(fd, QUIET_S)


def test_a_message_wakes_the_descriptor(pipeline: tuple[zmtp.Socket, zmtp.Socket]) -> None:
    """Arrival -> readable -> EVENTS has POLLIN -> recv -> EVENTS clear -> quiet again."""
    pull, push = pipeline
    fd = pull.fd
    pull.getsockopt(zmtp.EVENTS)
    push.send(b"hello")
    assert readable(fd, WAIT_S)
    assert pull.getsockopt(zmtp.EVENTS) & zmtp.POLLIN
    assert pull.recv(zmtp.NOBLOCK) == b"hello"
    assert not pull.getsockopt(zmtp.EVENTS) & zmtp.POLLIN
    assert not readable(fd, QUIET_S)


def test_no_wake_up_is_lost(pipeline: tuple[zmtp.Socket, zmtp.Socket]) -> None:
    """A consumer doing the documented loop gets every message a racing producer sends."""
    pull, push = pipeline
    count = 2000
    producer = threading.Thread(target=lambda: [push.send(b"%d" % i) for i in range(count)])
    fd = pull.fd
    received = 0
    producer.start()
    try:
        while received < count:
            assert readable(fd, WAIT_S), f"stalled after {received} messages"
            while pull.getsockopt(zmtp.EVENTS) & zmtp.POLLIN:
                pull.recv(zmtp.NOBLOCK)
                received += 1
    finally:
        producer.join(WAIT_S)
    assert received == count


def test_context_term_wakes_the_descriptor() -> None:
    """A reactor watching the descriptor learns that the context is ending (then ETERM)."""
    context = zmtp.Context()
    pull = context.socket(zmtp.PULL)
    pull.linger = 0
    fd = pull.fd
    pull.getsockopt(zmtp.EVENTS)
    terminating = threading.Thread(target=context.term)
    terminating.start()
    try:
        assert readable(fd, WAIT_S)
        with pytest.raises(zmtp.ContextTerminated):
            pull.recv()
    finally:
        pull.close()
        terminating.join(WAIT_S)
    assert not terminating.is_alive()


def test_closed_socket_has_no_descriptor(pipeline: tuple[zmtp.Socket, zmtp.Socket]) -> None:
    """FD on a closed socket is ENOTSOCK, as in libzmq."""
    pull, _ = pipeline
    pull.fd  # noqa: B018  (made, then released by close)
    pull.close()
    with pytest.raises(zmtp.ZMQError) as raised:
        pull.getsockopt(zmtp.FD)
    assert raised.value.errno == zmtp.ENOTSOCK


def test_asyncio_add_reader_drives_a_blocking_socket_fed_by_libzmq() -> None:
    """The integration pattern of txZMQ/tornado, with a libzmq PUSH on the other end (tcp)."""
    context = zmtp.Context()
    pull = context.socket(zmtp.PULL)
    pull.linger = 0
    port = pull.bind_to_random_port("tcp://127.0.0.1")
    libzmq = zmq.Context()
    push = libzmq.socket(zmq.PUSH)
    push.linger = 0
    push.connect(f"tcp://127.0.0.1:{port}")
    count = 300

    async def main() -> list[bytes]:
        loop = asyncio.get_running_loop()
        got: list[bytes] = []
        done = loop.create_future()

        def on_readable() -> None:
            while pull.getsockopt(zmtp.EVENTS) & zmtp.POLLIN:
                got.append(pull.recv(zmtp.NOBLOCK))
            if len(got) >= count and not done.done():
                done.set_result(None)

        loop.add_reader(pull.fd, on_readable)
        try:
            for index in range(count):
                push.send(b"%d" % index)
            await asyncio.wait_for(done, WAIT_S)
        finally:
            loop.remove_reader(pull.fd)
        return got

    try:
        got = asyncio.run(main())
    finally:
        push.close()
        libzmq.term()
        pull.close()
        context.term()
    assert got == [b"%d" % index for index in range(count)]
