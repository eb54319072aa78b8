"""zmtp.twisted.txzmq: txZMQ 1.0's API and wire quirks, class by class."""

from __future__ import annotations

from typing import Any

import pytest
from reactor_support import Inbox, close_reactor, make_reactor, run
from twisted.internet.task import deferLater

from zmtp.constants import SocketOption
from zmtp.twisted import ZmqRouterConnection as RawRouter
from zmtp.twisted import txzmq
from zmtp.twisted.txzmq import (
    ZmqDealerConnection,
    ZmqEndpoint,
    ZmqEndpointType,
    ZmqFactory,
    ZmqPubConnection,
    ZmqPullConnection,
    ZmqPushConnection,
    ZmqREPConnection,
    ZmqREQConnection,
    ZmqRequestTimeoutError,
    ZmqRouterConnection,
    ZmqSubConnection,
)


class Subscriber(ZmqSubConnection):
    inbox: Inbox

    def gotMessage(self, message: bytes, tag: bytes) -> None:
        self.inbox((message, tag))


def test_publish_glues_tag_and_message_into_one_frame() -> None:
    async def scenario(factory: ZmqFactory) -> tuple[list[Any], list[Any]]:
        raw = Inbox()
        pub = ZmqPubConnection(factory, ZmqEndpoint(ZmqEndpointType.bind, "inproc://pub"))
        sub = Subscriber(factory, ZmqEndpoint(ZmqEndpointType.connect, "inproc://pub"))
        sub.inbox = Inbox()
        sub.subscribe(b"ab")  # txZMQ's prefix quirk: also matches tag b"abc"
        watcher = txzmq.ZmqSubConnection(factory)
        watcher.messageReceived = raw  # type: ignore[method-assign]
        watcher.subscribe(b"")
        watcher.connect("inproc://pub")
        for _ in range(500):  # PUB drops until the subscriptions arrive: repeat until both have
            if sub.inbox.messages and raw.messages:
                break
            await pub.publish(b"ready", b"ab")
            await deferLater(factory.reactor, 0.01, lambda: None)
        await pub.publish(b"first", b"abc")
        await pub.publish(b"dropped", b"zz")
        await pub.publish(b"no tag")
        # Late "ready"s may still arrive; what was sent after them arrives after them.
        return await sub.inbox.wait_for((b"first", b"abc")), await raw.wait_for([b"\0no tag"])

    got, raw = run("select", scenario)
    assert got[-1] == (b"first", b"abc")
    assert raw[-3:] == [[b"abc\0first"], [b"zz\0dropped"], [b"\0no tag"]]


def test_sub_accepts_two_frame_and_unglued_messages() -> None:
    async def scenario(factory: ZmqFactory) -> list[Any]:
        sub = Subscriber(factory)
        sub.inbox = Inbox()
        sub.messageReceived([b"tag", b"body"])
        sub.messageReceived([b"no separator"])
        return await sub.inbox.wait(2)

    assert run("select", scenario) == [(b"body", b"tag"), (b"no separator", b"")]


def test_push_and_on_pull() -> None:
    class Puller(ZmqPullConnection):
        def onPull(self, message: list[bytes]) -> None:
            inbox(message)

    inbox = Inbox()

    async def scenario(factory: ZmqFactory) -> list[Any]:
        puller = Puller(factory, ZmqEndpoint("bind", "tcp://127.0.0.1:*"))
        endpoint = puller.last_endpoint.decode()
        push = ZmqPushConnection(factory, ZmqEndpoint("connect", endpoint))
        push.push(b"one")
        push.push([b"two", b"frames"])
        return await inbox.wait(2)

    assert run("poll", scenario) == [[b"one"], [b"two", b"frames"]]


class Echo(ZmqREPConnection):
    def gotMessage(self, messageId: bytes, *messageParts: bytes) -> None:
        if messageParts != (b"ignore me",):
            self.reply(messageId, b"echo", *messageParts)


def test_req_send_msg_and_rep_got_message_reply() -> None:
    async def scenario(factory: ZmqFactory) -> list[Any]:
        Echo(factory, ZmqEndpoint("bind", "inproc://rep"))
        req = ZmqREQConnection(factory, ZmqEndpoint("connect", "inproc://rep"))
        first = req.sendMsg(b"a", b"b")
        second = req.sendMsg(b"c", timeout=5)
        return [await first, await second]

    assert run("select", scenario) == [[b"echo", b"a", b"b"], [b"echo", b"c"]]


def test_req_is_a_dealer_sending_uuid_and_delimiter() -> None:
    async def scenario(factory: ZmqFactory) -> list[Any]:
        seen = Inbox()
        RawRouter(factory, callback=seen).bind("inproc://raw")
        req = ZmqREQConnection(factory, ZmqEndpoint("connect", "inproc://raw"))
        req.sendMsg(b"body")
        return (await seen.wait(1))[0]

    peer_id, message_id, delimiter, body = run("select", scenario)
    assert (len(message_id), delimiter, body) == (16, b"", b"body")
    assert peer_id


def test_default_request_timeout_fails_with_the_message_id() -> None:
    class Impatient(ZmqREQConnection):
        defaultRequestTimeout = 0.05

    async def scenario(factory: ZmqFactory) -> bool:
        Echo(factory, ZmqEndpoint("bind", "inproc://slow"))
        req = Impatient(factory, ZmqEndpoint("connect", "inproc://slow"))
        with pytest.raises(ZmqRequestTimeoutError):
            await req.sendMsg(b"ignore me")
        with pytest.raises(TypeError):
            req.sendMsg(b"x", deadline=1)
        return not req._outstanding()

    assert run("select", scenario) is True


def test_router_and_dealer_in_the_uniform_style() -> None:
    class Router(ZmqRouterConnection):
        def gotMessage(self, senderId: bytes, *frames: bytes) -> None:  # type: ignore[override]
            self.sendMsg(senderId, b"reply to " + frames[-1])

    class Dealer(ZmqDealerConnection):
        def gotMessage(self, *frames: bytes) -> None:
            inbox(list(frames))

    inbox = Inbox()

    async def scenario(factory: ZmqFactory) -> list[Any]:
        Router(factory, ZmqEndpoint("bind", "inproc://uniform"))
        dealer = Dealer(factory, ZmqEndpoint("connect", "inproc://uniform"), identity=b"me")
        dealer.sendMsg(b"one")
        dealer.sendMultipart([b"two", b"three"])
        return await inbox.wait(2)

    assert run("select", scenario) == [[b"reply to one"], [b"reply to three"]]


def test_class_attribute_options_and_identity_apply_at_construction() -> None:
    class Tuned(ZmqPushConnection):
        highWaterMark = 7
        reconnectInterval = 250
        reconnectIntervalMax = 1000

    async def scenario(factory: ZmqFactory) -> tuple[int, int, int, int, bytes]:
        push = Tuned(factory, identity=b"named")
        plain = ZmqPushConnection(factory)
        return (
            push.sndhwm,
            push.getsockopt(SocketOption.RECONNECT_IVL),
            push.getsockopt(SocketOption.RECONNECT_IVL_MAX),
            plain.sndhwm,
            push.routing_id,
        )

    assert run("select", scenario) == (7, 250, 1000, 0, b"named")


def test_bad_endpoint_type_is_refused() -> None:
    async def scenario(factory: ZmqFactory) -> None:
        with pytest.raises(ValueError, match="neither"):
            ZmqPushConnection(factory, ZmqEndpoint("listen", "inproc://x"))

    run("select", scenario)


def test_deprecated_x_names_warn_and_take_endpoints() -> None:
    async def scenario(factory: ZmqFactory) -> list[Any]:
        with pytest.warns(DeprecationWarning):
            rep = txzmq.ZmqXREPConnection(factory, ZmqEndpoint("bind", "inproc://old"))
        rep.gotMessage = lambda message_id, *parts: rep.reply(message_id, b"ok")  # type: ignore[method-assign]
        with pytest.warns(DeprecationWarning):
            req = txzmq.ZmqXREQConnection(factory, ZmqEndpoint("connect", "inproc://old"))
        return await req.sendMsg(b"hi")

    assert run("select", scenario) == [b"ok"]


def test_unimplemented_handlers_raise_not_implemented() -> None:
    async def scenario(factory: ZmqFactory) -> None:
        for connection in (ZmqPullConnection(factory), ZmqSubConnection(factory)):
            with pytest.raises(NotImplementedError):
                connection.messageReceived([b"tag\0x"])

    run("select", scenario)


def test_register_for_shutdown_closes_connections_before_the_reactor_stops() -> None:
    reactor = make_reactor("select")
    factory = ZmqFactory(reactor=reactor)
    factory.registerForShutdown()
    push = ZmqPushConnection(factory, ZmqEndpoint("connect", "tcp://127.0.0.1:1"))
    push.push(b"pending")  # nobody listens there: LINGER (100 ms) bounds the wait
    reactor.callWhenRunning(reactor.stop)
    bound = reactor.callLater(5, reactor.crash)
    reactor.run(installSignalHandlers=False)
    finished_in_time = bound.active()
    if finished_in_time:
        bound.cancel()
    close_reactor(reactor, "select")
    assert finished_in_time, "shutdown did not finish within its LINGER"
    assert not factory.connections
