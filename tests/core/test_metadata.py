"""Tests of ZMTP metadata property lists (RFC 23 'Metadata'; notes section 1.6)."""

from __future__ import annotations

import pytest

from zmtp.errors import InvalidMetadata
from zmtp.metadata import Metadata

SOCKET_TYPE_DEALER = b"\x0bSocket-Type\x00\x00\x00\x06DEALER"
IDENTITY_EMPTY = b"\x08Identity\x00\x00\x00\x00"


def test_property_encodes_as_u8_name_len_name_u32_be_value_len_value() -> None:
    assert Metadata([("Socket-Type", b"DEALER")]).encode() == SOCKET_TYPE_DEALER


def test_empty_value_encodes_with_zero_length() -> None:
    assert Metadata([("Identity", b"")]).encode() == IDENTITY_EMPTY


def test_properties_encode_in_insertion_order() -> None:
    metadata = Metadata([("Socket-Type", b"DEALER"), ("Identity", b"")])
    assert metadata.encode() == SOCKET_TYPE_DEALER + IDENTITY_EMPTY
    reversed_order = Metadata([("Identity", b""), ("Socket-Type", b"DEALER")])
    assert reversed_order.encode() == IDENTITY_EMPTY + SOCKET_TYPE_DEALER


def test_empty_metadata_encodes_to_nothing_and_decodes_from_nothing() -> None:
    assert Metadata().encode() == b""
    assert len(Metadata.decode(b"")) == 0


def test_decode_reads_properties_in_order() -> None:
    metadata = Metadata.decode(SOCKET_TYPE_DEALER + IDENTITY_EMPTY)
    assert list(metadata.items()) == [("Socket-Type", b"DEALER"), ("Identity", b"")]


def test_decode_accepts_memoryview() -> None:
    metadata = Metadata.decode(memoryview(b"xx" + SOCKET_TYPE_DEALER)[2:])
    assert metadata["Socket-Type"] == b"DEALER"


def test_values_are_opaque_bytes() -> None:
    value = bytes(range(256)) * 3
    metadata = Metadata([("X-Blob", value)])
    assert Metadata.decode(metadata.encode())["X-Blob"] == value


def test_round_trip_keeps_names_values_and_order() -> None:
    metadata = Metadata([("Socket-Type", b"ROUTER"), ("Identity", b"\x00id"), ("X-a_b.c+1", b"")])
    decoded = Metadata.decode(metadata.encode())
    assert list(decoded.items()) == list(metadata.items())


def test_constructor_accepts_mapping_and_converts_values_to_bytes() -> None:
    metadata = Metadata({"X-Buf": bytearray(b"abc")})
    assert metadata["X-Buf"] == b"abc"
    assert type(metadata["X-Buf"]) is bytes


# --- case-insensitive lookup ------------------------------------------------------------------


def test_lookup_is_case_insensitive() -> None:
    metadata = Metadata.decode(SOCKET_TYPE_DEALER)
    assert metadata["socket-type"] == b"DEALER"
    assert metadata["SOCKET-TYPE"] == b"DEALER"
    assert "sOcKeT-tYpE" in metadata
    assert metadata.get("socket-type") == b"DEALER"


def test_lookup_of_missing_name_fails() -> None:
    metadata = Metadata.decode(SOCKET_TYPE_DEALER)
    assert "Identity" not in metadata
    assert metadata.get("Identity") is None
    with pytest.raises(KeyError):
        metadata["Identity"]


def test_non_string_is_never_contained() -> None:
    assert b"Socket-Type" not in Metadata.decode(SOCKET_TYPE_DEALER)


def test_original_casing_is_kept_for_iteration_and_encoding() -> None:
    data = b"\x0bsocket-TYPE\x00\x00\x00\x03SUB"
    metadata = Metadata.decode(data)
    assert list(metadata) == ["socket-TYPE"]
    assert metadata.encode() == data


def test_name_given_twice_keeps_last_value() -> None:
    data = b"\x01A\x00\x00\x00\x011" + b"\x01a\x00\x00\x00\x012"
    metadata = Metadata.decode(data)
    assert len(metadata) == 1
    assert metadata["A"] == b"2"


# --- malformed property lists -----------------------------------------------------------------


@pytest.mark.parametrize("garbage", [b"\x05", b"\x03ab", b"\x01A\x00\x00\x00\x02x"])
def test_trailing_garbage_is_rejected(garbage: bytes) -> None:
    with pytest.raises(InvalidMetadata):
        Metadata.decode(SOCKET_TYPE_DEALER + garbage)


def test_empty_name_is_rejected() -> None:
    with pytest.raises(InvalidMetadata):
        Metadata.decode(b"\x00\x00\x00\x00\x00")


@pytest.mark.parametrize("data", [b"\x0bSocket", b"\x0bSocket-Type", b"\xff" + b"a" * 254])
def test_truncated_name_is_rejected(data: bytes) -> None:
    with pytest.raises(InvalidMetadata):
        Metadata.decode(data)


@pytest.mark.parametrize("data", [b"\x01A\x00", b"\x01A\x00\x00\x00"])
def test_truncated_value_size_is_rejected(data: bytes) -> None:
    with pytest.raises(InvalidMetadata):
        Metadata.decode(data)


@pytest.mark.parametrize("data", [b"\x01A\x00\x00\x00\x05abc", b"\x01A\x00\x00\x00\x01"])
def test_truncated_value_is_rejected(data: bytes) -> None:
    with pytest.raises(InvalidMetadata):
        Metadata.decode(data)


def test_value_size_with_top_bit_set_is_rejected() -> None:
    with pytest.raises(InvalidMetadata):
        Metadata.decode(b"\x01A\x80\x00\x00\x00")


@pytest.mark.parametrize("name", [b"a b", b"a:b", b"a/b", b"a\x00", b"\xe9t\xe9", b"a=b"])
def test_bad_name_characters_are_rejected(name: bytes) -> None:
    data = bytes((len(name),)) + name + b"\x00\x00\x00\x00"
    with pytest.raises(InvalidMetadata):
        Metadata.decode(data)


def test_all_allowed_name_characters_are_accepted() -> None:
    name = b"ABCXYZabcxyz0189-_.+"
    metadata = Metadata.decode(bytes((len(name),)) + name + b"\x00\x00\x00\x01v")
    assert metadata[name.decode()] == b"v"


@pytest.mark.parametrize("name", ["", "a b", "caf\u00e9", "a:b", "x" * 256])
def test_encode_refuses_invalid_names(name: str) -> None:
    with pytest.raises(ValueError):
        Metadata([(name, b"v")]).encode()


def test_encode_accepts_255_character_name() -> None:
    name = "N" * 255
    assert Metadata([(name, b"")]).encode() == b"\xff" + b"N" * 255 + b"\x00\x00\x00\x00"


# --- equality ---------------------------------------------------------------------------------


def test_equality_ignores_name_casing() -> None:
    assert Metadata([("Socket-Type", b"PUB")]) == Metadata([("SOCKET-TYPE", b"PUB")])


def test_equality_ignores_order() -> None:
    first = Metadata([("A", b"1"), ("B", b"2")])
    second = Metadata([("B", b"2"), ("A", b"1")])
    assert first == second


def test_different_values_or_names_are_not_equal() -> None:
    base = Metadata([("Socket-Type", b"PUB")])
    assert base != Metadata([("Socket-Type", b"SUB")])
    assert base != Metadata([("Socket-Typ", b"PUB")])
    assert base != Metadata([("Socket-Type", b"PUB"), ("Identity", b"")])
    assert base != Metadata()


def test_metadata_is_unhashable() -> None:
    with pytest.raises(TypeError):
        hash(Metadata())
