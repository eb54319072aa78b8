"""DEALER, REQ, REP and ROUTER (RFC 28, Request-Reply) as libzmq 4.3 implements them.

Notes section 4.2 and 4.3; libzmq's dealer.cpp, req.cpp, rep.cpp and router.cpp. A peer is a
Pipe: what it sends is appended to ``pipe.inbound``, what the socket sent it is in
``pipe.outbound``.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

import pytest

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


def connect(core: SocketCore, pipe: Pipe | None = None, *, routing_id: bytes = b"") -> Pipe:
    pipe = core.new_pipe() if pipe is None else pipe
    pipe.routing_id = routing_id
    assert core.attach(pipe)
    return pipe


def full_pipe() -> Pipe:
    pipe = Pipe(sndhwm=1)
    pipe.write([b"old"])
    return pipe


def errno_of(call: Callable[..., object], *args: object) -> int | None:
    """The errno of the ZMQError that ``call(*args)`` raises."""
    with pytest.raises(ZMQError) as info:
        call(*args)
    return info.value.errno


# --- DEALER -------------------------------------------------------------------------------


def test_dealer_round_robins_messages_over_its_peers() -> None:
    core = make(SocketType.DEALER)
    a, b = connect(core), connect(core)
    for n in range(4):
        core.send([str(n).encode()])
    assert (list(a.outbound), list(b.outbound)) == ([[b"0"], [b"2"]], [[b"1"], [b"3"]])


def test_dealer_fair_queues_what_its_peers_send() -> None:
    core = make(SocketType.DEALER)
    a, b = connect(core), connect(core)
    a.inbound.extend([[b"a1"], [b"a2"]])
    b.inbound.extend([[b"b1"], [b"b2"]])
    assert [core.recv() for _ in range(4)] == [[b"a1"], [b"b1"], [b"a2"], [b"b2"]]


def test_dealer_adds_and_removes_no_envelope() -> None:
    core = make(SocketType.DEALER)
    peer = connect(core)
    core.send([b"", b"x"])
    peer.inbound.append([b"id", b"", b"y"])
    assert list(peer.outbound) == [[b"", b"x"]]
    assert core.recv() == [b"id", b"", b"y"]


def test_dealer_skips_full_peers_and_raises_again_when_all_are_full() -> None:
    core = make(SocketType.DEALER)
    full = connect(core, full_pipe())
    other = connect(core, Pipe(sndhwm=1))
    core.send([b"1"])
    with pytest.raises(Again):
        core.send([b"2"])
    assert (list(full.outbound), list(other.outbound)) == ([[b"old"]], [[b"1"]])


def test_dealer_probe_router_sends_an_empty_message_to_each_new_peer() -> None:
    core = make(SocketType.DEALER, PROBE_ROUTER=1)
    assert list(connect(core).outbound) == [[b""]]


def test_dealer_sends_nothing_on_attach_by_default() -> None:
    assert not connect(make(SocketType.DEALER)).outbound


def test_dealer_poll_flags_follow_room_and_waiting_messages() -> None:
    core = make(SocketType.DEALER)
    peer = connect(core, Pipe(sndhwm=1))
    assert (core.readable(), core.writable()) == (False, True)
    core.send([b"x"])
    peer.inbound.append([b"y"])
    assert (core.readable(), core.writable()) == (True, False)


# --- REQ ----------------------------------------------------------------------------------


def test_req_prefixes_each_request_with_an_empty_delimiter() -> None:
    core = make(SocketType.REQ)
    peer = connect(core)
    core.send([b"hello", b"world"])
    assert list(peer.outbound) == [[b"", b"hello", b"world"]]


def test_req_returns_the_reply_body_without_the_delimiter() -> None:
    core = make(SocketType.REQ)
    peer = connect(core)
    core.send([b"q"])
    peer.inbound.append([b"", b"a", b"b"])
    assert core.recv() == [b"a", b"b"]


def test_req_round_robins_successive_requests_over_its_peers() -> None:
    core = make(SocketType.REQ)
    a, b = connect(core), connect(core)
    core.send([b"1"])
    a.inbound.append([b"", b"r1"])
    core.recv()
    core.send([b"2"])
    assert (list(a.outbound), list(b.outbound)) == ([[b"", b"1"]], [[b"", b"2"]])


def test_req_second_send_before_the_reply_is_efsm() -> None:
    core = make(SocketType.REQ)
    peer = connect(core)
    core.send([b"1"])
    assert errno_of(core.send, [b"2"]) == Errno.EFSM
    assert list(peer.outbound) == [[b"", b"1"]]


def test_req_recv_before_any_request_is_efsm() -> None:
    core = make(SocketType.REQ)
    connect(core).inbound.append([b"", b"unasked"])
    assert errno_of(core.recv) == Errno.EFSM


def test_req_recv_after_the_reply_is_efsm_until_the_next_request() -> None:
    core = make(SocketType.REQ)
    peer = connect(core)
    core.send([b"1"])
    peer.inbound.extend([[b"", b"r1"], [b"", b"extra"]])
    core.recv()
    assert errno_of(core.recv) == Errno.EFSM


def test_req_may_send_again_once_the_reply_is_received() -> None:
    core = make(SocketType.REQ)
    peer = connect(core)
    core.send([b"1"])
    peer.inbound.append([b"", b"r1"])
    core.recv()
    core.send([b"2"])
    assert list(peer.outbound)[-1] == [b"", b"2"]


def test_req_accepts_a_reply_only_from_the_peer_it_asked() -> None:
    core = make(SocketType.REQ)
    asked, other = connect(core), connect(core)
    core.send([b"q"])
    assert asked.outbound
    other.inbound.append([b"", b"not yours"])
    with pytest.raises(Again):
        core.recv()
    asked.inbound.append([b"", b"yours"])
    assert core.recv() == [b"yours"]


def test_req_drops_a_reply_without_an_empty_delimiter() -> None:
    core = make(SocketType.REQ)
    peer = connect(core)
    core.send([b"q"])
    peer.inbound.extend([[b"no delimiter"], [b"x", b"", b"still wrong"], [b"", b"good"]])
    assert core.recv() == [b"good"]


def test_req_drops_a_reply_that_is_only_a_delimiter() -> None:
    core = make(SocketType.REQ)
    peer = connect(core)
    core.send([b"q"])
    peer.inbound.extend([[b""], [b"", b"good"]])
    assert core.recv() == [b"good"]


def test_req_without_peers_raises_again_and_stays_ready_to_send() -> None:
    core = make(SocketType.REQ)
    with pytest.raises(Again):
        core.send([b"q"])
    peer = connect(core)
    core.send([b"q"])
    assert list(peer.outbound) == [[b"", b"q"]]


def test_req_send_raises_again_when_every_peer_is_full() -> None:
    core = make(SocketType.REQ)
    connect(core, full_pipe())
    with pytest.raises(Again):
        core.send([b"q"])


def test_req_probe_router_sends_an_empty_message_to_each_new_peer() -> None:
    core = make(SocketType.REQ, PROBE_ROUTER=1)
    assert list(connect(core).outbound) == [[b""]]


def test_req_discards_replies_queued_before_a_new_request() -> None:
    # libzmq req_t::xsend drains every inbound message before the request goes out, so an
    # answer that arrived earlier (a duplicate, or a peer replying twice) is never taken for
    # the reply to the new request.
    core = make(SocketType.REQ)
    peer = connect(core)
    core.send([b"1"])
    peer.inbound.extend([[b"", b"r1"], [b"", b"r1 again"]])
    assert core.recv() == [b"r1"]
    core.send([b"2"])
    with pytest.raises(Again):
        core.recv()


def test_req_relaxed_allows_a_new_request_before_the_reply() -> None:
    core = make(SocketType.REQ, REQ_RELAXED=1)
    peer = connect(core)
    core.send([b"1"])
    core.send([b"2"])
    assert list(peer.outbound) == [[b"", b"1"], [b"", b"2"]]


def test_req_relaxed_discards_the_reply_to_the_earlier_request() -> None:
    core = make(SocketType.REQ, REQ_RELAXED=1)
    peer = connect(core)
    core.send([b"1"])
    peer.inbound.append([b"", b"reply to 1"])
    core.send([b"2"])
    peer.inbound.append([b"", b"reply to 2"])
    assert core.recv() == [b"reply to 2"]


def test_req_relaxed_ignores_a_late_reply_from_the_previously_asked_peer() -> None:
    core = make(SocketType.REQ, REQ_RELAXED=1)
    first, second = connect(core), connect(core)
    core.send([b"1"])
    core.send([b"2"])
    assert second.outbound
    first.inbound.append([b"", b"late reply to 1"])
    with pytest.raises(Again):
        core.recv()
    second.inbound.append([b"", b"reply to 2"])
    assert core.recv() == [b"reply to 2"]


def test_req_correlate_prefixes_a_4_byte_request_id_before_the_delimiter() -> None:
    core = make(SocketType.REQ, REQ_CORRELATE=1)
    peer = connect(core)
    core.send([b"q"])
    [request] = peer.outbound
    assert isinstance(request, list)
    assert len(request[0]) == 4
    assert request[1:] == [b"", b"q"]


def test_req_correlate_ids_grow_by_one_per_request_in_host_byte_order() -> None:
    core = make(SocketType.REQ, REQ_CORRELATE=1, REQ_RELAXED=1)
    peer = connect(core)
    core.send([b"1"])
    core.send([b"2"])
    ids = [
        struct.unpack("=I", message[0])[0] for message in peer.outbound if isinstance(message, list)
    ]
    assert ids[1] == (ids[0] + 1) % 2**32


def test_req_correlate_accepts_the_reply_carrying_the_current_id() -> None:
    core = make(SocketType.REQ, REQ_CORRELATE=1)
    peer = connect(core)
    core.send([b"q"])
    request_id = peer.outbound[0][0]
    assert isinstance(request_id, bytes)
    peer.inbound.append([request_id, b"", b"answer"])
    assert core.recv() == [b"answer"]


def test_req_correlate_drops_a_reply_to_an_earlier_request() -> None:
    core = make(SocketType.REQ, REQ_CORRELATE=1, REQ_RELAXED=1)
    peer = connect(core)
    core.send([b"1"])
    core.send([b"2"])
    old_id, new_id = (m[0] for m in peer.outbound if isinstance(m, list))
    peer.inbound.extend([[old_id, b"", b"stale"], [new_id, b"", b"fresh"]])
    assert core.recv() == [b"fresh"]


def test_req_correlate_drops_a_reply_without_the_request_id() -> None:
    core = make(SocketType.REQ, REQ_CORRELATE=1)
    peer = connect(core)
    core.send([b"q"])
    request_id = peer.outbound[0][0]
    assert isinstance(request_id, bytes)
    peer.inbound.extend([[b"", b"uncorrelated"], [request_id, b"", b"ok"]])
    assert core.recv() == [b"ok"]


def test_req_pollout_is_false_while_a_reply_is_awaited() -> None:
    core = make(SocketType.REQ)
    peer = connect(core)
    assert core.writable()
    core.send([b"q"])
    assert not core.writable()
    peer.inbound.append([b"", b"r"])
    core.recv()
    assert core.writable()


def test_req_relaxed_pollout_stays_true_while_a_reply_is_awaited() -> None:
    core = make(SocketType.REQ, REQ_RELAXED=1)
    connect(core)
    core.send([b"q"])
    assert core.writable()


def test_req_pollin_is_false_before_a_request_even_if_a_message_waits() -> None:
    core = make(SocketType.REQ)
    peer = connect(core)
    peer.inbound.append([b"", b"unasked"])
    assert not core.readable()


def test_req_pollin_is_true_when_the_reply_waits() -> None:
    core = make(SocketType.REQ)
    peer = connect(core)
    core.send([b"q"])
    assert not core.readable()
    peer.inbound.append([b"", b"r"])
    assert core.readable()


# --- REP ----------------------------------------------------------------------------------


def test_rep_strips_everything_up_to_and_including_the_first_empty_frame() -> None:
    core = make(SocketType.REP)
    connect(core).inbound.append([b"hop2", b"hop1", b"", b"body", b"more"])
    assert core.recv() == [b"body", b"more"]


def test_rep_keeps_later_empty_frames_in_the_body() -> None:
    core = make(SocketType.REP)
    connect(core).inbound.append([b"hop", b"", b"", b"body"])
    assert core.recv() == [b"", b"body"]


def test_rep_replies_with_the_requests_envelope() -> None:
    core = make(SocketType.REP)
    peer = connect(core)
    peer.inbound.append([b"hop2", b"hop1", b"", b"q"])
    core.recv()
    core.send([b"r1", b"r2"])
    assert list(peer.outbound) == [[b"hop2", b"hop1", b"", b"r1", b"r2"]]


def test_rep_replies_to_the_peer_that_sent_the_request() -> None:
    core = make(SocketType.REP)
    a, b = connect(core), connect(core)
    a.inbound.append([b"", b"from a"])
    b.inbound.append([b"", b"from b"])
    for _ in range(2):
        request = core.recv()
        core.send([b"re: " + request[0]])
    assert list(a.outbound) == [[b"", b"re: from a"]]
    assert list(b.outbound) == [[b"", b"re: from b"]]


def test_rep_fair_queues_requests_from_its_peers() -> None:
    core = make(SocketType.REP)
    a, b = connect(core), connect(core)
    a.inbound.extend([[b"", b"a1"], [b"", b"a2"]])
    b.inbound.extend([[b"", b"b1"]])
    received = []
    for _ in range(3):
        received.append(core.recv()[0])
        core.send([b"ok"])
    assert received == [b"a1", b"b1", b"a2"]


def test_rep_drops_a_request_without_an_empty_delimiter() -> None:
    core = make(SocketType.REP)
    peer = connect(core)
    peer.inbound.extend([[b"no", b"delimiter"], [b"env", b"", b"good"]])
    assert core.recv() == [b"good"]
    core.send([b"r"])
    assert list(peer.outbound) == [[b"env", b"", b"r"]]


def test_rep_drops_a_request_that_ends_at_its_delimiter() -> None:
    core = make(SocketType.REP)
    peer = connect(core)
    peer.inbound.extend([[b"env", b""], [b"", b"good"]])
    assert core.recv() == [b"good"]


def test_rep_second_recv_before_the_reply_is_efsm() -> None:
    core = make(SocketType.REP)
    connect(core).inbound.extend([[b"", b"1"], [b"", b"2"]])
    core.recv()
    assert errno_of(core.recv) == Errno.EFSM


def test_rep_send_before_any_request_is_efsm() -> None:
    core = make(SocketType.REP)
    peer = connect(core)
    assert errno_of(core.send, [b"r"]) == Errno.EFSM
    assert not peer.outbound


def test_rep_send_twice_for_one_request_is_efsm() -> None:
    core = make(SocketType.REP)
    connect(core).inbound.append([b"", b"q"])
    core.recv()
    core.send([b"r"])
    assert errno_of(core.send, [b"r again"]) == Errno.EFSM


def test_rep_reply_to_a_departed_peer_is_silently_dropped() -> None:
    core = make(SocketType.REP)
    gone, other = connect(core), connect(core)
    gone.inbound.append([b"", b"q"])
    core.recv()
    core.detach(gone)
    core.send([b"r"])  # no error
    assert not gone.outbound
    assert not other.outbound


def test_rep_takes_the_next_request_after_a_dropped_reply() -> None:
    core = make(SocketType.REP)
    gone, other = connect(core), connect(core)
    gone.inbound.append([b"", b"q"])
    core.recv()
    core.detach(gone)
    core.send([b"r"])
    other.inbound.append([b"", b"next"])
    assert core.recv() == [b"next"]


def test_rep_reply_to_a_full_peer_is_dropped_without_blocking() -> None:
    core = make(SocketType.REP)
    peer = connect(core, full_pipe())
    peer.inbound.append([b"", b"q"])
    core.recv()
    core.send([b"r"])  # no Again
    assert list(peer.outbound) == [[b"old"]]


def test_rep_pollin_is_false_while_a_reply_is_owed() -> None:
    core = make(SocketType.REP)
    peer = connect(core)
    peer.inbound.extend([[b"", b"1"], [b"", b"2"]])
    assert core.readable()
    core.recv()
    assert not core.readable()
    core.send([b"r"])
    assert core.readable()


def test_rep_pollout_is_true_only_while_a_reply_is_owed() -> None:
    core = make(SocketType.REP)
    connect(core).inbound.append([b"", b"q"])
    assert not core.writable()
    core.recv()
    assert core.writable()
    core.send([b"r"])
    assert not core.writable()


# --- ROUTER -------------------------------------------------------------------------------


def test_router_prefixes_a_received_message_with_the_peers_identity() -> None:
    core = make(SocketType.ROUTER)
    connect(core, routing_id=b"alice").inbound.append([b"", b"hi"])
    assert core.recv() == [b"alice", b"", b"hi"]


def test_router_gives_a_peer_without_identity_a_5_byte_id_starting_with_zero() -> None:
    core = make(SocketType.ROUTER)
    peer = connect(core)
    peer.inbound.append([b"hi"])
    routing_id = core.recv()[0]
    assert len(routing_id) == 5
    assert routing_id[0] == 0
    assert routing_id == peer.routing_id


def test_router_auto_ids_count_up_by_one_as_big_endian_u32() -> None:
    core = make(SocketType.ROUTER)
    first, second = connect(core), connect(core)
    a = int.from_bytes(first.routing_id[1:], "big")
    b = int.from_bytes(second.routing_id[1:], "big")
    assert b == (a + 1) % 2**32


def test_router_auto_ids_start_at_a_random_value() -> None:
    starts = {connect(make(SocketType.ROUTER)).routing_id for _ in range(8)}
    assert len(starts) > 1


def test_router_auto_ids_are_distinct() -> None:
    core = make(SocketType.ROUTER)
    ids = [connect(core).routing_id for _ in range(100)]
    assert len(set(ids)) == 100


def test_router_fair_queues_what_its_peers_send() -> None:
    core = make(SocketType.ROUTER)
    a, b = connect(core, routing_id=b"A"), connect(core, routing_id=b"B")
    a.inbound.extend([[b"1"], [b"2"]])
    b.inbound.extend([[b"3"]])
    assert [core.recv() for _ in range(3)] == [[b"A", b"1"], [b"B", b"3"], [b"A", b"2"]]


def test_router_routes_by_the_first_frame_and_strips_it() -> None:
    core = make(SocketType.ROUTER)
    a, b = connect(core, routing_id=b"A"), connect(core, routing_id=b"B")
    core.send([b"B", b"", b"for b"])
    assert not a.outbound
    assert list(b.outbound) == [[b"", b"for b"]]


def test_router_routes_to_auto_ids_it_reported() -> None:
    core = make(SocketType.ROUTER)
    peer = connect(core)
    peer.inbound.append([b"ping"])
    routing_id = core.recv()[0]
    core.send([routing_id, b"pong"])
    assert list(peer.outbound) == [[b"pong"]]


def test_router_silently_drops_a_message_for_an_unknown_peer() -> None:
    core = make(SocketType.ROUTER)
    peer = connect(core, routing_id=b"A")
    core.send([b"nobody", b"x"])
    assert not peer.outbound


def test_router_silently_drops_a_message_for_a_full_peer() -> None:
    core = make(SocketType.ROUTER)
    peer = connect(core, full_pipe(), routing_id=b"A")
    core.send([b"A", b"x"])
    assert list(peer.outbound) == [[b"old"]]


def test_router_ignores_a_message_that_is_only_a_routing_id() -> None:
    core = make(SocketType.ROUTER, ROUTER_MANDATORY=1)
    peer = connect(core, routing_id=b"A")
    core.send([b"A"])
    core.send([b"nobody"])  # not EHOSTUNREACH either: libzmq never looks it up
    assert not peer.outbound


def test_router_mandatory_unknown_peer_is_ehostunreach() -> None:
    core = make(SocketType.ROUTER, ROUTER_MANDATORY=1)
    connect(core, routing_id=b"A")
    assert errno_of(core.send, [b"nobody", b"x"]) == Errno.EHOSTUNREACH


def test_router_mandatory_full_peer_raises_again() -> None:
    core = make(SocketType.ROUTER, ROUTER_MANDATORY=1)
    peer = connect(core, full_pipe(), routing_id=b"A")
    with pytest.raises(Again):
        core.send([b"A", b"x"])
    assert list(peer.outbound) == [[b"old"]]


def test_router_forgets_the_id_of_a_departed_peer() -> None:
    core = make(SocketType.ROUTER, ROUTER_MANDATORY=1)
    peer = connect(core, routing_id=b"A")
    core.detach(peer)
    assert errno_of(core.send, [b"A", b"x"]) == Errno.EHOSTUNREACH


def test_router_lets_a_new_peer_reuse_the_id_of_a_departed_one() -> None:
    core = make(SocketType.ROUTER)
    core.detach(connect(core, routing_id=b"A"))
    again = connect(core, routing_id=b"A")
    core.send([b"A", b"x"])
    assert list(again.outbound) == [[b"x"]]


def test_router_keeps_routing_to_the_first_peer_of_a_duplicate_identity() -> None:
    core = make(SocketType.ROUTER)
    first = connect(core, routing_id=b"A")
    duplicate = core.new_pipe()
    duplicate.routing_id = b"A"
    core.attach(duplicate)
    core.send([b"A", b"x"])
    assert list(first.outbound) == [[b"x"]]
    assert not duplicate.outbound


def test_router_does_not_read_from_a_peer_with_a_duplicate_identity() -> None:
    core = make(SocketType.ROUTER)
    connect(core, routing_id=b"A")
    duplicate = core.new_pipe()
    duplicate.routing_id = b"A"
    core.attach(duplicate)
    duplicate.inbound.append([b"impostor"])
    assert not core.readable()
    with pytest.raises(Again):
        core.recv()


def test_router_handover_routes_the_identity_to_the_new_peer() -> None:
    core = make(SocketType.ROUTER, ROUTER_HANDOVER=1)
    old = connect(core, routing_id=b"A")
    new = connect(core, routing_id=b"A")
    core.send([b"A", b"x"])
    assert not old.outbound
    assert list(new.outbound) == [[b"x"]]


def test_router_handover_terminates_the_old_peer() -> None:
    core = make(SocketType.ROUTER, ROUTER_HANDOVER=1)
    old = connect(core, routing_id=b"A")
    terminated: list[Pipe] = []
    old.on_terminate = terminated.append
    connect(core, routing_id=b"A")
    assert terminated == [old]
    assert old not in core.pipes


def test_router_handover_reads_from_the_new_peer_under_the_identity() -> None:
    core = make(SocketType.ROUTER, ROUTER_HANDOVER=1)
    connect(core, routing_id=b"A")
    new = connect(core, routing_id=b"A")
    new.inbound.append([b"hello"])
    assert core.recv() == [b"A", b"hello"]


def test_router_probe_router_sends_an_empty_message_to_each_new_peer() -> None:
    core = make(SocketType.ROUTER, PROBE_ROUTER=1)
    assert list(connect(core).outbound) == [[b""]]


def test_router_is_always_writable_without_router_mandatory() -> None:
    core = make(SocketType.ROUTER)
    assert core.writable()
    connect(core, full_pipe())
    assert core.writable()


def test_router_mandatory_pollout_is_false_when_every_peer_is_full() -> None:
    core = make(SocketType.ROUTER, ROUTER_MANDATORY=1)
    connect(core, full_pipe(), routing_id=b"A")
    assert not core.writable()
    connect(core, routing_id=b"B")
    assert core.writable()


def test_router_pollin_follows_whether_a_message_waits() -> None:
    core = make(SocketType.ROUTER)
    peer = connect(core)
    assert not core.readable()
    peer.inbound.append([b"x"])
    assert core.readable()
    core.recv()
    assert not core.readable()
