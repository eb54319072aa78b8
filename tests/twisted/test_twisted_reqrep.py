"""Request/reply helpers: real REQ/REP, the seed's XREQ/XREP, timeouts, cancellation, stress."""

from __future__ import annotations

from typing import Any

import pytest
from reactor_support import REACTOR_KINDS, Inbox, run
from twisted.internet.defer import CancelledError, Deferred

from zmtp.errors import ZMQError
from zmtp.twisted import (
    ZmqFactory,
    ZmqRepConnection,
    ZmqReqConnection,
    ZmqRequestTimeoutError,
    ZmqXREPConnection,
    ZmqXREQConnection,
)


def echo_rep(factory: ZmqFactory, endpoint: str) -> ZmqRepConnection:
    rep = ZmqRepConnection(factory)
    rep.callback = lambda message_id, parts: rep.reply(message_id, [b"re", *parts])
    rep.bind(endpoint)
    return rep


def echo_xrep(factory: ZmqFactory, endpoint: str) -> ZmqXREPConnection:
    xrep = ZmqXREPConnection(factory)
    xrep.callback = lambda message_id, parts: xrep.reply(message_id, [b"re", *parts])
    xrep.bind(endpoint)
    return xrep


@pytest.mark.parametrize("kind", REACTOR_KINDS)
def test_req_request_fires_with_the_reply_and_queues_the_rest(kind: str) -> None:
    async def scenario(factory: ZmqFactory) -> list[Any]:
        rep = echo_rep(factory, "tcp://127.0.0.1:*")
        req = ZmqReqConnection(factory)
        req.connect(rep.last_endpoint)
        pending = [req.request([b"q", str(i).encode()]) for i in range(10)]
        return [await reply for reply in pending]

    assert run(kind, scenario) == [[b"re", b"q", str(i).encode()] for i in range(10)]


@pytest.mark.parametrize("server", [echo_rep, echo_xrep])
@pytest.mark.parametrize("client", [ZmqReqConnection, ZmqXREQConnection])
def test_every_client_helper_talks_to_every_server_helper(client: Any, server: Any) -> None:
    async def scenario(factory: ZmqFactory) -> list[Any]:
        server(factory, "inproc://service")
        requester = client(factory)
        requester.connect("inproc://service")
        return [await requester.request(b"ping"), await requester.request([b"a", b"b"])]

    assert run("select", scenario) == [[b"re", b"ping"], [b"re", b"a", b"b"]]


def test_rep_takes_the_next_request_only_after_replying() -> None:
    async def scenario(factory: ZmqFactory) -> tuple[int, list[Any]]:
        requests = Inbox()
        rep = ZmqRepConnection(factory, callback=requests)
        rep.bind("inproc://one-at-a-time")
        first, second = ZmqReqConnection(factory), ZmqReqConnection(factory)
        for req in (first, second):
            req.connect("inproc://one-at-a-time")
        answers = [first.request(b"1"), second.request(b"2")]
        (message_id, parts), *_ = await requests.wait(1)
        seen_before_reply = len(requests.messages)
        with pytest.raises(KeyError):
            rep.reply(b"not an id", b"x")
        rep.reply(message_id, [b"answer", *parts])
        (next_id, next_parts) = (await requests.wait(2))[1]
        rep.reply(next_id, [b"answer", *next_parts])
        return seen_before_reply, [await answer for answer in answers]

    seen_before_reply, answers = run("poll", scenario)
    assert seen_before_reply == 1
    assert sorted(answers) == [[b"answer", b"1"], [b"answer", b"2"]]


def test_xrep_serves_requests_out_of_order() -> None:
    async def scenario(factory: ZmqFactory) -> list[Any]:
        requests = Inbox()
        xrep = ZmqXREPConnection(factory, callback=requests)
        xrep.bind("tcp://127.0.0.1:*")
        xreq = ZmqXREQConnection(factory)
        xreq.connect(xrep.last_endpoint)
        answers = [xreq.request(str(i).encode()) for i in range(3)]
        received = await requests.wait(3)
        for message_id, parts in reversed(received):
            xrep.reply(message_id, [b"done", *parts])
        return [await answer for answer in answers]

    assert run("select", scenario) == [[b"done", b"0"], [b"done", b"1"], [b"done", b"2"]]


@pytest.mark.parametrize("client", [ZmqReqConnection, ZmqXREQConnection])
def test_a_request_times_out_is_forgotten_and_later_requests_still_work(client: Any) -> None:
    async def scenario(factory: ZmqFactory) -> tuple[bytes, list[bytes], int]:
        ignored: list[bytes] = []
        xrep = ZmqXREPConnection(factory)

        def answer_all_but_the_first(message_id: bytes, parts: list[bytes]) -> None:
            if parts == [b"ignored"]:
                ignored.append(message_id)
                return
            xrep.reply(message_id, [b"re", *parts])

        xrep.callback = answer_all_but_the_first
        xrep.bind("inproc://slow")
        requester = client(factory)
        requester.connect("inproc://slow")
        with pytest.raises(ZmqRequestTimeoutError) as timed_out:
            await requester.request(b"ignored", timeout=0.05)
        xrep.reply(ignored[0], b"too late")  # dropped by the requester
        answer = await requester.request(b"next", timeout=5)
        return timed_out.value.args[0], answer, len(requester._outstanding())

    message_id, answer, outstanding = run("select", scenario)
    assert message_id
    assert answer == [b"re", b"next"]
    assert outstanding == 0


@pytest.mark.parametrize("client", [ZmqReqConnection, ZmqXREQConnection])
def test_cancelling_a_request_forgets_it(client: Any) -> None:
    async def scenario(factory: ZmqFactory) -> tuple[int, int]:
        requester = client(factory)
        requester.connect("inproc://nobody")  # never bound: the request waits
        timers = len(factory.reactor.getDelayedCalls())
        waiting: Deferred[list[bytes]] = requester.request(b"x", timeout=30)
        waiting.cancel()
        with pytest.raises(CancelledError):
            await waiting
        timers_left = len(factory.reactor.getDelayedCalls()) - timers
        return len(requester._outstanding()), timers_left

    assert run("select", scenario) == (0, 0)


def test_shutdown_cancels_outstanding_requests() -> None:
    async def scenario(factory: ZmqFactory) -> None:
        req = ZmqReqConnection(factory)
        req.connect("inproc://nobody")
        waiting = req.request(b"x")
        await req.shutdown()
        with pytest.raises(CancelledError):
            await waiting
        with pytest.raises(ZMQError):
            req.request(b"after shutdown")

    run("select", scenario)


def test_negative_timeout_is_refused() -> None:
    async def scenario(factory: ZmqFactory) -> None:
        req = ZmqXREQConnection(factory)
        with pytest.raises(ValueError, match="timeout"):
            req.request(b"x", timeout=-1)

    run("select", scenario)


STRESS = 10_000


def test_stress_10000_requests_req_rep_over_tcp() -> None:
    """One REQ, 10 000 requests one after another, over tcp (a few seconds)."""

    async def scenario(factory: ZmqFactory) -> int:
        rep = echo_rep(factory, "tcp://127.0.0.1:*")
        req = ZmqReqConnection(factory)
        req.connect(rep.last_endpoint)
        correct = 0
        for i in range(STRESS):
            body = str(i).encode()
            if await req.request(body, timeout=10) == [b"re", body]:
                correct += 1
        return correct

    assert run("epoll", scenario, bound=60) == STRESS


def test_stress_10000_requests_dealer_router_in_flight_over_ipc(tmp_path: Any) -> None:
    """10 000 requests in flight at once through the seed's DEALER/ROUTER helpers, over ipc."""

    async def scenario(factory: ZmqFactory) -> int:
        echo_xrep(factory, f"ipc://{tmp_path}/stress")
        xreq = ZmqXREQConnection(factory)
        xreq.connect(f"ipc://{tmp_path}/stress")
        pending = [xreq.request(str(i).encode(), timeout=30) for i in range(STRESS)]
        answers = [await answer for answer in pending]
        return sum(answer == [b"re", str(i).encode()] for i, answer in enumerate(answers))

    assert run("select", scenario, bound=60) == STRESS
