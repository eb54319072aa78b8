"""``zmtp.devices``: pyzmq's background proxies and its monitored queue.

A device is built from socket types, configured in advance, and runs until its context is
terminated (ETERM, silenced) or, when steerable, until TERMINATE. The monitored queue copies
each message to its monitor behind the prefix of the side it came from, and swaps the first
two frames between two ROUTERs.
"""

from __future__ import annotations

import multiprocessing
import struct
from collections.abc import Callable, Iterator

import pytest

import zmtp
from tests.api.api_support import WAIT, Worker, socket_maker
from zmtp.devices import (
    Device,
    ProcessDevice,
    ProcessProxySteerable,
    ProxySteerable,
    ThreadDevice,
    ThreadMonitoredQueue,
    ThreadProxy,
    ThreadProxySteerable,
    monitored_queue,
)

Make = Callable[..., zmtp.Socket]
LOCAL = "tcp://127.0.0.1"


@pytest.fixture
def ctx() -> Iterator[zmtp.Context]:
    context = zmtp.Context()
    yield context
    context.destroy(linger=0)


@pytest.fixture
def make(ctx: zmtp.Context) -> Make:
    return socket_maker(ctx, zmtp.Socket)


def on(device: Device, ctx: zmtp.Context) -> None:
    """Make ``device`` build its sockets in ``ctx`` (an instance attribute is not bound)."""
    device.context_factory = lambda: ctx


def stop(device: Device, ctx: zmtp.Context, *mine: zmtp.Socket) -> None:
    """Close the test's sockets, terminate the context and check the device stopped quietly."""
    for sock in mine:
        sock.close(linger=0)
    terminating = Worker(ctx.term)
    device.join(WAIT / 1000)
    assert device.done
    terminating.result()


def test_thread_device_with_one_socket_answers_each_request_with_itself(
    ctx: zmtp.Context, make: Make
) -> None:
    device = ThreadDevice(zmtp.QUEUE, zmtp.REP, -1)
    on(device, ctx)
    port = device.bind_in_to_random_port(LOCAL)
    device.setsockopt_out(zmtp.LINGER, 0)  # applies to the one socket too
    device.start()
    req = make(zmtp.REQ)
    req.connect(f"{LOCAL}:{port}")
    req.send(b"echo")
    assert req.recv() == b"echo"
    stop(device, ctx, req)


def test_device_started_in_the_caller_runs_until_its_context_ends(
    ctx: zmtp.Context, make: Make
) -> None:
    device = Device(zmtp.QUEUE, zmtp.PULL, zmtp.PUSH)
    on(device, ctx)
    device.bind_in("inproc://device-in")
    device.bind_out("inproc://device-out")
    running = Worker(device.start)
    push, pull = make(zmtp.PUSH), make(zmtp.PULL)
    push.connect("inproc://device-in")
    pull.connect("inproc://device-out")
    push.send_multipart([b"two", b"frames"])
    assert pull.recv_multipart() == [b"two", b"frames"]
    assert not device.done
    stop(device, ctx, push, pull)
    running.result()


def test_proxy_device_copies_to_its_capture_socket(ctx: zmtp.Context, make: Make) -> None:
    device = ThreadProxy(zmtp.PULL, zmtp.PUSH, zmtp.PUSH)
    on(device, ctx)
    device.bind_in("inproc://proxy-in")
    device.bind_out("inproc://proxy-out")
    device.bind_mon("inproc://proxy-mon")
    device.start()
    push, pull, capture = make(zmtp.PUSH), make(zmtp.PULL), make(zmtp.PULL)
    push.connect("inproc://proxy-in")
    pull.connect("inproc://proxy-out")
    capture.connect("inproc://proxy-mon")
    push.send(b"hello")
    assert pull.recv() == b"hello"
    assert capture.recv() == b"hello"
    stop(device, ctx, push, pull, capture)
    with pytest.raises(RuntimeError, match="only once"):
        device.start()


def test_steerable_device_stops_at_terminate_and_reports_statistics(
    ctx: zmtp.Context, make: Make
) -> None:
    device = ThreadProxySteerable(zmtp.PULL, zmtp.PUSH, zmtp.PUSH, zmtp.PAIR)
    on(device, ctx)
    for end in ("in", "out", "mon", "ctrl"):
        getattr(device, f"bind_{end}")(f"inproc://steer-{end}")
    device.start()
    push, pull, capture, control = (
        make(zmtp.PUSH),
        make(zmtp.PULL),
        make(zmtp.PULL),
        make(zmtp.PAIR),
    )
    for sock, end in ((push, "in"), (pull, "out"), (capture, "mon"), (control, "ctrl")):
        sock.connect(f"inproc://steer-{end}")
    push.send(b"hello")
    assert pull.recv() == b"hello"
    assert capture.recv() == b"hello"
    control.send(b"STATISTICS")
    counters = [struct.unpack("=Q", frame)[0] for frame in control.recv_multipart()]
    assert counters == [1, 5, 0, 0, 0, 0, 1, 5]
    control.send(b"TERMINATE")
    device.join(WAIT / 1000)
    assert device.done


def test_steerable_device_needs_a_control_socket_type() -> None:
    with pytest.raises(TypeError, match="ctrl_type"):
        ProxySteerable(zmtp.PULL, zmtp.PUSH, zmtp.PUB)


def test_device_needs_both_socket_types() -> None:
    with pytest.raises(TypeError, match="out_type"):
        Device(zmtp.QUEUE, zmtp.PULL)


def test_random_ports_of_one_device_are_distinct_until_the_range_runs_out() -> None:
    device = ThreadProxySteerable(zmtp.PULL, zmtp.PUSH, zmtp.PUSH, zmtp.PAIR)
    ports = {
        device.bind_in_to_random_port(LOCAL),
        device.bind_out_to_random_port(LOCAL),
        device.bind_mon_to_random_port(LOCAL),
    }
    assert len(ports) == 3
    # A one-port range: the port the system just handed out (so free), then nothing left.
    probe = zmtp.Context()
    try:
        free = probe.socket(zmtp.PUSH).bind_to_random_port(LOCAL)
    finally:
        probe.destroy(linger=0)
    assert device.bind_ctrl_to_random_port(LOCAL, min_port=free, max_port=free + 1) == free
    with pytest.raises(zmtp.ZMQBindError):
        device.bind_in_to_random_port(LOCAL, min_port=free, max_port=free + 1)


def test_monitored_queue_device_prefixes_each_direction(ctx: zmtp.Context, make: Make) -> None:
    device = ThreadMonitoredQueue(zmtp.PAIR, zmtp.PAIR, zmtp.PUSH, b"alice", b"bob")
    on(device, ctx)
    device.bind_in("inproc://mq-in")
    device.bind_out("inproc://mq-out")
    device.bind_mon("inproc://mq-mon")
    device.start()
    alice, bob, monitor = make(zmtp.PAIR), make(zmtp.PAIR), make(zmtp.PULL)
    alice.connect("inproc://mq-in")
    bob.connect("inproc://mq-out")
    monitor.connect("inproc://mq-mon")
    alice.send_multipart([b"hello", b"bob"])
    assert bob.recv_multipart() == [b"hello", b"bob"]
    bob.send_multipart([b"hello", b"alice"])
    assert alice.recv_multipart() == [b"hello", b"alice"]
    assert monitor.recv_multipart() == [b"alice", b"hello", b"bob"]
    assert monitor.recv_multipart() == [b"bob", b"hello", b"alice"]
    stop(device, ctx, alice, bob, monitor)


def test_monitored_queue_swaps_identities_between_two_routers(
    ctx: zmtp.Context, make: Make
) -> None:
    ins, outs, mons = make(zmtp.ROUTER), make(zmtp.ROUTER), make(zmtp.PUSH)
    ins.bind(f"{LOCAL}:*")
    outs.bind(f"{LOCAL}:*")
    mons.bind("inproc://mq-routers")
    a, b = make(zmtp.DEALER, routing_id=b"a"), make(zmtp.DEALER, routing_id=b"b")
    monitor = make(zmtp.PULL)
    a.connect(ins.last_endpoint)
    b.connect(outs.last_endpoint)
    monitor.connect("inproc://mq-routers")

    def queue() -> None:
        try:
            monitored_queue(ins, outs, mons)
        finally:
            for sock in (ins, outs, mons):
                sock.close(linger=0)

    running = Worker(queue)
    # A message from a peer reaches its ROUTER only after that peer's identity is known
    # there, so once the monitor has seen one from each, both can be addressed.
    a.send_multipart([b"nobody", b"probe"])
    b.send_multipart([b"nobody", b"probe"])
    assert sorted(monitor.recv_multipart() for _ in range(2)) == [
        [b"in", b"nobody", b"a", b"probe"],
        [b"out", b"nobody", b"b", b"probe"],
    ]
    a.send_multipart([b"b", b"hello"])
    assert b.recv_multipart() == [b"a", b"hello"]
    b.send_multipart([b"a", b"hi"])
    assert a.recv_multipart() == [b"b", b"hi"]
    assert monitor.recv_multipart() == [b"in", b"b", b"a", b"hello"]
    assert monitor.recv_multipart() == [b"out", b"a", b"b", b"hi"]
    for sock in (a, b, monitor):
        sock.close(linger=0)
    Worker(ctx.term).result()
    with pytest.raises(zmtp.ContextTerminated):
        running.result()


@pytest.mark.parametrize("prefix", ["in", 3])
def test_monitored_queue_refuses_prefixes_that_are_not_bytes(
    ctx: zmtp.Context, make: Make, prefix: object
) -> None:
    sockets = make(zmtp.ROUTER), make(zmtp.DEALER), make(zmtp.PUB)
    with pytest.raises(TypeError, match="in_prefix must be bytes"):
        monitored_queue(*sockets, prefix)
    with pytest.raises(TypeError, match="out_prefix must be bytes"):
        ThreadMonitoredQueue(zmtp.ROUTER, zmtp.DEALER, zmtp.PUB, b"in", prefix)


def test_monitored_queue_refuses_what_is_not_a_socket(make: Make) -> None:
    with pytest.raises(TypeError, match="in_socket must be a zmtp Socket, not str"):
        monitored_queue("in", "out", make(zmtp.PUB))


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_process_device_runs_in_its_own_process_under_each_start_method(
    method: str, make: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The device travels to its process pickled (spawn, forkserver) or copied (fork), with a
    # context of its own there; TERMINATE ends it and the process exits cleanly.
    monkeypatch.setattr(ProcessDevice, "_launch_class", multiprocessing.get_context(method).Process)
    device = ProcessProxySteerable(zmtp.PULL, zmtp.PUSH, zmtp.PUSH, zmtp.PAIR)
    ports = [
        device.bind_in_to_random_port(LOCAL),
        device.bind_out_to_random_port(LOCAL),
        device.bind_mon_to_random_port(LOCAL),
        device.bind_ctrl_to_random_port(LOCAL),
    ]
    device.start()
    push, pull, capture, control = (
        make(zmtp.PUSH),
        make(zmtp.PULL),
        make(zmtp.PULL),
        make(zmtp.PAIR),
    )
    for sock, port in zip((push, pull, capture, control), ports, strict=True):
        sock.connect(f"{LOCAL}:{port}")
    push.send(b"hello")
    assert pull.recv() == b"hello"
    assert capture.recv() == b"hello"
    control.send(b"TERMINATE")
    device.join(WAIT / 1000)
    assert device.done
    assert device.launcher is not None
    assert device.launcher.exitcode == 0
