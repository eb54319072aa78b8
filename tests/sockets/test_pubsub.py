"""PUB, XPUB, SUB and XSUB (RFC 29, Publish-Subscribe) as libzmq 4.3 implements them.

Notes section 4.2 and 4.4; libzmq's pub.cpp, xpub.cpp, sub.cpp, xsub.cpp, dist.cpp and
generic_mtrie. A subscriber's SUBSCRIBE/CANCEL reaches a PUB-family core through
``core.subscription(pipe, topic, subscribe)``; what a SUB-family core sends upstream is queued
on ``pipe.outbound`` as :class:`~zmtp.commands.Subscribe`/:class:`~zmtp.commands.Cancel`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest

from zmtp.commands import Cancel, Subscribe
from zmtp.constants import Errno, SocketOption, SocketType
from zmtp.errors import Again, ZMQError
from zmtp.options import OptionValue
from zmtp.pipe import Pipe
from zmtp.sockets import SocketCore, create_socket_core


def make(kind: SocketType, **options: OptionValue) -> SocketCore:
    core = create_socket_core(kind)
    for name, value in options.items():
        core.set_option(SocketOption[name], value)
    return core


def connect(core: SocketCore, pipe: Pipe | None = None) -> Pipe:
    pipe = core.new_pipe() if pipe is None else pipe
    assert core.attach(pipe)
    return pipe


def subscriber(core: SocketCore, *topics: bytes, pipe: Pipe | None = None) -> Pipe:
    """Attach a peer to a PUB/XPUB and apply its SUBSCRIBEs."""
    pipe = connect(core, pipe)
    for topic in topics:
        core.subscription(pipe, topic, True)
    return pipe


def full_pipe() -> Pipe:
    pipe = Pipe(sndhwm=1)
    pipe.write([b"old"])
    return pipe


def drain(core: SocketCore) -> list[list[bytes]]:
    """Everything recv() returns until it would block."""
    received = []
    while True:
        try:
            received.append(core.recv())
        except Again:
            return received


def upstream(pipe: Pipe) -> list[object]:
    """Take what a SUB/XSUB queued for the publisher on ``pipe``."""
    items = list(pipe.outbound)
    pipe.outbound.clear()
    return items


def errno_of(call: Callable[..., object], *args: object) -> int | None:
    """The errno of the ZMQError that ``call(*args)`` raises."""
    with pytest.raises(ZMQError) as info:
        call(*args)
    return info.value.errno


# --- PUB ----------------------------------------------------------------------------------


def test_pub_sends_only_to_peers_with_a_matching_subscription() -> None:
    core = make(SocketType.PUB)
    news, weather = subscriber(core, b"news"), subscriber(core, b"weather")
    core.send([b"news.today", b"body"])
    assert list(news.outbound) == [[b"news.today", b"body"]]
    assert not weather.outbound


@pytest.mark.parametrize(
    ("first_frame", "delivered"), [(b"ab", True), (b"abc", True), (b"a", False), (b"xab", False)]
)
def test_pub_matches_a_subscription_as_a_binary_prefix_of_the_first_frame(
    first_frame: bytes, delivered: bool
) -> None:
    core = make(SocketType.PUB)
    peer = subscriber(core, b"ab")
    core.send([first_frame])
    assert bool(peer.outbound) is delivered


def test_pub_matches_only_the_first_frame() -> None:
    core = make(SocketType.PUB)
    peer = subscriber(core, b"topic")
    core.send([b"other", b"topic"])
    assert not peer.outbound


def test_pub_empty_subscription_receives_every_message() -> None:
    core = make(SocketType.PUB)
    peer = subscriber(core, b"")
    core.send([b""])
    core.send([b"\x00\xff anything"])
    assert len(peer.outbound) == 2


def test_pub_peer_without_subscriptions_receives_nothing() -> None:
    core = make(SocketType.PUB)
    peer = connect(core)
    core.send([b""])
    core.send([b"x"])
    assert not peer.outbound


def test_pub_sends_one_copy_to_a_peer_with_several_matching_subscriptions() -> None:
    core = make(SocketType.PUB)
    peer = subscriber(core, b"", b"a", b"ab")
    core.send([b"abc"])
    assert list(peer.outbound) == [[b"abc"]]


def test_pub_fans_out_one_message_to_every_matching_peer() -> None:
    core = make(SocketType.PUB)
    peers = [subscriber(core, b"t") for _ in range(3)]
    core.send([b"t", b"x"])
    assert [list(p.outbound) for p in peers] == [[[b"t", b"x"]]] * 3


def test_pub_cancel_ends_a_subscription() -> None:
    core = make(SocketType.PUB)
    peer = subscriber(core, b"a")
    core.subscription(peer, b"a", False)
    core.send([b"a"])
    assert not peer.outbound


def test_pub_subscriptions_are_additive() -> None:
    # RFC 23/37: subscribing to "A" and "" is the same as subscribing to "" alone.
    core = make(SocketType.PUB)
    peer = subscriber(core, b"A", b"")
    core.subscription(peer, b"A", False)
    core.send([b"B"])
    assert list(peer.outbound) == [[b"B"]]


def test_pub_cancel_of_a_topic_never_subscribed_changes_nothing() -> None:
    core = make(SocketType.PUB)
    peer = subscriber(core, b"a")
    core.subscription(peer, b"b", False)
    core.send([b"a"])
    assert list(peer.outbound) == [[b"a"]]


def test_pub_stops_sending_after_the_subscribe_subscribe_cancel_a_libzmq_sub_sends() -> None:
    # libzmq SUB: setsockopt(SUBSCRIBE, "A") twice, then UNSUBSCRIBE "A" twice, puts
    # SUBSCRIBE A, SUBSCRIBE A, CANCEL A on the wire (xsub.cpp: every subscribe goes upstream,
    # a cancel only when the local count reaches zero). A libzmq PUB then stops sending "A".
    core = make(SocketType.PUB)
    peer = subscriber(core, b"A", b"A")
    core.subscription(peer, b"A", False)
    core.send([b"A"])
    assert not peer.outbound


def test_pub_stops_sending_once_a_sub_unsubscribed_as_often_as_it_subscribed() -> None:
    pub, sub = make(SocketType.PUB), make(SocketType.SUB)
    pub_side, sub_side = connect(pub), connect(sub)
    sub.set_option(SocketOption.SUBSCRIBE, b"A")
    sub.set_option(SocketOption.SUBSCRIBE, b"A")
    sub.set_option(SocketOption.UNSUBSCRIBE, b"A")
    sub.set_option(SocketOption.UNSUBSCRIBE, b"A")
    for item in upstream(sub_side):
        assert isinstance(item, Subscribe | Cancel)
        pub.subscription(pub_side, item.topic, isinstance(item, Subscribe))
    pub.send([b"A"])
    assert not pub_side.outbound


def test_xpub_reports_the_cancel_once_a_sub_unsubscribed_as_often_as_it_subscribed() -> None:
    xpub, sub = make(SocketType.XPUB), make(SocketType.SUB)
    xpub_side, sub_side = connect(xpub), connect(sub)
    for option in ("SUBSCRIBE", "SUBSCRIBE", "UNSUBSCRIBE", "UNSUBSCRIBE"):
        sub.set_option(SocketOption[option], b"A")
    for item in upstream(sub_side):
        assert isinstance(item, Subscribe | Cancel)
        xpub.subscription(xpub_side, item.topic, isinstance(item, Subscribe))
    assert drain(xpub) == [[b"\x01A"], [b"\x00A"]]


def test_pub_drops_the_message_for_a_full_subscriber_and_delivers_to_the_rest() -> None:
    core = make(SocketType.PUB)
    full = subscriber(core, b"", pipe=full_pipe())
    ok = subscriber(core, b"")
    core.send([b"x"])  # no Again
    assert list(full.outbound) == [[b"old"]]
    assert list(ok.outbound) == [[b"x"]]


def test_pub_without_subscribers_drops_the_message_silently() -> None:
    make(SocketType.PUB).send([b"x"])


def test_pub_never_blocks() -> None:
    core = make(SocketType.PUB)
    assert core.writable()
    subscriber(core, b"", pipe=full_pipe())
    assert core.writable()
    core.send([b"x"])


def test_pub_cannot_receive() -> None:
    core = make(SocketType.PUB)
    subscriber(core, b"a")
    assert errno_of(core.recv) == Errno.ENOTSUP
    assert not core.readable()


def test_pub_has_its_driver_discard_what_subscribers_send() -> None:
    assert make(SocketType.PUB).receives is False
    assert make(SocketType.XPUB).receives is True


def test_pub_invert_matching_sends_to_peers_whose_subscriptions_do_not_match() -> None:
    core = make(SocketType.PUB, INVERT_MATCHING=1)
    a, b, none = subscriber(core, b"a"), subscriber(core, b"b"), connect(core)
    core.send([b"apple"])
    assert not a.outbound
    assert list(b.outbound) == [[b"apple"]]
    assert list(none.outbound) == [[b"apple"]]


def test_pub_drops_what_it_queued_for_a_departed_peer_from_its_fan_out() -> None:
    core = make(SocketType.PUB)
    gone, kept = subscriber(core, b""), subscriber(core, b"")
    core.detach(gone)
    core.send([b"x"])
    assert not gone.outbound
    assert list(kept.outbound) == [[b"x"]]


def test_xpub_nodrop_raises_again_when_a_matching_subscriber_is_full() -> None:
    core = make(SocketType.XPUB, XPUB_NODROP=1)
    full = subscriber(core, b"", pipe=full_pipe())
    ok = subscriber(core, b"")
    with pytest.raises(Again):
        core.send([b"x"])
    assert list(full.outbound) == [[b"old"]]
    assert not ok.outbound  # all or nothing: nobody got it


def test_xpub_nodrop_ignores_full_subscribers_that_do_not_match() -> None:
    core = make(SocketType.XPUB, XPUB_NODROP=1)
    subscriber(core, b"other", pipe=full_pipe())
    ok = subscriber(core, b"t")
    core.send([b"t"])
    assert list(ok.outbound) == [[b"t"]]


def test_xpub_nodrop_pollout_is_false_while_a_subscriber_is_full() -> None:
    # POLLOUT matches send for a subscriber that wants everything. libzmq 4.3 says POLLOUT
    # regardless (dist_t::has_out is always true; zeromq/libzmq#1597); zmtp checks every peer.
    core = make(SocketType.XPUB, XPUB_NODROP=1)
    subscriber(core, b"", pipe=full_pipe())
    assert not core.writable()


def test_xpub_sends_like_pub() -> None:
    core = make(SocketType.XPUB)
    hit, miss = subscriber(core, b"t"), subscriber(core, b"u")
    core.send([b"t1"])
    assert (list(hit.outbound), list(miss.outbound)) == ([[b"t1"]], [])


# --- XPUB: what the application sees -------------------------------------------------------


def test_xpub_reports_the_first_subscription_to_a_topic_as_0x01_topic() -> None:
    core = make(SocketType.XPUB)
    subscriber(core, b"news")
    assert drain(core) == [[b"\x01news"]]


def test_xpub_reports_a_subscription_to_everything_as_a_lone_0x01() -> None:
    core = make(SocketType.XPUB)
    subscriber(core, b"")
    assert drain(core) == [[b"\x01"]]


def test_xpub_does_not_report_further_subscriptions_to_a_wanted_topic() -> None:
    core = make(SocketType.XPUB)
    subscriber(core, b"news")
    drain(core)
    subscriber(core, b"news")
    assert drain(core) == []


def test_xpub_reports_the_last_cancel_of_a_topic_as_0x00_topic() -> None:
    core = make(SocketType.XPUB)
    a, b = subscriber(core, b"news"), subscriber(core, b"news")
    drain(core)
    core.subscription(a, b"news", False)
    assert drain(core) == []
    core.subscription(b, b"news", False)
    assert drain(core) == [[b"\x00news"]]


def test_xpub_verbose_reports_every_subscription() -> None:
    core = make(SocketType.XPUB, XPUB_VERBOSE=1)
    subscriber(core, b"news")
    subscriber(core, b"news")
    assert drain(core) == [[b"\x01news"], [b"\x01news"]]


def test_xpub_verbose_still_reports_only_the_last_cancel() -> None:
    core = make(SocketType.XPUB, XPUB_VERBOSE=1)
    a, b = subscriber(core, b"news"), subscriber(core, b"news")
    drain(core)
    core.subscription(a, b"news", False)
    core.subscription(b, b"news", False)
    assert drain(core) == [[b"\x00news"]]


def test_xpub_verboser_reports_every_subscription_and_every_cancel() -> None:
    core = make(SocketType.XPUB, XPUB_VERBOSER=1)
    a, b = subscriber(core, b"news"), subscriber(core, b"news")
    core.subscription(a, b"news", False)
    core.subscription(b, b"news", False)
    assert drain(core) == [[b"\x01news"], [b"\x01news"], [b"\x00news"], [b"\x00news"]]


def test_xpub_verbose_set_after_verboser_stops_reporting_every_cancel() -> None:
    core = make(SocketType.XPUB, XPUB_VERBOSER=1, XPUB_VERBOSE=1)
    leaving = subscriber(core, b"news")
    subscriber(core, b"news")  # still wants it
    drain(core)
    core.subscription(leaving, b"news", False)
    assert drain(core) == []


def test_xpub_reports_cancels_for_the_topics_a_departing_peer_leaves_unwanted() -> None:
    core = make(SocketType.XPUB)
    leaving = subscriber(core, b"shared", b"only-mine")
    subscriber(core, b"shared")
    drain(core)
    core.detach(leaving)
    assert drain(core) == [[b"\x00only-mine"]]


def test_xpub_verboser_reports_every_topic_of_a_departing_peer() -> None:
    core = make(SocketType.XPUB, XPUB_VERBOSER=1)
    leaving = subscriber(core, b"shared", b"only-mine")
    subscriber(core, b"shared")
    drain(core)
    core.detach(leaving)
    assert sorted(drain(core)) == [[b"\x00only-mine"], [b"\x00shared"]]


def test_xpub_welcome_msg_is_sent_to_each_new_peer() -> None:
    core = make(SocketType.XPUB, XPUB_WELCOME_MSG=b"hello")
    assert [list(connect(core).outbound) for _ in range(2)] == [[[b"hello"]], [[b"hello"]]]


def test_xpub_sends_nothing_on_attach_by_default() -> None:
    assert not connect(make(SocketType.XPUB)).outbound


def test_xpub_fair_queues_messages_its_subscribers_send_upstream() -> None:
    core = make(SocketType.XPUB)
    a, b = connect(core), connect(core)
    a.inbound.extend([[b"a1", b"more"], [b"a2"]])
    b.inbound.append([b"b1"])
    assert drain(core) == [[b"a1", b"more"], [b"b1"], [b"a2"]]


def test_xpub_recv_with_nothing_waiting_raises_again() -> None:
    core = make(SocketType.XPUB)
    connect(core)
    with pytest.raises(Again):
        core.recv()


def test_xpub_pollin_follows_pending_subscriptions_and_upstream_messages() -> None:
    core = make(SocketType.XPUB)
    peer = connect(core)
    assert not core.readable()
    core.subscription(peer, b"t", True)
    assert core.readable()
    drain(core)
    assert not core.readable()
    peer.inbound.append([b"up"])
    assert core.readable()


# --- SUB ----------------------------------------------------------------------------------


def test_sub_sends_a_subscription_to_every_publisher() -> None:
    core = make(SocketType.SUB)
    a, b = connect(core), connect(core)
    core.set_option(SocketOption.SUBSCRIBE, b"news")
    assert (upstream(a), upstream(b)) == ([Subscribe(b"news")], [Subscribe(b"news")])


def test_sub_replays_its_subscriptions_to_a_new_publisher() -> None:
    core = make(SocketType.SUB)
    core.set_option(SocketOption.SUBSCRIBE, b"a")
    core.set_option(SocketOption.SUBSCRIBE, b"b")
    assert Counter(upstream(connect(core))) == Counter([Subscribe(b"a"), Subscribe(b"b")])


def test_sub_replays_each_topic_once_however_often_it_subscribed() -> None:
    core = make(SocketType.SUB)
    core.set_option(SocketOption.SUBSCRIBE, b"a")
    core.set_option(SocketOption.SUBSCRIBE, b"a")
    assert upstream(connect(core)) == [Subscribe(b"a")]


def test_sub_does_not_replay_a_subscription_it_cancelled() -> None:
    core = make(SocketType.SUB)
    core.set_option(SocketOption.SUBSCRIBE, b"a")
    core.set_option(SocketOption.UNSUBSCRIBE, b"a")
    assert upstream(connect(core)) == []


def test_sub_needs_as_many_unsubscribes_as_subscribes_before_it_cancels() -> None:
    core = make(SocketType.SUB)
    peer = connect(core)
    core.set_option(SocketOption.SUBSCRIBE, b"a")
    core.set_option(SocketOption.SUBSCRIBE, b"a")
    upstream(peer)
    core.set_option(SocketOption.UNSUBSCRIBE, b"a")
    assert upstream(peer) == []
    core.set_option(SocketOption.UNSUBSCRIBE, b"a")
    assert upstream(peer) == [Cancel(b"a")]


def test_sub_unsubscribe_of_a_topic_never_subscribed_sends_nothing() -> None:
    core = make(SocketType.SUB)
    peer = connect(core)
    core.set_option(SocketOption.UNSUBSCRIBE, b"a")
    assert upstream(peer) == []


def test_sub_drops_a_subscription_for_a_full_publisher() -> None:
    core = make(SocketType.SUB)
    full, ok = connect(core, full_pipe()), connect(core)
    core.set_option(SocketOption.SUBSCRIBE, b"a")
    assert list(full.outbound) == [[b"old"]]
    assert upstream(ok) == [Subscribe(b"a")]


def test_sub_delivers_only_messages_matching_a_subscription() -> None:
    core = make(SocketType.SUB)
    peer = connect(core)
    core.set_option(SocketOption.SUBSCRIBE, b"a")
    peer.inbound.extend([[b"b1"], [b"a1", b"body"], [b"xa"], [b"a2"]])
    assert drain(core) == [[b"a1", b"body"], [b"a2"]]


def test_sub_without_subscriptions_delivers_nothing() -> None:
    core = make(SocketType.SUB)
    connect(core).inbound.extend([[b""], [b"x"]])
    assert drain(core) == []


def test_sub_empty_subscription_delivers_everything() -> None:
    core = make(SocketType.SUB)
    peer = connect(core)
    core.set_option(SocketOption.SUBSCRIBE, b"")
    peer.inbound.extend([[b""], [b"x"]])
    assert drain(core) == [[b""], [b"x"]]


def test_sub_stops_delivering_a_topic_once_unsubscribed() -> None:
    core = make(SocketType.SUB)
    peer = connect(core)
    core.set_option(SocketOption.SUBSCRIBE, b"a")
    core.set_option(SocketOption.UNSUBSCRIBE, b"a")
    peer.inbound.append([b"a"])
    assert drain(core) == []


def test_sub_invert_matching_delivers_only_messages_matching_no_subscription() -> None:
    core = make(SocketType.SUB, INVERT_MATCHING=1)
    peer = connect(core)
    core.set_option(SocketOption.SUBSCRIBE, b"a")
    peer.inbound.extend([[b"a1"], [b"b1"]])
    assert drain(core) == [[b"b1"]]


def test_sub_fair_queues_its_publishers() -> None:
    core = make(SocketType.SUB)
    a, b = connect(core), connect(core)
    core.set_option(SocketOption.SUBSCRIBE, b"")
    a.inbound.extend([[b"a1"], [b"a2"]])
    b.inbound.extend([[b"b1"], [b"b2"]])
    assert drain(core) == [[b"a1"], [b"b1"], [b"a2"], [b"b2"]]


def test_sub_cannot_send() -> None:
    core = make(SocketType.SUB)
    peer = connect(core)
    assert errno_of(core.send, [b"\x01a"]) == Errno.ENOTSUP
    assert not peer.outbound
    assert not core.writable()


def test_sub_pollin_ignores_messages_that_match_no_subscription() -> None:
    core = make(SocketType.SUB)
    peer = connect(core)
    core.set_option(SocketOption.SUBSCRIBE, b"a")
    peer.inbound.append([b"b"])
    assert not core.readable()
    peer.inbound.append([b"a"])
    assert core.readable()
    assert core.recv() == [b"a"]


# --- XSUB ---------------------------------------------------------------------------------


def test_xsub_sends_a_0x01_message_as_subscribe_to_every_publisher() -> None:
    core = make(SocketType.XSUB)
    a, b = connect(core), connect(core)
    core.send([b"\x01news"])
    assert (upstream(a), upstream(b)) == ([Subscribe(b"news")], [Subscribe(b"news")])


def test_xsub_forwards_every_subscribe_including_duplicates() -> None:
    # libzmq xsub.cpp: duplicates are filtered at the XPUB, so XPUB_VERBOSE still works
    # behind a proxy.
    core = make(SocketType.XSUB)
    peer = connect(core)
    core.send([b"\x01a"])
    core.send([b"\x01a"])
    assert upstream(peer) == [Subscribe(b"a"), Subscribe(b"a")]


def test_xsub_sends_a_0x00_message_as_cancel_when_its_last_subscription_goes() -> None:
    core = make(SocketType.XSUB)
    peer = connect(core)
    core.send([b"\x01a"])
    core.send([b"\x01a"])
    upstream(peer)
    core.send([b"\x00a"])
    assert upstream(peer) == []
    core.send([b"\x00a"])
    assert upstream(peer) == [Cancel(b"a")]


def test_xsub_sends_other_messages_upstream_to_every_publisher() -> None:
    core = make(SocketType.XSUB)
    a, b = connect(core), connect(core)
    core.send([b"hello", b"there"])
    core.send([b""])
    assert upstream(a) == upstream(b) == [[b"hello", b"there"], [b""]]


def test_xsub_replays_its_subscriptions_to_a_new_publisher() -> None:
    core = make(SocketType.XSUB)
    core.send([b"\x01a"])
    assert upstream(connect(core)) == [Subscribe(b"a")]


def test_xsub_delivers_every_message_without_local_filtering() -> None:
    core = make(SocketType.XSUB)
    peer = connect(core)
    core.send([b"\x01a"])
    peer.inbound.extend([[b"a1"], [b"b1"]])
    assert drain(core) == [[b"a1"], [b"b1"]]


def test_xsub_drops_for_a_full_publisher_and_never_blocks() -> None:
    core = make(SocketType.XSUB)
    full, ok = connect(core, full_pipe()), connect(core)
    assert core.writable()
    core.send([b"data"])
    assert list(full.outbound) == [[b"old"]]
    assert upstream(ok) == [[b"data"]]


def test_xsub_pollin_follows_whether_a_message_waits() -> None:
    core = make(SocketType.XSUB)
    peer = connect(core)
    assert not core.readable()
    peer.inbound.append([b"x"])
    assert core.readable()


@pytest.mark.parametrize("kind", [SocketType.SUB, SocketType.XSUB])
def test_subscriber_resends_its_whole_set_when_a_pipe_reconnects(kind: SocketType) -> None:
    # RFC 29 / libzmq "hiccup": a connecting pipe outlives its connection; the new
    # publisher behind it knows nothing of the subscriptions sent to the old one.
    core = make(kind)
    pipe = connect(core)
    for topic in (b"a", b"b", b"a"):
        if kind is SocketType.SUB:
            core.set_option(SocketOption.SUBSCRIBE, topic)
        else:
            core.send([b"\x01" + topic])
    upstream(pipe)  # sent over the first connection
    core.reconnected(pipe)
    assert Counter(item.topic for item in upstream(pipe) if isinstance(item, Subscribe)) == {
        b"a": 1,
        b"b": 1,
    }
