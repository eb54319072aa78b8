"""Over inproc a subscription reaches the publisher before its next send, as with libzmq.

libzmq's PUB applies the subscriptions waiting in its pipes before it sends, so pyzmq code
(and pyzmq's own test_log) may subscribe and publish at once over inproc. zmtp moves a
subscription across the link from the subscriber's own thread when the publisher's lock is
free, and wakes the publisher's users (XPUB readers) from the I/O thread.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import zmtp


@pytest.fixture
def ctx() -> Iterator[zmtp.Context]:
    context = zmtp.Context()
    yield context
    context.destroy(linger=0)


def test_a_send_right_after_subscribing_is_received(ctx: zmtp.Context) -> None:
    for round_ in range(50):
        endpoint = f"inproc://at-once-{round_}"
        pub = ctx.socket(zmtp.PUB)
        pub.bind(endpoint)
        sub = ctx.socket(zmtp.SUB)
        sub.connect(endpoint)
        sub.subscribe(b"topic")
        pub.send_multipart([b"topic", str(round_).encode()])
        pub.send_multipart([b"other", b"filtered out"])
        assert sub.poll(5000), f"round {round_}: the message sent after subscribing was lost"
        assert sub.recv_multipart() == [b"topic", str(round_).encode()]
        assert not sub.poll(50)
        pub.close(linger=0)
        sub.close(linger=0)


def test_unsubscribing_also_applies_before_the_next_send(ctx: zmtp.Context) -> None:
    pub, sub = ctx.socket(zmtp.PUB), ctx.socket(zmtp.SUB)
    pub.bind("inproc://unsubscribe")
    sub.connect("inproc://unsubscribe")
    sub.subscribe(b"")
    pub.send(b"first")
    assert sub.poll(5000)
    assert sub.recv() == b"first"
    sub.unsubscribe(b"")
    pub.send(b"not for you")
    assert not sub.poll(100)


def test_an_xpub_reader_is_woken_by_a_subscription(ctx: zmtp.Context) -> None:
    xpub, sub = ctx.socket(zmtp.XPUB), ctx.socket(zmtp.SUB)
    xpub.bind("inproc://notices")
    sub.connect("inproc://notices")
    sub.subscribe(b"news")
    assert xpub.poll(5000)
    assert xpub.recv() == b"\x01news"
