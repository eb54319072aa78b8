"""``zmtp.Poller``, ``zmtp.select`` and ``Socket.poll``: waiting on sockets and OS descriptors.

Timeouts are in milliseconds for Poller.poll and Socket.poll, in seconds for select, as in
pyzmq. Every wait is bounded; "nothing is ready" is checked with a short timeout.
"""

from __future__ import annotations

import gc
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import zmq
from api_support import endpoint_maker, socket_maker

import zmtp

WAIT = 5000  # ms: the bound on anything that should happen
QUIET = 200  # ms: a timeout that is expected to expire
TRANSPORTS = ["tcp", "ipc", "inproc"]


@pytest.fixture
def ctx() -> Iterator[zmtp.Context]:
    context = zmtp.Context()
    yield context
    gc.collect()  # not inside destroy(): see test_context.py's Socket.__del__ deadlock test
    closing = threading.Thread(target=context.destroy, args=(0,), daemon=True)
    closing.start()
    closing.join(WAIT / 1000)
    assert not closing.is_alive(), "ctx.destroy(linger=0) hung"


Maker = Callable[..., zmtp.Socket]


@pytest.fixture
def make(ctx: zmtp.Context) -> Maker:
    return socket_maker(ctx, zmtp.Socket)


@pytest.fixture(params=TRANSPORTS)
def endpoint(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    return endpoint_maker(request.param, tmp_path, "p")


@pytest.fixture
def os_pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    """A connected pair of plain OS sockets."""
    a, b = socket.socketpair()
    yield a, b
    a.close()
    b.close()


def fd_of(item: Any) -> Any:
    """A raw socket as pyzmq reports it (its fd number); zmtp sockets unchanged."""
    return item if isinstance(item, int | zmtp.Socket) else item.fileno()


def linked(make: Maker, endpoint: Callable[[], str], bound: int, connected: int) -> tuple:
    server, client = make(bound), make(connected)
    server.bind(endpoint())
    client.connect(server.getsockopt_string(zmtp.LAST_ENDPOINT))
    return server, client


def inproc_pair(make: Maker, name: str) -> tuple[zmtp.Socket, zmtp.Socket]:
    pull, push = make(zmtp.PULL), make(zmtp.PUSH)
    pull.bind(f"inproc://{name}")
    push.connect(f"inproc://{name}")
    return pull, push


# -- Poller -----------------------------------------------------------------------------------


def test_poller_reports_only_the_sockets_that_are_ready(
    make: Maker, endpoint: Callable[[], str]
) -> None:
    pulls, pushes = [], []
    for _ in range(3):
        pull, push = linked(make, endpoint, zmtp.PULL, zmtp.PUSH)
        pulls.append(pull)
        pushes.append(push)
    poller = zmtp.Poller()
    for pull in pulls:
        poller.register(pull, zmtp.POLLIN)
    pushes[0].send(b"0")
    pushes[2].send(b"2")
    assert poller.poll(WAIT)  # woken by the first arrival
    assert pulls[0].poll(WAIT) and pulls[2].poll(WAIT)  # both have arrived now
    assert poller.poll(0) == [(pulls[0], zmtp.POLLIN), (pulls[2], zmtp.POLLIN)]
    assert pulls[0].recv() == b"0"
    assert pulls[2].recv() == b"2"
    assert poller.poll(0) == []


def test_poller_reports_pollout_where_a_send_would_not_block(make: Maker) -> None:
    pull, push = inproc_pair(make, "out")
    lonely = make(zmtp.PUSH)  # no peer: a send would block
    poller = zmtp.Poller()
    poller.register(push, zmtp.POLLIN | zmtp.POLLOUT)
    poller.register(lonely, zmtp.POLLOUT)
    poller.register(pull, zmtp.POLLIN | zmtp.POLLOUT)  # PULL can never send
    assert dict(poller.poll(0)) == {push: zmtp.POLLOUT}


def test_poller_reports_both_events_when_both_are_ready(make: Maker) -> None:
    a, b = make(zmtp.PAIR), make(zmtp.PAIR)
    a.bind("inproc://both")
    b.connect("inproc://both")
    b.send(b"x")
    poller = zmtp.Poller()
    poller.register(a)  # default: POLLIN | POLLOUT
    assert a.poll(WAIT) == zmtp.POLLIN
    assert dict(poller.poll(WAIT)) == {a: zmtp.POLLIN | zmtp.POLLOUT}


def test_poll_timeout_0_returns_at_once(make: Maker) -> None:
    pull = make(zmtp.PULL)
    poller = zmtp.Poller()
    poller.register(pull, zmtp.POLLIN)
    assert poller.poll(0) == []


def test_poll_timeout_returns_an_empty_list_after_the_wait(make: Maker) -> None:
    pull = make(zmtp.PULL)
    poller = zmtp.Poller()
    poller.register(pull, zmtp.POLLIN)
    assert poller.poll(QUIET) == []


def test_poll_without_timeout_waits_until_a_socket_is_ready(make: Maker) -> None:
    pull, push = make(zmtp.PULL), make(zmtp.PUSH)
    pull.bind("tcp://127.0.0.1:*")
    push.connect(pull.getsockopt_string(zmtp.LAST_ENDPOINT))
    push.send(b"wake")  # arrives after the handshake, while poll waits
    poller = zmtp.Poller()
    poller.register(pull, zmtp.POLLIN)
    result: list[Any] = []
    waiting = threading.Thread(target=lambda: result.extend(poller.poll()), daemon=True)
    waiting.start()
    waiting.join(WAIT / 1000)
    assert result == [(pull, zmtp.POLLIN)]


def test_register_modify_and_unregister_change_what_is_polled(make: Maker) -> None:
    pull, push = inproc_pair(make, "modify")
    push.send(b"x")
    assert pull.poll(WAIT)
    poller = zmtp.Poller()
    poller.register(pull, zmtp.POLLOUT)
    assert poller.sockets == [(pull, zmtp.POLLOUT)]
    assert poller.poll(0) == []
    poller.modify(pull, zmtp.POLLIN)
    assert poller.poll(0) == [(pull, zmtp.POLLIN)]
    poller.register(pull, zmtp.POLLIN | zmtp.POLLOUT)  # again: replaces the flags
    assert poller.sockets == [(pull, zmtp.POLLIN | zmtp.POLLOUT)]
    poller.unregister(pull)
    assert poller.sockets == []
    assert poller.poll(0) == []


def test_register_with_zero_flags_unregisters(make: Maker) -> None:
    sock = make(zmtp.PULL)
    poller = zmtp.Poller()
    poller.register(sock, zmtp.POLLIN)
    poller.register(sock, 0)
    assert poller.sockets == []


def test_register_with_zero_flags_of_an_unknown_socket_is_ignored(make: Maker) -> None:
    poller = zmtp.Poller()
    poller.register(make(zmtp.PULL), 0)
    assert poller.sockets == []


def test_unregister_of_an_unknown_socket_is_key_error_as_in_pyzmq(make: Maker) -> None:
    with pytest.raises(KeyError):
        zmtp.Poller().unregister(make(zmtp.PULL))


def test_unregister_keeps_the_other_registrations(make: Maker) -> None:
    socks = [make(zmtp.PULL) for _ in range(3)]
    poller = zmtp.Poller()
    for sock in socks:
        poller.register(sock, zmtp.POLLIN)
    poller.unregister(socks[0])
    poller.modify(socks[2], zmtp.POLLOUT)
    assert poller.sockets == [(socks[1], zmtp.POLLIN), (socks[2], zmtp.POLLOUT)]


def test_a_raw_os_socket_is_polled_alongside_zmtp_sockets(
    make: Maker, os_pair: tuple[socket.socket, socket.socket]
) -> None:
    a, b = os_pair
    pull, push = inproc_pair(make, "raw")
    poller = zmtp.Poller()
    poller.register(pull, zmtp.POLLIN)
    poller.register(a, zmtp.POLLIN)
    assert poller.poll(0) == []
    b.send(b"!")
    assert [(fd_of(s), e) for s, e in poller.poll(WAIT)] == [(a.fileno(), zmtp.POLLIN)]
    assert a.recv(1) == b"!"
    push.send(b"zmtp")
    assert poller.poll(WAIT) == [(pull, zmtp.POLLIN)]


def test_a_raw_file_descriptor_number_is_reported_as_registered(
    make: Maker, os_pair: tuple[socket.socket, socket.socket]
) -> None:
    a, b = os_pair
    pull = make(zmtp.PULL)
    poller = zmtp.Poller()
    poller.register(pull, zmtp.POLLIN)
    poller.register(b.fileno(), zmtp.POLLOUT)
    poller.register(a.fileno(), zmtp.POLLIN)
    assert poller.poll(WAIT) == [(b.fileno(), zmtp.POLLOUT)]


def test_a_raw_socket_becoming_readable_wakes_a_waiting_poll(
    make: Maker, os_pair: tuple[socket.socket, socket.socket]
) -> None:
    a, b = os_pair
    poller = zmtp.Poller()
    poller.register(make(zmtp.PULL), zmtp.POLLIN)
    poller.register(a, zmtp.POLLIN)
    result: list[Any] = []
    waiting = threading.Thread(target=lambda: result.extend(poller.poll(WAIT)), daemon=True)
    waiting.start()
    b.send(b"!")
    waiting.join(WAIT / 1000)
    assert [(fd_of(s), e) for s, e in result] == [(a.fileno(), zmtp.POLLIN)]


def test_a_poller_of_raw_sockets_only_times_out_with_an_empty_list(
    os_pair: tuple[socket.socket, socket.socket],
) -> None:
    poller = zmtp.Poller()
    poller.register(os_pair[0], zmtp.POLLIN)
    assert poller.poll(QUIET) == []


# -- select -----------------------------------------------------------------------------------


def test_select_returns_the_ready_sockets_of_each_list(make: Maker) -> None:
    pull, push = inproc_pair(make, "select")
    idle = make(zmtp.PULL)
    push.send(b"x")
    assert pull.poll(WAIT)
    rlist, wlist, xlist = zmtp.select([pull, idle], [push, idle], [], WAIT / 1000)
    assert (rlist, wlist, xlist) == ([pull], [push], [])


def test_select_timeout_in_seconds_returns_empty_lists(make: Maker) -> None:
    idle = make(zmtp.PULL)
    assert zmtp.select([idle], [idle], [], QUIET / 1000) == ([], [], [])


def test_select_takes_raw_os_sockets(
    make: Maker, os_pair: tuple[socket.socket, socket.socket]
) -> None:
    a, b = os_pair
    b.send(b"!")
    rlist, wlist, xlist = zmtp.select([a, make(zmtp.PULL)], [], [], WAIT / 1000)
    assert ([fd_of(s) for s in rlist], wlist, xlist) == ([a.fileno()], [], [])


def test_a_raw_socket_is_reported_by_its_fd_number_as_in_pyzmq(
    make: Maker, os_pair: tuple[socket.socket, socket.socket]
) -> None:
    a, b = os_pair
    b.send(b"!")
    poller = zmtp.Poller()
    poller.register(a, zmtp.POLLIN)
    assert poller.poll(WAIT) == [(a.fileno(), zmtp.POLLIN)]
    assert zmtp.select([a], [], [], WAIT / 1000) == ([a.fileno()], [], [])


# -- Socket.poll and EVENTS -------------------------------------------------------------------


def test_socket_poll_returns_the_events_or_0_on_timeout(make: Maker) -> None:
    pull, push = inproc_pair(make, "sockpoll")
    assert pull.poll(0) == 0
    assert pull.poll(QUIET) == 0
    assert push.poll(0, zmtp.POLLOUT) == zmtp.POLLOUT
    push.send(b"x")
    assert pull.poll(WAIT) == zmtp.POLLIN
    assert pull.poll(None) == zmtp.POLLIN  # ready: returns without a timeout
    assert pull.poll(0, zmtp.POLLOUT) == 0


def test_socket_poll_wakes_when_a_message_arrives(make: Maker, endpoint: Callable[[], str]) -> None:
    pull, push = linked(make, endpoint, zmtp.PULL, zmtp.PUSH)
    push.send(b"x")
    assert pull.poll(WAIT) == zmtp.POLLIN
    assert pull.recv() == b"x"


def test_events_option_follows_readiness(make: Maker) -> None:
    pull, push = inproc_pair(make, "events")
    assert pull.events == 0
    assert push.events == zmtp.POLLOUT
    push.send(b"x")
    assert pull.poll(WAIT)
    assert pull.getsockopt(zmtp.EVENTS) == zmtp.POLLIN
    pull.recv()
    assert pull.events == 0


SOCKET_TYPES = ["PAIR", "PUB", "SUB", "REQ", "REP", "DEALER", "ROUTER", "PULL", "PUSH"]


@pytest.mark.parametrize("kind", [*SOCKET_TYPES, "XPUB", "XSUB"])
def test_a_fresh_sockets_events_are_libzmqs(ctx: zmtp.Context, kind: str) -> None:
    with zmq.Context() as zctx, zctx.socket(getattr(zmq, kind)) as theirs:
        expected = theirs.getsockopt(zmq.EVENTS)
    ours = ctx.socket(getattr(zmtp, kind))
    assert ours.getsockopt(zmtp.EVENTS) == expected
    assert zmtp.Poller().poll(0) == []
    poller = zmtp.Poller()
    poller.register(ours)
    assert dict(poller.poll(0)).get(ours, 0) == expected


def test_poll_reports_what_the_socket_can_do_under_hwm(make: Maker) -> None:
    pull, push = make(zmtp.PULL, rcvhwm=1), make(zmtp.PUSH, sndhwm=1)
    pull.bind("inproc://hwm-poll")
    push.connect("inproc://hwm-poll")
    for _ in range(2):  # inproc holds SNDHWM + RCVHWM
        assert push.poll(WAIT, zmtp.POLLOUT) == zmtp.POLLOUT
        push.send(b"m", zmtp.DONTWAIT)
    assert push.poll(QUIET, zmtp.POLLOUT) == 0
    pull.recv()
    assert push.poll(WAIT, zmtp.POLLOUT) == zmtp.POLLOUT


def test_poller_raises_eterm_when_the_context_ends() -> None:
    """A Poller blocked in poll() raises ETERM when the context terminates (libzmq zmq_poll)."""
    context = zmtp.Context()
    sock = context.socket(zmtp.PULL)
    sock.linger = 0
    sock.bind("inproc://idle")
    polling = threading.Event()
    outcome: list[object] = []

    def wait() -> None:
        poller = zmtp.Poller()
        poller.register(sock, zmtp.POLLIN)
        polling.set()
        started = time.monotonic()
        try:
            outcome.append(poller.poll(1000))
        except zmtp.ContextTerminated as exc:
            outcome.append(exc)
        outcome.append(time.monotonic() - started)
        sock.close()

    waiter = threading.Thread(target=wait, daemon=True)
    waiter.start()
    assert polling.wait(WAIT / 1000)
    closing = threading.Thread(target=context.term, daemon=True)
    closing.start()
    waiter.join(WAIT / 1000)
    closing.join(WAIT / 1000)
    assert isinstance(outcome[0], zmtp.ContextTerminated), outcome
