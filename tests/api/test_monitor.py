"""Socket monitor events in libzmq's format, checked against a libzmq peer where it matters."""

from collections.abc import Iterator

import pytest
import zmq
import zmq.utils.monitor

import zmtp
from zmtp.monitor import parse_monitor_message, recv_monitor_message

E = zmtp.Event


@pytest.fixture
def ctx() -> Iterator[zmtp.Context]:
    context = zmtp.Context()
    yield context
    context.destroy(linger=0)


@pytest.fixture
def zctx() -> Iterator[zmq.Context]:
    context = zmq.Context()
    yield context
    context.destroy(linger=0)


def _events_until(monitor: zmtp.Socket, last: int) -> list[dict]:
    """Read events (each wait bounded by RCVTIMEO) until ``last`` arrives."""
    seen = []
    while True:
        event = recv_monitor_message(monitor)
        seen.append(event)
        if event["event"] == last:
            return seen


def test_monitor_message_is_libzmqs_two_frame_format(ctx: zmtp.Context) -> None:
    sock = ctx.socket(zmtp.PULL)
    monitor = sock.get_monitor_socket()
    monitor.rcvtimeo = 5000
    sock.bind("tcp://127.0.0.1:*")
    frames = monitor.recv_multipart()
    assert len(frames) == 2 and len(frames[0]) == 6
    event = zmq.utils.monitor.parse_monitor_message(frames)  # pyzmq's own parser
    assert event["event"] == zmq.EVENT_LISTENING
    assert event["endpoint"] == sock.last_endpoint
    assert parse_monitor_message(frames)["event"] == E.LISTENING


def test_connect_side_reports_connected_then_handshake_succeeded(
    ctx: zmtp.Context, zctx: zmq.Context
) -> None:
    router = zctx.socket(zmq.ROUTER)
    port = router.bind_to_random_port("tcp://127.0.0.1")
    dealer = ctx.socket(zmtp.DEALER)
    monitor = dealer.get_monitor_socket()
    monitor.rcvtimeo = 5000
    dealer.connect(f"tcp://127.0.0.1:{port}")
    kinds = [e["event"] for e in _events_until(monitor, E.HANDSHAKE_SUCCEEDED)]
    assert kinds == [E.CONNECT_DELAYED, E.CONNECTED, E.HANDSHAKE_SUCCEEDED]


def test_bind_side_reports_accepted_handshake_and_disconnected(
    ctx: zmtp.Context, zctx: zmq.Context
) -> None:
    pull = ctx.socket(zmtp.PULL)
    monitor = pull.get_monitor_socket()
    monitor.rcvtimeo = 5000
    pull.bind("tcp://127.0.0.1:*")
    push = zctx.socket(zmq.PUSH)
    push.connect(pull.last_endpoint)
    push.send(b"x")
    pull.rcvtimeo = 5000
    assert pull.recv() == b"x"
    push.close(linger=0)
    kinds = [e["event"] for e in _events_until(monitor, E.DISCONNECTED)]
    assert kinds == [E.LISTENING, E.ACCEPTED, E.HANDSHAKE_SUCCEEDED, E.DISCONNECTED]


def test_incompatible_peer_reports_handshake_failed_protocol(
    ctx: zmtp.Context, zctx: zmq.Context
) -> None:
    pub = zctx.socket(zmq.PUB)
    port = pub.bind_to_random_port("tcp://127.0.0.1")
    push = ctx.socket(zmtp.PUSH)
    monitor = push.get_monitor_socket()
    monitor.rcvtimeo = 5000
    push.connect(f"tcp://127.0.0.1:{port}")
    seen = _events_until(monitor, E.DISCONNECTED)
    failures = [
        e for e in seen if e["event"] & (E.HANDSHAKE_FAILED_PROTOCOL | E.HANDSHAKE_FAILED_NO_DETAIL)
    ]
    assert failures, seen
    assert E.HANDSHAKE_SUCCEEDED not in [e["event"] for e in seen]


def test_disable_monitor_sends_monitor_stopped(ctx: zmtp.Context) -> None:
    sock = ctx.socket(zmtp.PAIR)
    monitor = sock.get_monitor_socket()
    monitor.rcvtimeo = 5000
    sock.disable_monitor()
    assert recv_monitor_message(monitor)["event"] == E.MONITOR_STOPPED


def test_event_mask_filters_events(ctx: zmtp.Context) -> None:
    sock = ctx.socket(zmtp.PULL)
    monitor = sock.get_monitor_socket(E.CLOSED)
    monitor.rcvtimeo = 5000
    sock.bind("tcp://127.0.0.1:*")
    endpoint = sock.last_endpoint
    sock.unbind(endpoint)
    event = recv_monitor_message(monitor)
    assert event["event"] == E.CLOSED and event["endpoint"] == endpoint


def test_bind_failure_reports_bind_failed(ctx: zmtp.Context) -> None:
    first = ctx.socket(zmtp.PULL)
    first.bind("tcp://127.0.0.1:*")
    second = ctx.socket(zmtp.PULL)
    monitor = second.get_monitor_socket()
    monitor.rcvtimeo = 5000
    with pytest.raises(zmtp.ZMQError) as raised:
        second.bind(first.last_endpoint)
    event = recv_monitor_message(monitor)
    assert event["event"] == E.BIND_FAILED
    assert event["value"] == raised.value.errno == zmtp.EADDRINUSE
