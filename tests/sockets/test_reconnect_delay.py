"""libzmq's reconnect back-off, shared by the asyncio engine and the Twisted driver."""

from __future__ import annotations

from zmtp.constants import SocketOption, SocketType
from zmtp.engine.settings import reconnect_delay
from zmtp.sockets import create_socket_core


def test_without_a_maximum_each_wait_is_random_between_one_and_two_intervals() -> None:
    core = create_socket_core(SocketType.DEALER)
    core.set_option(SocketOption.RECONNECT_IVL, 100)
    waits = set()
    for _ in range(200):
        planned = reconnect_delay(core, 100)
        assert planned is not None
        wait, interval = planned
        assert 100 <= wait < 200
        assert interval == 100
        waits.add(wait)
    assert len(waits) > 1


def test_with_a_maximum_the_interval_doubles_up_to_it() -> None:
    core = create_socket_core(SocketType.DEALER)
    core.set_option(SocketOption.RECONNECT_IVL, 100)
    core.set_option(SocketOption.RECONNECT_IVL_MAX, 500)
    interval, waits = 100, []
    for _ in range(5):
        planned = reconnect_delay(core, interval)
        assert planned is not None
        wait, interval = planned
        waits.append(wait)
    assert waits == [100, 200, 400, 500, 500]


def test_a_negative_interval_turns_reconnecting_off() -> None:
    core = create_socket_core(SocketType.DEALER)
    core.set_option(SocketOption.RECONNECT_IVL, -1)
    assert reconnect_delay(core, 100) is None
