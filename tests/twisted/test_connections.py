"""zmtp.twisted connection classes: each socket type, each transport, several reactors."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path
from typing import Any

import pytest
from reactor_support import REACTOR_KINDS, Inbox, run, turn
from twisted.internet.defer import CancelledError
from twisted.internet.task import deferLater

import zmtp
from zmtp.constants import Event
from zmtp.errors import ZMQError
from zmtp.twisted import (
    ZmqDealerConnection,
    ZmqFactory,
    ZmqPairConnection,
    ZmqPubConnection,
    ZmqPullConnection,
    ZmqPushConnection,
    ZmqRouterConnection,
    ZmqSubConnection,
    ZmqXPubConnection,
    ZmqXSubConnection,
)


def endpoint_for(transport: str, tmp_path: Path, name: str = "s") -> str:
    if transport == "tcp":
        return "tcp://127.0.0.1:*"
    if transport == "ipc":
        return f"ipc://{tmp_path / name}"
    return f"inproc://{name}"


async def until_received(factory: ZmqFactory, send: Any, inbox: Inbox) -> None:
    """Repeat ``send()`` each turn until ``inbox`` has something (PUB drops until subscribed)."""
    for _ in range(500):
        if inbox.messages:
            return
        send()
        await deferLater(factory.reactor, 0.01, lambda: None)
    raise AssertionError("nothing arrived while the sender kept sending")


@pytest.mark.parametrize("transport", ["tcp", "ipc", "inproc"])
@pytest.mark.parametrize("kind", REACTOR_KINDS)
def test_push_to_pull_delivers_multipart_messages_in_order(
    kind: str, transport: str, tmp_path: Path
) -> None:
    async def scenario(factory: ZmqFactory) -> list[Any]:
        inbox = Inbox()
        pull = ZmqPullConnection(factory, callback=inbox)
        pull.bind(endpoint_for(transport, tmp_path))
        push = ZmqPushConnection(factory)
        push.connect(pull.last_endpoint)
        for i in range(50):
            push.send([b"part", str(i).encode(), b"x" * i])
        got = await inbox.wait(50)
        await push.shutdown()
        await pull.shutdown()
        return got

    got = run(kind, scenario)
    assert got == [[b"part", str(i).encode(), b"x" * i] for i in range(50)]


@pytest.mark.parametrize("transport", ["tcp", "ipc", "inproc"])
def test_connect_may_come_before_bind(transport: str, tmp_path: Path) -> None:
    async def scenario(factory: ZmqFactory) -> list[Any]:
        inbox = Inbox()
        push = ZmqPushConnection(factory)
        push.reconnect_ivl = 10
        pull = ZmqPullConnection(factory, callback=inbox)
        if transport == "tcp":
            port = pull.bind_to_random_port("tcp://127.0.0.1")
            await pull.unbind(pull.last_endpoint)
            target = f"tcp://127.0.0.1:{port}"
        else:
            target = endpoint_for(transport, tmp_path, "late")
        push.connect(target)
        sent = push.send(b"queued before the bind")
        await turn(factory.reactor)
        pull.bind(target)
        await sent
        return await inbox.wait(1)

    assert run("select", scenario) == [[b"queued before the bind"]]


@pytest.mark.parametrize("kind", REACTOR_KINDS)
def test_pub_sends_subscribers_only_matching_topics(kind: str) -> None:
    async def scenario(factory: ZmqFactory) -> list[Any]:
        inbox = Inbox()
        pub = ZmqPubConnection(factory)
        pub.bind("tcp://127.0.0.1:*")
        sub = ZmqSubConnection(factory, callback=inbox)
        sub.subscribe(b"news")
        sub.subscribe("ready")  # str topics are encoded as UTF-8
        sub.connect(pub.last_endpoint)
        await until_received(factory, lambda: pub.send(b"ready"), inbox)
        await pub.send([b"sport", b"ignored"])
        await pub.send([b"news", b"kept"])
        # Late "ready"s may still arrive; what was sent after them arrives after them.
        got = await inbox.wait_for([b"news", b"kept"])
        sub.unsubscribe(b"news")
        return got

    got = run(kind, scenario)
    assert [b"sport", b"ignored"] not in got
    assert got[-1] == [b"news", b"kept"]
    assert all(message == [b"ready"] for message in got[:-1])


def test_xpub_receives_subscriptions_and_xsub_sends_them() -> None:
    async def scenario(factory: ZmqFactory) -> tuple[list[Any], list[Any]]:
        upstream, downstream = Inbox(), Inbox()
        xpub = ZmqXPubConnection(factory, callback=upstream)
        xpub.bind("inproc://xpub")
        xsub = ZmqXSubConnection(factory, callback=downstream)
        xsub.connect("inproc://xpub")
        await xsub.send(b"\x01topic")
        subscriptions = await upstream.wait(1)
        await xpub.send([b"topic", b"body"])
        await xpub.send([b"other", b"body"])
        await xpub.send([b"topic", b"second"])
        return subscriptions, await downstream.wait(2)

    subscriptions, received = run("poll", scenario)
    assert subscriptions == [[b"\x01topic"]]
    assert received == [[b"topic", b"body"], [b"topic", b"second"]]


def test_pair_talks_both_ways_over_ipc(tmp_path: Path) -> None:
    async def scenario(factory: ZmqFactory) -> tuple[list[Any], list[Any]]:
        left_inbox, right_inbox = Inbox(), Inbox()
        left = ZmqPairConnection(factory, callback=left_inbox)
        left.bind(f"ipc://{tmp_path}/pair")
        right = ZmqPairConnection(factory, callback=right_inbox)
        right.connect(f"ipc://{tmp_path}/pair")
        await right.send(b"to left")
        await left.send(b"to right")
        return await left_inbox.wait(1), await right_inbox.wait(1)

    assert run("epoll", scenario) == ([[b"to left"]], [[b"to right"]])


@pytest.mark.parametrize("kind", REACTOR_KINDS)
def test_router_sees_dealer_routing_id_and_routes_the_answer(kind: str) -> None:
    async def scenario(factory: ZmqFactory) -> tuple[list[Any], list[Any]]:
        at_router, at_dealer = Inbox(), Inbox()
        router = ZmqRouterConnection(factory, callback=at_router)
        router.bind("tcp://127.0.0.1:*")
        dealer = ZmqDealerConnection(factory, callback=at_dealer)
        dealer.routing_id = b"dealer-1"
        dealer.connect(router.last_endpoint)
        await dealer.send([b"", b"hello"])
        request = (await at_router.wait(1))[0]
        await router.send([request[0], b"", b"world"])
        return request, (await at_dealer.wait(1))[0]

    assert run(kind, scenario) == ([b"dealer-1", b"", b"hello"], [b"", b"world"])


def test_message_received_can_be_overridden_instead_of_a_callback() -> None:
    class Collecting(ZmqPullConnection):
        def __init__(self, factory: ZmqFactory) -> None:
            super().__init__(factory)
            self.inbox = Inbox()

        def messageReceived(self, message: list[bytes]) -> None:
            self.inbox(message)

    async def scenario(factory: ZmqFactory) -> list[Any]:
        pull = Collecting(factory)
        pull.bind("inproc://override")
        push = ZmqPushConnection(factory)
        push.connect("inproc://override")
        await push.send(b"one")
        return await pull.inbox.wait(1)

    assert run("select", scenario) == [[b"one"]]


def test_a_failing_callback_is_logged_and_delivery_goes_on() -> None:
    seen: list[list[bytes]] = []
    arrived = Inbox()

    def callback(message: list[bytes]) -> None:
        seen.append(message)
        arrived(message)
        if message == [b"bad"]:
            raise RuntimeError("the application broke")

    async def scenario(factory: ZmqFactory) -> None:
        pull = ZmqPullConnection(factory, callback=callback)
        pull.bind("inproc://fail")
        push = ZmqPushConnection(factory)
        push.connect("inproc://fail")
        push.send(b"bad")
        push.send(b"good")
        await arrived.wait(2)

    run("select", scenario)
    assert seen == [[b"bad"], [b"good"]]


def test_send_waits_for_a_peer_and_for_room_under_sndhwm() -> None:
    async def scenario(factory: ZmqFactory) -> tuple[list[bool], list[Any]]:
        inbox = Inbox()
        push = ZmqPushConnection(factory)
        push.sndhwm = 2
        push.connect("inproc://hwm")
        sends = [push.send(str(i).encode()) for i in range(5)]
        await turn(factory.reactor)
        fired_before_peer = [send.called for send in sends]
        pull = ZmqPullConnection(factory, callback=inbox)
        pull.rcvhwm = 1
        pull.bind("inproc://hwm")
        for send in sends:
            await send
        return fired_before_peer, await inbox.wait(5)

    fired, received = run("select", scenario)
    assert fired == [True, True, False, False, False]
    assert received == [[str(i).encode()] for i in range(5)]


def test_cancelling_a_waiting_send_withdraws_the_message() -> None:
    async def scenario(factory: ZmqFactory) -> list[Any]:
        inbox = Inbox()
        push = ZmqPushConnection(factory)
        withdrawn = push.send(b"withdrawn")  # no peer yet: PUSH waits
        withdrawn.cancel()
        with pytest.raises(CancelledError):
            await withdrawn
        push.send(b"kept")
        pull = ZmqPullConnection(factory, callback=inbox)
        pull.bind("inproc://cancel")
        push.connect("inproc://cancel")
        return await inbox.wait(1)

    assert run("select", scenario) == [[b"kept"]]


def test_options_read_and_write_as_methods_and_attributes() -> None:
    async def scenario(factory: ZmqFactory) -> None:
        dealer = ZmqDealerConnection(factory)
        dealer.setsockopt(zmtp.SNDHWM, 7)
        assert dealer.getsockopt(zmtp.SNDHWM) == 7
        dealer.rcvhwm = 9
        assert dealer.rcvhwm == 9
        dealer.hwm = 3
        assert (dealer.sndhwm, dealer.rcvhwm) == (3, 3)
        assert dealer.linger == factory.lingerPeriod
        assert dealer.getsockopt(zmtp.TYPE) == zmtp.DEALER
        with pytest.raises(ZMQError) as error:
            dealer.setsockopt(zmtp.SNDHWM, -5)
        assert error.value.errno == zmtp.EINVAL
        with pytest.raises(TypeError):
            dealer.setsockopt(zmtp.SNDHWM, "many")
        with pytest.raises(ZMQError):
            dealer.setsockopt(zmtp.SUBSCRIBE, b"")  # not an option of DEALER
        dealer.application_state = "ordinary attribute"
        assert dealer.application_state == "ordinary attribute"
        with pytest.raises(AttributeError):
            _ = dealer.no_such_thing

    run("select", scenario)


def test_bad_endpoints_and_bind_conflicts_raise_zmq_errors(tmp_path: Path) -> None:
    async def scenario(factory: ZmqFactory) -> None:
        first = ZmqPullConnection(factory)
        second = ZmqPullConnection(factory)
        for bad, errno in [
            ("tcp//127.0.0.1:5555", zmtp.EINVAL),
            ("udp://127.0.0.1:5555", zmtp.EPROTONOSUPPORT),
            ("tcp://127.0.0.1:99999", zmtp.EINVAL),
        ]:
            with pytest.raises(ZMQError) as error:
                first.bind(bad)
            assert error.value.errno == errno, bad
        port = first.bind_to_random_port("tcp://127.0.0.1")
        with pytest.raises(ZMQError) as error:
            second.bind(f"tcp://127.0.0.1:{port}")
        assert error.value.errno == zmtp.EADDRINUSE
        first.bind("inproc://taken")
        with pytest.raises(ZMQError) as error:
            second.bind("inproc://taken")
        assert error.value.errno == zmtp.EADDRINUSE
        with pytest.raises(ZMQError) as error:
            second.unbind("tcp://127.0.0.1:1")
        assert error.value.errno == zmtp.ENOENT
        with pytest.raises(ZMQError) as error:
            second.disconnect("tcp://127.0.0.1:1")
        assert error.value.errno == zmtp.ENOENT
        with pytest.raises(TypeError):
            first.send(12345)  # type: ignore[arg-type]

    run("select", scenario)


def test_ipc_bind_removes_its_socket_file_on_unbind(tmp_path: Path) -> None:
    path = tmp_path / "bound"

    async def scenario(factory: ZmqFactory) -> None:
        pull = ZmqPullConnection(factory)
        pull.bind(f"ipc://{path}")
        assert path.exists()
        assert pull.last_endpoint == f"ipc://{path}".encode()
        await pull.unbind(f"ipc://{path}")
        assert not path.exists()

    run("poll", scenario)


def test_push_reconnects_after_the_peer_restarts(tmp_path: Path) -> None:
    endpoint = f"ipc://{tmp_path}/restart"

    async def scenario(factory: ZmqFactory) -> list[Any]:
        first, second, disconnected = Inbox(), Inbox(), Inbox()
        pull = ZmqPullConnection(factory, callback=first)
        pull.bind(endpoint)
        push = ZmqPushConnection(factory)
        push.reconnect_ivl = 10
        push.monitor(lambda event, value, endpoint: disconnected(event), Event.DISCONNECTED)
        push.connect(endpoint)
        await push.send(b"before")
        await first.wait(1)
        await pull.shutdown()
        # A message sent while the old connection is still closing may go down with it (as
        # in libzmq): send once the push has seen the peer leave.
        await disconnected.wait(1)
        replacement = ZmqPullConnection(factory, callback=second)
        replacement.bind(endpoint)
        await push.send(b"after")
        return await second.wait(1)

    assert run("epoll", scenario) == [[b"after"]]


def test_shutdown_lets_queued_messages_leave_within_linger() -> None:
    async def scenario(factory: ZmqFactory) -> list[Any]:
        inbox = Inbox()
        pull = ZmqPullConnection(factory, callback=inbox)
        pull.bind("tcp://127.0.0.1:*")
        push = ZmqPushConnection(factory)
        push.linger = 2000
        push.connect(pull.last_endpoint)
        for i in range(200):
            push.send(str(i).encode())
        await push.shutdown()  # the handshake has not even happened yet
        return await inbox.wait(200)

    assert len(run("select", scenario)) == 200


def test_shutdown_with_linger_zero_drops_and_returns_at_once() -> None:
    async def scenario(factory: ZmqFactory) -> bool:
        push = ZmqPushConnection(factory)
        push.linger = 0
        push.connect("tcp://127.0.0.1:1")  # nobody there
        push.send(b"lost")
        closing = push.shutdown()
        with pytest.raises(ZMQError):
            push.send(b"after shutdown")
        await closing
        return push not in factory.connections

    assert run("select", scenario) is True


def test_factory_shutdown_closes_every_connection() -> None:
    async def scenario(factory: ZmqFactory) -> int:
        for _ in range(3):
            ZmqPullConnection(factory).bind("tcp://127.0.0.1:*")
        await factory.shutdown()
        return len(factory.connections)

    assert run("select", scenario) == 0


def test_monitor_reports_libzmq_events() -> None:
    async def scenario(factory: ZmqFactory) -> list[Event]:
        events: list[Event] = []
        handshake = Inbox()
        pull = ZmqPullConnection(factory)
        pull.bind("tcp://127.0.0.1:*")
        push = ZmqPushConnection(factory)

        def report(event: Event, value: int, endpoint: str) -> None:
            events.append(event)
            if event is Event.HANDSHAKE_SUCCEEDED:
                handshake(endpoint)

        push.monitor(report)
        push.connect(pull.last_endpoint)
        await handshake.wait(1)
        return events

    events = run("select", scenario)
    assert events[:3] == [Event.CONNECT_DELAYED, Event.CONNECTED, Event.HANDSHAKE_SUCCEEDED]


def test_curve_secured_connection_between_twisted_peers() -> None:
    server_public, server_secret = zmtp.curve_keypair()
    client_public, client_secret = zmtp.curve_keypair()

    async def scenario(factory: ZmqFactory) -> list[Any]:
        inbox = Inbox()
        pull = ZmqPullConnection(factory, callback=inbox)
        pull.curve_server = 1
        pull.curve_secretkey = server_secret
        pull.bind("tcp://127.0.0.1:*")
        push = ZmqPushConnection(factory)
        push.curve_serverkey = server_public
        push.curve_publickey = client_public
        push.curve_secretkey = client_secret
        push.connect(pull.last_endpoint)
        await push.send(b"secret")
        return await inbox.wait(1)

    assert run("select", scenario) == [[b"secret"]]


def zap_handler(factory: ZmqFactory, password: bytes) -> ZmqRouterConnection:
    """A ZAP handler (RFC 27) on the factory's inproc: accepts NULL and one PLAIN password."""
    handler = ZmqRouterConnection(factory)

    def judge(message: list[bytes]) -> None:
        peer, delimiter, version, request_id = message[:4]
        mechanism, credentials = message[7], message[8:]
        accepted = mechanism == b"NULL" or (mechanism == b"PLAIN" and credentials[1:] == [password])
        user_id = credentials[0] if credentials else b""
        status = [b"200", b"OK", user_id] if accepted else [b"400", b"denied", b""]
        handler.send([peer, delimiter, version, request_id, *status, b""])

    handler.callback = judge
    handler.bind("inproc://zeromq.zap.01")
    return handler


def test_plain_credentials_are_judged_by_the_zap_handler() -> None:
    async def scenario(factory: ZmqFactory) -> tuple[list[Any], list[Any]]:
        zap_handler(factory, b"secret")
        inbox, refusals = Inbox(), Inbox()
        pull = ZmqPullConnection(factory, callback=inbox)
        pull.plain_server = 1
        pull.monitor(lambda event, value, endpoint: refusals(value), Event.HANDSHAKE_FAILED_AUTH)
        pull.bind("tcp://127.0.0.1:*")
        intruder = ZmqPushConnection(factory)
        intruder.plain_username = b"user"
        intruder.plain_password = b"wrong"
        intruder.connect(pull.last_endpoint)
        intruder.send(b"must not arrive")
        push = ZmqPushConnection(factory)
        push.plain_username = b"user"
        push.plain_password = b"secret"
        push.connect(pull.last_endpoint)
        await push.send(b"hello")
        return await inbox.wait(1), await refusals.wait(1)

    received, refusals = run("select", scenario)
    assert received == [[b"hello"]]
    assert refusals[0] == 400


def test_bound_sender_keeps_sending_after_a_zap_verdict() -> None:
    """The binder's handshake completes inside the ZAP reply; later sends must still go out."""

    async def scenario(factory: ZmqFactory) -> list[Any]:
        zap_handler(factory, b"secret")
        inbox = Inbox()
        push = ZmqPushConnection(factory)
        push.zap_domain = b"global"  # NULL asks ZAP after READY: the verdict ends the handshake
        push.bind("tcp://127.0.0.1:*")
        pull = ZmqPullConnection(factory, callback=inbox)
        pull.connect(push.last_endpoint)
        await push.send(b"first")
        await inbox.wait(1)
        await push.send(b"second")
        return await inbox.wait(2)

    assert run("select", scenario) == [[b"first"], [b"second"]]


@pytest.mark.parametrize("kind", REACTOR_KINDS)
def test_no_thread_is_started(kind: str) -> None:
    before = threading.active_count()

    async def scenario(factory: ZmqFactory) -> int:
        inbox = Inbox()
        pull = ZmqPullConnection(factory, callback=inbox)
        pull.bind("tcp://127.0.0.1:*")
        push = ZmqPushConnection(factory)
        push.connect(pull.last_endpoint)
        await push.send(b"x")
        await inbox.wait(1)
        await factory.shutdown()
        return threading.active_count()

    assert run(kind, scenario) == before


def test_handshake_deadline_runs_on_the_reactor_clock() -> None:
    """A peer that never greets is dropped after HANDSHAKE_IVL (a callLater timer)."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)  # the kernel completes the connection; nobody ever speaks

    async def scenario(factory: ZmqFactory) -> list[Event]:
        events = Inbox()
        push = ZmqPushConnection(factory)
        push.handshake_ivl = 100
        push.reconnect_ivl = -1  # one attempt only
        push.monitor(
            lambda event, value, endpoint: events(event),
            Event.HANDSHAKE_FAILED_NO_DETAIL | Event.DISCONNECTED,
        )
        push.connect(f"tcp://127.0.0.1:{silent.getsockname()[1]}")
        return await events.wait(1)

    try:
        events = run("poll", scenario)
    finally:
        silent.close()
    assert events[0] in (Event.HANDSHAKE_FAILED_NO_DETAIL, Event.DISCONNECTED)


def test_heartbeats_keep_an_idle_connection_alive() -> None:
    async def scenario(factory: ZmqFactory) -> list[Any]:
        inbox, disconnected = Inbox(), Inbox()
        pull = ZmqPullConnection(factory, callback=inbox)
        pull.heartbeat_ivl = 20
        pull.heartbeat_timeout = 100
        pull.bind("tcp://127.0.0.1:*")
        pull.monitor(lambda event, value, endpoint: disconnected(event), Event.DISCONNECTED)
        push = ZmqPushConnection(factory)
        push.heartbeat_ivl = 20
        push.connect(pull.last_endpoint)
        await push.send(b"first")
        await inbox.wait(1)
        await deferLater(factory.reactor, 0.3, lambda: None)  # idle for 3 timeouts
        await push.send(b"second")
        messages = await inbox.wait(2)
        assert not disconnected.messages, "a heartbeat timeout dropped a live peer"
        return messages

    assert run("epoll", scenario) == [[b"first"], [b"second"]]


def test_abstract_ipc_names() -> None:
    name = f"ipc://@zmtp-twisted-{os.getpid()}"

    async def scenario(factory: ZmqFactory) -> list[Any]:
        inbox = Inbox()
        pull = ZmqPullConnection(factory, callback=inbox)
        pull.bind(name)
        push = ZmqPushConnection(factory)
        push.connect(name)
        await push.send(b"abstract")
        return await inbox.wait(1)

    assert run("select", scenario) == [[b"abstract"]]


def test_disconnect_drops_the_peer_and_unbind_frees_the_address() -> None:
    async def scenario(factory: ZmqFactory) -> tuple[bool, str]:
        inbox, gone = Inbox(), Inbox()
        pull = ZmqPullConnection(factory, callback=inbox)
        pull.monitor(lambda event, value, endpoint: gone(event), Event.DISCONNECTED)
        port = pull.bind_to_random_port("tcp://127.0.0.1")
        endpoint = f"tcp://127.0.0.1:{port}"
        push = ZmqPushConnection(factory)
        push.connect(endpoint)
        await push.send(b"connected")
        await inbox.wait(1)
        push.disconnect(endpoint)
        await gone.wait(1)
        waiting = push.send(b"no peer any more")  # PUSH without a peer waits
        await turn(factory.reactor)
        await pull.unbind(endpoint)
        replacement = ZmqPullConnection(factory)
        replacement.bind(endpoint)  # the address is free again
        return waiting.called, replacement.last_endpoint.decode()

    waited, rebound = run("select", scenario)
    assert not waited
    assert rebound.startswith("tcp://127.0.0.1:")


@pytest.mark.parametrize(
    ("bind_to", "ipv6"), [("ipc://*", False), ("tcp://[::1]:*", True), ("tcp://lo:*", False)]
)
def test_wildcard_ipc_ipv6_and_interface_endpoints(
    bind_to: str, ipv6: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if ipv6 and not socket.has_ipv6:
        pytest.skip("no IPv6 on this host")
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # where ipc://* makes its directory

    async def scenario(factory: ZmqFactory) -> tuple[str, list[Any]]:
        inbox = Inbox()
        pull = ZmqPullConnection(factory, callback=inbox)
        pull.ipv6 = int(ipv6)
        pull.bind(bind_to)
        push = ZmqPushConnection(factory)
        push.ipv6 = int(ipv6)
        endpoint = pull.last_endpoint.decode()
        push.connect(endpoint.replace("0.0.0.0", "127.0.0.1"))
        await push.send(b"here")
        got = await inbox.wait(1)
        await pull.unbind(endpoint)
        return endpoint, got

    endpoint, got = run("select", scenario)
    assert got == [[b"here"]]
    assert "*" not in endpoint
    if endpoint.startswith("ipc://"):
        assert endpoint.startswith(f"ipc://{tmp_path}/tmp")
        assert not Path(endpoint.removeprefix("ipc://")).parent.exists()  # unbind removed it
