"""The security options select MECHANISM and the role exactly as libzmq does (via pyzmq).

Each case applies one sequence of PLAIN_* / CURVE_* options to a libzmq DEALER and to a zmtp
DEALER, and after every step reads MECHANISM, PLAIN_SERVER and CURVE_SERVER back from both. A
step libzmq refuses must be refused by zmtp with the same errno and change nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import zmq
from zmq.utils import z85

import zmtp

READBACK = ("MECHANISM", "PLAIN_SERVER", "CURVE_SERVER")

# Symbolic values, resolved per test run: "pub"/"sec" are a CURVE key pair in Z85, "raw-pub"
# the public key as 32 raw bytes.
Step = tuple[str, int | bytes | str]

SEQUENCES: dict[str, list[Step]] = {
    "nothing": [],
    "plain-server-1": [("PLAIN_SERVER", 1)],
    "plain-server-0": [("PLAIN_SERVER", 0)],
    "plain-server-1-then-0": [("PLAIN_SERVER", 1), ("PLAIN_SERVER", 0)],
    "plain-username": [("PLAIN_USERNAME", b"admin")],
    "plain-password": [("PLAIN_PASSWORD", b"secret")],
    "plain-server-then-username": [("PLAIN_SERVER", 1), ("PLAIN_USERNAME", b"admin")],
    "plain-username-then-server": [("PLAIN_USERNAME", b"admin"), ("PLAIN_SERVER", 1)],
    "plain-client-then-server-0": [
        ("PLAIN_USERNAME", b"admin"),
        ("PLAIN_PASSWORD", b"secret"),
        ("PLAIN_SERVER", 0),
    ],
    "curve-server-1": [("CURVE_SERVER", 1)],
    "curve-server-0": [("CURVE_SERVER", 0)],
    "curve-serverkey": [("CURVE_SERVERKEY", "pub")],
    "curve-publickey": [("CURVE_PUBLICKEY", "pub")],
    "curve-secretkey": [("CURVE_SECRETKEY", "sec")],
    "curve-publickey-raw": [("CURVE_PUBLICKEY", "raw-pub")],
    "curve-server-then-serverkey": [("CURVE_SERVER", 1), ("CURVE_SERVERKEY", "pub")],
    "curve-serverkey-then-server": [("CURVE_SERVERKEY", "pub"), ("CURVE_SERVER", 1)],
    "curve-full-server": [
        ("CURVE_SERVER", 1),
        ("CURVE_PUBLICKEY", "pub"),
        ("CURVE_SECRETKEY", "sec"),
    ],
    "curve-full-client": [
        ("CURVE_PUBLICKEY", "pub"),
        ("CURVE_SECRETKEY", "sec"),
        ("CURVE_SERVERKEY", "pub"),
    ],
    "curve-server-1-then-0-then-key": [
        ("CURVE_SERVER", 1),
        ("CURVE_SERVER", 0),
        ("CURVE_PUBLICKEY", "pub"),
    ],
    "plain-server-then-curve-secretkey": [("PLAIN_SERVER", 1), ("CURVE_SECRETKEY", "sec")],
    "plain-server-then-curve-server-0": [("PLAIN_SERVER", 1), ("CURVE_SERVER", 0)],
    "curve-server-then-plain-server-0": [("CURVE_SERVER", 1), ("PLAIN_SERVER", 0)],
    "curve-server-then-plain-server-1": [("CURVE_SERVER", 1), ("PLAIN_SERVER", 1)],
    "curve-server-then-plain-username": [("CURVE_SERVER", 1), ("PLAIN_USERNAME", b"admin")],
    "plain-server-then-curve-server": [("PLAIN_SERVER", 1), ("CURVE_SERVER", 1)],
    "plain-username-then-curve-publickey": [
        ("PLAIN_USERNAME", b"admin"),
        ("CURVE_PUBLICKEY", "pub"),
    ],
    "curve-serverkey-then-plain-password": [
        ("CURVE_SERVERKEY", "pub"),
        ("PLAIN_PASSWORD", b"secret"),
    ],
    # Refused steps: libzmq answers EINVAL and keeps the earlier selection.
    "plain-server-2-refused": [("PLAIN_SERVER", 1), ("PLAIN_SERVER", 2)],
    "curve-server-2-refused": [("CURVE_SERVER", 1), ("CURVE_SERVER", 2)],
    "empty-username-refused": [("PLAIN_SERVER", 1), ("PLAIN_USERNAME", b"")],
    "long-password-refused": [("CURVE_SERVER", 1), ("PLAIN_PASSWORD", b"p" * 256)],
    "short-curve-key-refused": [("PLAIN_USERNAME", b"admin"), ("CURVE_PUBLICKEY", b"k" * 31)],
}


@pytest.fixture(scope="module")
def keys() -> dict[str, bytes]:
    public, secret = zmq.curve_keypair()
    return {"pub": public, "sec": secret, "raw-pub": z85.decode(public)}


@pytest.fixture(scope="module")
def libzmq_context() -> Iterator[zmq.Context[Any]]:
    context: zmq.Context[Any] = zmq.Context()
    yield context
    context.term()


@pytest.fixture(scope="module")
def zmtp_context() -> Iterator[Any]:
    context = zmtp.Context()
    yield context
    context.term()


@pytest.fixture
def sockets(libzmq_context: zmq.Context[Any], zmtp_context: Any) -> Iterator[tuple[Any, Any]]:
    reference = libzmq_context.socket(zmq.DEALER)
    reference.setsockopt(zmq.LINGER, 0)
    ours = zmtp_context.socket(zmtp.DEALER)
    ours.setsockopt(zmtp.LINGER, 0)
    yield reference, ours
    reference.close()
    ours.close()


def readback(reference: Any, ours: Any) -> tuple[tuple[int, ...], tuple[int, ...]]:
    theirs = tuple(reference.getsockopt(getattr(zmq, name)) for name in READBACK)
    mine = tuple(ours.getsockopt(getattr(zmtp, name)) for name in READBACK)
    return theirs, mine


def set_option(sock: Any, module: Any, name: str, value: int | bytes) -> int | None:
    """Set one option; return the errno of a refusal, None on success."""
    try:
        sock.setsockopt(getattr(module, name), value)
    except (zmq.ZMQError, zmtp.ZMQError) as exc:
        return exc.errno
    return None


def test_fresh_socket_reads_null_and_no_server_role(sockets: tuple[Any, Any]) -> None:
    """Before any security option: MECHANISM 0 (NULL), PLAIN_SERVER 0, CURVE_SERVER 0."""
    theirs, mine = readback(*sockets)
    assert theirs == (0, 0, 0)
    assert mine == theirs


@pytest.mark.parametrize("case", list(SEQUENCES))
def test_option_sequence_selects_what_libzmq_selects(
    sockets: tuple[Any, Any], keys: dict[str, bytes], case: str
) -> None:
    """After each step MECHANISM/PLAIN_SERVER/CURVE_SERVER match libzmq, refusals included."""
    reference, ours = sockets
    my_errno: int | None = None
    for index, (name, symbolic) in enumerate(SEQUENCES[case]):
        value = keys[symbolic] if isinstance(symbolic, str) else symbolic
        their_errno = set_option(reference, zmq, name, value)
        my_errno = set_option(ours, zmtp, name, value)
        where = f"step {index} ({name}={symbolic!r})"
        assert my_errno == their_errno, where
        theirs, mine = readback(reference, ours)
        assert mine == theirs, where
    # The "refused" cases really end with a refusal (EINVAL), not a silent success.
    assert my_errno == (zmq.EINVAL if case.endswith("-refused") else None)


def test_sequences_cover_every_mechanism_and_role(
    libzmq_context: zmq.Context[Any], keys: dict[str, bytes]
) -> None:
    """The table is not vacuous: libzmq ends it in NULL, PLAIN/CURVE client and server."""
    seen: set[tuple[int, ...]] = set()
    for steps in SEQUENCES.values():
        sock = libzmq_context.socket(zmq.DEALER)
        try:
            for name, symbolic in steps:
                value = keys[symbolic] if isinstance(symbolic, str) else symbolic
                set_option(sock, zmq, name, value)
            seen.add(tuple(sock.getsockopt(getattr(zmq, name)) for name in READBACK))
        finally:
            sock.close(0)
    assert {(0, 0, 0), (1, 0, 0), (1, 1, 0), (2, 0, 0), (2, 0, 1)} <= seen
