"""Byte-exact tests of ZMTP commands (RFC 23 READY/ERROR, RFC 37 PING/PONG/SUBSCRIBE/CANCEL)."""

from __future__ import annotations

import pytest

from zmtp.commands import (
    MAX_PING_TTL,
    Cancel,
    Error,
    Ping,
    Pong,
    Ready,
    Subscribe,
    UnknownCommand,
    parse_command,
    split_command,
)
from zmtp.errors import (
    ZMTP_MALFORMED_COMMAND_ERROR,
    InvalidMetadata,
    MalformedCommand,
)
from zmtp.frames import encode_command
from zmtp.metadata import Metadata

# Section 1.7: READY from a libzmq DEALER with no routing id, 43 bytes on the wire.
DEALER_READY_FRAME = (
    bytes.fromhex("04 29")
    + b"\x05READY"
    + b"\x0bSocket-Type"
    + bytes.fromhex("00 00 00 06")
    + b"DEALER"
    + b"\x08Identity"
    + bytes.fromhex("00 00 00 00")
)


# --- encoding ---------------------------------------------------------------------------------


def test_ready_from_dealer_matches_libzmq_bytes() -> None:
    ready = Ready(Metadata([("Socket-Type", b"DEALER"), ("Identity", b"")]))
    frame = encode_command(ready.encode())
    assert len(frame) == 43
    assert frame == DEALER_READY_FRAME


def test_ready_without_metadata_is_name_only() -> None:
    assert encode_command(Ready().encode()) == b"\x04\x06\x05READY"


def test_error_carries_length_prefixed_reason() -> None:
    assert encode_command(Error(b"400").encode()) == b"\x04\x0a\x05ERROR\x03400"
    assert encode_command(Error().encode()) == b"\x04\x07\x05ERROR\x00"


def test_ping_with_empty_context_matches_libzmq_bytes() -> None:
    assert encode_command(Ping(ttl=0x1234).encode()) == b"\x04\x07\x04PING\x12\x34"
    assert encode_command(Ping(ttl=20).encode()) == b"\x04\x07\x04PING\x00\x14"


def test_ping_ttl_is_u16_big_endian_followed_by_context() -> None:
    assert Ping(ttl=MAX_PING_TTL, context=b"ctx123").encode() == b"\x04PING\xff\xffctx123"


def test_pong_echoes_context_after_name() -> None:
    assert encode_command(Pong().encode()) == b"\x04\x05\x04PONG"
    assert encode_command(Pong(b"ctx123").encode()) == b"\x04\x0b\x04PONGctx123"


def test_subscribe_abc_matches_libzmq_bytes() -> None:
    assert encode_command(Subscribe(b"abc").encode()) == b"\x04\x0d\x09SUBSCRIBEabc"


def test_subscribe_to_everything_has_empty_topic() -> None:
    assert encode_command(Subscribe(b"").encode()) == b"\x04\x0a\x09SUBSCRIBE"


def test_cancel_abc_matches_libzmq_bytes() -> None:
    assert encode_command(Cancel(b"abc").encode()) == b"\x04\x0a\x06CANCELabc"


def test_long_command_uses_long_command_header() -> None:
    topic = b"t" * 300
    frame = encode_command(Subscribe(topic).encode())
    assert frame == bytes.fromhex("06 00 00 00 00 00 00 01 36") + b"\x09SUBSCRIBE" + topic


def test_unknown_command_encodes_name_and_data() -> None:
    assert UnknownCommand(b"HELLO", b"\x01\x02").encode() == b"\x05HELLO\x01\x02"


# --- parsing ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        Ready(),
        Ready(Metadata([("Socket-Type", b"ROUTER"), ("Identity", b"\x00abc"), ("X-k", b"v")])),
        Error(),
        Error(b"500"),
        Error(b"r" * 255),
        Ping(),
        Ping(ttl=MAX_PING_TTL, context=b"0123456789abcdef"),
        Pong(),
        Pong(b"ctx"),
        Subscribe(),
        Subscribe(b"abc"),
        Subscribe(b"\x00\xff" * 200),
        Cancel(b"abc"),
        UnknownCommand(b"JOIN", b"group"),
        UnknownCommand(b"X" * 255),
    ],
    ids=repr,
)
def test_parse_command_round_trips(command: object) -> None:
    assert parse_command(command.encode()) == command  # type: ignore[attr-defined]


def test_parse_dealer_ready_frame_body() -> None:
    command = parse_command(DEALER_READY_FRAME[2:])
    assert isinstance(command, Ready)
    assert list(command.metadata.items()) == [("Socket-Type", b"DEALER"), ("Identity", b"")]


def test_parse_error_reads_length_prefixed_reason() -> None:
    assert parse_command(b"\x05ERROR\x03400") == Error(b"400")


def test_parse_ping_splits_ttl_and_context() -> None:
    assert parse_command(b"\x04PING\x01\x02ctx") == Ping(ttl=0x0102, context=b"ctx")


def test_unknown_names_become_unknown_command() -> None:
    assert parse_command(b"\x05HELLO\x01\x02") == UnknownCommand(b"HELLO", b"\x01\x02")
    assert parse_command(b"\x07WELCOME") == UnknownCommand(b"WELCOME", b"")


def test_command_names_are_case_sensitive() -> None:
    assert parse_command(b"\x05ready") == UnknownCommand(b"ready", b"")
    assert parse_command(b"\x04Ping\x00\x00") == UnknownCommand(b"Ping", b"\x00\x00")


def test_split_command_returns_name_and_data() -> None:
    assert split_command(b"\x04PONGxyz") == (b"PONG", b"xyz")
    assert split_command(b"\x04PONG") == (b"PONG", b"")


# --- malformed bodies -------------------------------------------------------------------------


def test_empty_command_body_is_malformed() -> None:
    with pytest.raises(MalformedCommand):
        parse_command(b"")


@pytest.mark.parametrize("body", [b"\x05REA", b"\x06READY", b"\xffPING", b"\x01"])
def test_name_length_beyond_body_is_malformed(body: bytes) -> None:
    with pytest.raises(MalformedCommand):
        parse_command(body)


def test_name_length_zero_is_malformed() -> None:
    with pytest.raises(MalformedCommand):
        parse_command(b"\x00READY")
    with pytest.raises(MalformedCommand):
        parse_command(b"\x00")


@pytest.mark.parametrize("data", [b"", b"\x01", b"\x04abc", b"\xff" + b"x" * 254])
def test_error_reason_longer_than_its_data_is_malformed(data: bytes) -> None:
    with pytest.raises(MalformedCommand) as info:
        parse_command(b"\x05ERROR" + data)
    assert info.value.code == ZMTP_MALFORMED_COMMAND_ERROR


@pytest.mark.parametrize("data", [b"", b"\x00"])
def test_ping_shorter_than_2_bytes_is_malformed(data: bytes) -> None:
    with pytest.raises(MalformedCommand):
        parse_command(b"\x04PING" + data)


def test_ready_with_malformed_metadata_is_invalid_metadata() -> None:
    with pytest.raises(InvalidMetadata):
        parse_command(b"\x05READY\x0bSocket-Type\x00\x00\x00\x06DEAL")


# --- value limits -----------------------------------------------------------------------------


@pytest.mark.parametrize("ttl", [-1, MAX_PING_TTL + 1, 2**32])
def test_ping_ttl_outside_u16_is_refused(ttl: int) -> None:
    with pytest.raises(ValueError):
        Ping(ttl=ttl)


def test_ping_ttl_limits_are_0_and_65535() -> None:
    assert MAX_PING_TTL == 0xFFFF
    assert Ping(ttl=0).encode() == b"\x04PING\x00\x00"
    assert Ping(ttl=0xFFFF).encode() == b"\x04PING\xff\xff"


def test_error_reason_longer_than_255_is_refused() -> None:
    with pytest.raises(ValueError):
        Error(b"r" * 256)


def test_error_reason_of_255_bytes_is_allowed() -> None:
    reason = bytes(range(255))
    assert Error(reason).encode() == b"\x05ERROR\xff" + reason
