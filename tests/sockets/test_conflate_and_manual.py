"""CONFLATE (keep only the newest message) and XPUB_MANUAL (the application decides)."""

import pytest

from zmtp.commands import Subscribe
from zmtp.constants import Errno, SocketOption, SocketType
from zmtp.errors import ZMQError
from zmtp.pipe import Pipe
from zmtp.sockets import SocketCore, create_socket_core

Opt = SocketOption


def test_conflating_pipe_keeps_only_the_newest_outbound_message() -> None:
    pipe = Pipe(sndhwm=1, conflate=True)
    pipe.write([b"old"])
    assert pipe.writable()  # HWM does not apply
    pipe.write([b"new"])
    assert list(pipe.outbound) == [[b"new"]]


def test_conflating_pipe_keeps_subscription_changes() -> None:
    pipe = Pipe(conflate=True)
    pipe.write(Subscribe(b"a"))
    pipe.write([b"old"])
    pipe.write([b"new"])
    assert list(pipe.outbound) == [Subscribe(b"a"), [b"new"]]


def test_conflating_pipe_keeps_only_the_newest_inbound_message() -> None:
    pipe = Pipe(rcvhwm=1, conflate=True)
    pipe.deliver([[b"1"], [b"2"]])
    pipe.deliver([[b"3"]])
    assert list(pipe.inbound) == [[b"3"]]
    assert not pipe.reading_paused  # a conflating reader never pushes back


@pytest.mark.parametrize("kind", [SocketType.SUB, SocketType.PULL, SocketType.PUSH])
def test_conflate_option_makes_the_sockets_pipes_conflate(kind: SocketType) -> None:
    core = create_socket_core(kind)
    core.set_option(Opt.CONFLATE, 1)
    assert core.new_pipe().conflate
    assert not create_socket_core(kind).new_pipe().conflate


def _manual_xpub() -> tuple[SocketCore, Pipe]:
    core = create_socket_core(SocketType.XPUB)
    core.set_option(Opt.XPUB_MANUAL, 1)
    pipe = core.new_pipe()
    assert core.attach(pipe)
    return core, pipe


def test_xpub_manual_reports_a_subscription_without_applying_it() -> None:
    core, pipe = _manual_xpub()
    core.subscription(pipe, b"news", True)
    assert core.recv() == [b"\x01news"]
    core.send([b"news.flash"])
    assert not pipe.outbound


def test_xpub_manual_applies_the_applications_subscribe_to_the_last_peer() -> None:
    core, pipe = _manual_xpub()
    core.subscription(pipe, b"news", True)
    core.recv()
    core.set_option(Opt.SUBSCRIBE, b"ne")
    core.send([b"news.flash"])
    assert list(pipe.outbound) == [[b"news.flash"]]
    core.set_option(Opt.UNSUBSCRIBE, b"ne")
    core.send([b"news.later"])
    assert list(pipe.outbound) == [[b"news.flash"]]


def test_xpub_manual_reports_every_repeated_subscription() -> None:
    core, pipe = _manual_xpub()
    for _ in range(2):
        core.subscription(pipe, b"a", True)
    assert [core.recv(), core.recv()] == [[b"\x01a"], [b"\x01a"]]


@pytest.mark.parametrize("kind", [SocketType.XPUB, SocketType.PUB])
def test_subscribe_on_a_publisher_needs_xpub_manual(kind: SocketType) -> None:
    core = create_socket_core(kind)
    with pytest.raises(ZMQError) as raised:
        core.set_option(Opt.SUBSCRIBE, b"x")
    assert raised.value.errno == Errno.EINVAL
