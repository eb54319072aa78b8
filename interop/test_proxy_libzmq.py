"""``zmtp.proxy`` / ``proxy_steerable`` with libzmq clients and workers on both sides.

libzmq REQ clients -> zmtp ROUTER (frontend) -> proxy -> zmtp DEALER (backend) -> libzmq REP
workers, over tcp and ipc: the envelopes must survive the trip both ways, the capture socket
sees every message, the control socket steers, and Context.term() ends the proxy with ETERM.
"""

from __future__ import annotations

import struct
import threading

import pytest
import zmq
from api_peers import TIMEOUT_MS, WAIT_S, Peers

import zmtp


def _start(target: object, *args: object) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            target(*args)  # type: ignore[operator]
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, errors


def _broker(peers: Peers) -> tuple[zmtp.Socket, zmtp.Socket, str, str]:
    frontend = peers.zmtp(zmtp.ROUTER)
    backend = peers.zmtp(zmtp.DEALER)
    return frontend, backend, peers.bind(frontend), peers.bind(backend)


def _worker(peers: Peers, endpoint: str) -> zmq.Socket[bytes]:
    rep = peers.libzmq(zmq.REP)
    rep.connect(endpoint)
    return rep


def test_requests_cross_the_proxy_both_ways(peers: Peers) -> None:
    """Three libzmq clients, one libzmq worker: every reply reaches the client that asked."""
    frontend, backend, front_ep, back_ep = _broker(peers)
    capture = peers.zmtp(zmtp.PAIR)
    tap = peers.zmtp(zmtp.PAIR)
    tap.bind("inproc://capture")
    capture.connect("inproc://capture")
    thread, errors = _start(zmtp.proxy, frontend, backend, capture)
    worker = _worker(peers, back_ep)
    clients = [peers.libzmq(zmq.REQ) for _ in range(3)]
    for index, client in enumerate(clients):
        client.connect(front_ep)
        client.send(b"request %d" % index)
    for _ in clients:
        worker.send(b"reply to " + worker.recv())
    for index, client in enumerate(clients):
        assert client.recv() == b"reply to request %d" % index
    captured = [tap.recv_multipart()[-1] for _ in range(2 * len(clients))]
    assert sorted(captured) == sorted(
        [b"request %d" % i for i in range(3)] + [b"reply to request %d" % i for i in range(3)]
    )
    assert not errors and thread.is_alive()  # still serving; the fixture's term() ends it


def test_context_term_ends_the_proxy_with_eterm() -> None:
    """As zmq_proxy: the proxy returns (raises ETERM) when its context is terminated."""
    context = zmtp.Context()
    frontend = context.socket(zmtp.ROUTER)
    backend = context.socket(zmtp.DEALER)
    for sock in (frontend, backend):
        sock.linger = 0
    frontend.bind("inproc://front")
    backend.bind("inproc://back")
    thread, errors = _start(zmtp.proxy, frontend, backend)
    terminating = threading.Thread(target=context.term, daemon=True)
    terminating.start()
    thread.join(WAIT_S)
    assert not thread.is_alive()
    assert len(errors) == 1 and isinstance(errors[0], zmtp.ContextTerminated)
    frontend.close()
    backend.close()
    terminating.join(WAIT_S)
    assert not terminating.is_alive()


def test_steerable_pause_resume_statistics_terminate(peers: Peers) -> None:
    """PAUSE holds traffic, RESUME lets it through, STATISTICS counts, TERMINATE returns."""
    frontend, backend, front_ep, back_ep = _broker(peers)
    control = peers.zmtp(zmtp.PAIR)
    steer = peers.zmtp(zmtp.PAIR)
    steer.bind("inproc://control")
    control.connect("inproc://control")
    thread, errors = _start(zmtp.proxy_steerable, frontend, backend, None, control)
    worker = _worker(peers, back_ep)
    worker.rcvtimeo = 300
    client = peers.libzmq(zmq.REQ)
    client.connect(front_ep)
    steer.send(b"PAUSE")
    client.send(b"held")
    with pytest.raises(zmq.Again):
        worker.recv()
    steer.send(b"RESUME")
    worker.rcvtimeo = TIMEOUT_MS
    assert worker.recv() == b"held"
    worker.send(b"done")
    assert client.recv() == b"done"
    steer.send(b"STATISTICS")
    stats = [struct.unpack("=Q", frame)[0] for frame in steer.recv_multipart()]
    # libzmq's order: frontend msgs in, bytes in, msgs out, bytes out; then the backend's.
    assert [stats[0], stats[2], stats[4], stats[6]] == [1, 1, 1, 1]
    # The request (routing id, delimiter, b"held") went in at the front and out at the back,
    # the reply the other way; the routing id is the same length both times.
    assert stats[1] == stats[7] and stats[3] == stats[5]
    assert stats[1] - len(b"held") == stats[3] - len(b"done") > 0
    steer.send(b"TERMINATE")
    thread.join(WAIT_S)
    assert not thread.is_alive() and not errors
