"""A socket made while ``term()`` runs is either refused or waited for, never left behind.

``term()`` marks the context as closing and takes the list of open sockets to wait for; a
socket that passed the "still open?" check just before and registered itself just after used
to escape: ``term()`` returned with it open, and its ``close()`` then failed with ETERM. The
test widens that window on purpose: right after the check, the socket's thread waits (up to
half a second) for ``term()`` to start closing. Correct code does that check under the lock
``term()`` needs, so ``term()`` cannot start inside the window and the wait simply times out.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

import zmtp
from zmtp.context import Context

_WINDOW_S = 0.5


@pytest.fixture
def widened_check(monkeypatch: pytest.MonkeyPatch) -> Iterator[set[int]]:
    """Make the registering check of the threads listed linger until term() starts."""
    threads: set[int] = set()
    calls: dict[int, int] = {}
    original = Context._check_open

    def check_then_wait_for_term(self: Context) -> None:
        original(self)
        me = threading.get_ident()
        calls[me] = calls.get(me, 0) + 1
        # socket() checks first on its own; the check that matters is the second one, made
        # when the new socket registers itself with the context.
        if me in threads and calls[me] == 2:
            deadline = time.monotonic() + _WINDOW_S
            while not self._runtime.closing and time.monotonic() < deadline:
                time.sleep(0.001)

    monkeypatch.setattr(Context, "_check_open", check_then_wait_for_term)
    yield threads


def test_a_socket_made_while_term_starts_is_refused_or_waited_for(
    widened_check: set[int],
) -> None:
    ctx = zmtp.Context()
    made: list[zmtp.Socket] = []
    failures: list[BaseException] = []

    def make_and_close() -> None:
        widened_check.add(threading.get_ident())
        try:
            sock = ctx.socket(zmtp.PAIR)
        except zmtp.ZMQError:
            return  # refused: the context is terminating, also correct
        made.append(sock)
        time.sleep(0.05)  # term() is waiting for this socket now, if it saw it
        try:
            sock.close(linger=0)
        except BaseException as exc:
            failures.append(exc)

    thread = threading.Thread(target=make_and_close)
    thread.start()
    time.sleep(0.05)  # let the thread pass the check and wait inside the window
    ctx.term()
    thread.join(10)
    assert not thread.is_alive()
    assert failures == []
    assert all(sock.closed for sock in made)
