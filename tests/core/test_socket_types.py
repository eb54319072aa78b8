"""Tests of the socket-type compatibility table (RFC 37; notes section 4.1)."""

from __future__ import annotations

import itertools

import pytest

from zmtp.constants import SocketType
from zmtp.socket_types import (
    SENDS_IDENTITY,
    VALID_PEERS,
    is_valid_peer,
    socket_type_from_name,
)

# Written out from the notes' section 4.1 table, independently of zmtp.socket_types.
EXPECTED_PEERS: dict[str, set[str]] = {
    "REQ": {"REP", "ROUTER"},
    "REP": {"REQ", "DEALER"},
    "DEALER": {"REP", "DEALER", "ROUTER"},
    "ROUTER": {"REQ", "DEALER", "ROUTER"},
    "PUB": {"SUB", "XSUB"},
    "XPUB": {"SUB", "XSUB"},
    "SUB": {"PUB", "XPUB"},
    "XSUB": {"PUB", "XPUB"},
    "PUSH": {"PULL"},
    "PULL": {"PUSH"},
    "PAIR": {"PAIR"},
    "CLIENT": {"SERVER"},
    "SERVER": {"CLIENT"},
    "RADIO": {"DISH"},
    "DISH": {"RADIO"},
    "SCATTER": {"GATHER"},
    "GATHER": {"SCATTER"},
    "PEER": {"PEER"},
    "CHANNEL": {"CHANNEL"},
}

ALL_TYPES = list(SocketType)


def test_table_matches_notes_exactly() -> None:
    actual = {ours.name: {theirs.name for theirs in peers} for ours, peers in VALID_PEERS.items()}
    assert actual == EXPECTED_PEERS


def test_is_valid_peer_matches_notes_for_every_pair() -> None:
    wrong = [
        (ours.name, theirs.name)
        for ours, theirs in itertools.product(ALL_TYPES, ALL_TYPES)
        if is_valid_peer(ours, theirs) != (theirs.name in EXPECTED_PEERS.get(ours.name, set()))
    ]
    assert wrong == []


def test_compatibility_is_symmetric() -> None:
    for ours, theirs in itertools.product(ALL_TYPES, ALL_TYPES):
        assert is_valid_peer(ours, theirs) == is_valid_peer(theirs, ours), (ours, theirs)


def test_stream_has_no_peers() -> None:
    assert SocketType.STREAM not in VALID_PEERS
    for other in ALL_TYPES:
        assert not is_valid_peer(SocketType.STREAM, other)
        assert not is_valid_peer(other, SocketType.STREAM)


def test_dgram_has_no_peers() -> None:
    assert SocketType.DGRAM not in VALID_PEERS
    for other in ALL_TYPES:
        assert not is_valid_peer(SocketType.DGRAM, other)
        assert not is_valid_peer(other, SocketType.DGRAM)


def test_only_req_dealer_router_send_identity() -> None:
    assert {t.name for t in SENDS_IDENTITY} == {"REQ", "DEALER", "ROUTER"}


@pytest.mark.parametrize("socket_type", ALL_TYPES, ids=lambda t: t.name)
def test_socket_type_from_name_maps_uppercase_names(socket_type: SocketType) -> None:
    assert socket_type_from_name(socket_type.name.encode()) is socket_type


def test_socket_type_from_name_maps_libzmq_property_values() -> None:
    assert socket_type_from_name(b"DEALER") is SocketType.DEALER
    assert socket_type_from_name(b"XPUB") is SocketType.XPUB
    assert socket_type_from_name(b"CLIENT") is SocketType.CLIENT


@pytest.mark.parametrize(
    "name", [b"dealer", b"Dealer", b"DEALER ", b" DEALER", b"", b"ZMQ_DEALER", b"5", b"\xff\xfe"]
)
def test_socket_type_from_name_unknown_is_none(name: bytes) -> None:
    assert socket_type_from_name(name) is None
