"""Z85 (RFC 32): the spec's test vector, error reporting, and agreement with pyzmq/libzmq."""

from __future__ import annotations

import os
import random
import re

import pytest
import zmq
from hypothesis import given
from hypothesis import strategies as st
from zmq.utils import z85 as pyzmq_z85

from zmtp import z85

# RFC 32, section "Test Case".
RFC_BYTES = bytes([0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B])
RFC_TEXT = "HelloWorld"

words = st.binary(min_size=4, max_size=4)
encodable = st.lists(words, max_size=64).map(b"".join)
# Any 5 Z85 characters, so including the groups above 2**32 - 1 (85**5 > 2**32).
z85_text = st.text(alphabet=z85.ALPHABET.decode(), max_size=100).map(
    lambda text: text[: len(text) - len(text) % 5]
)


def test_alphabet_is_the_rfc_one() -> None:
    assert z85.ALPHABET == (
        b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#"
    )
    assert len(set(z85.ALPHABET)) == 85


def test_rfc_test_vector() -> None:
    assert z85.encode(RFC_BYTES) == RFC_TEXT.encode()
    assert z85.decode(RFC_TEXT) == RFC_BYTES
    assert z85.decode(RFC_TEXT.encode()) == RFC_BYTES


def test_empty() -> None:
    assert z85.encode(b"") == b""
    assert z85.decode("") == b""
    assert z85.decode(b"") == b""


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b"\x00\x00\x00\x00", b"00000"),
        (b"\xff\xff\xff\xff", b"%nSc0"),  # the largest group; "%nSc1" is one too many
        (b"\x00\x00\x01\x00", b"00031"),  # 256 = 3 * 85 + 1
    ],
    ids=["zero", "max", "256"],
)
def test_boundary_words(data: bytes, text: bytes) -> None:
    assert z85.encode(data) == text
    assert z85.decode(text) == data


def test_digit_order_is_most_significant_first() -> None:
    assert z85.encode((84).to_bytes(4, "big")) == b"0000#"
    assert z85.encode((85).to_bytes(4, "big")) == b"00010"
    assert z85.encode((85**4).to_bytes(4, "big")) == b"10000"


def test_accepts_bytes_like() -> None:
    assert z85.encode(bytearray(RFC_BYTES)) == b"HelloWorld"  # type: ignore[arg-type]
    assert z85.encode(memoryview(RFC_BYTES)) == b"HelloWorld"  # type: ignore[arg-type]
    assert z85.decode(bytearray(b"HelloWorld")) == RFC_BYTES  # type: ignore[arg-type]


@pytest.mark.parametrize("size", [1, 2, 3, 5, 31, 33])
def test_encode_refuses_length_not_multiple_of_4(size: int) -> None:
    with pytest.raises(ValueError, match=rf"multiple of 4 bytes, got {size} bytes"):
        z85.encode(b"\x00" * size)


@pytest.mark.parametrize("size", [1, 4, 6, 39, 41])
def test_decode_refuses_length_not_multiple_of_5(size: int) -> None:
    with pytest.raises(ValueError, match=rf"multiple of 5, got {size} characters"):
        z85.decode("0" * size)


@pytest.mark.parametrize(
    ("text", "char", "position"),
    [
        ("Hell~", "~", 4),
        ("Hello Worl", " ", 5),
        ('"ello', '"', 0),
        ("Hello,orld", ",", 5),
        ("Hel\\o", "\\", 3),
        ("Hellé", "é", 4),  # non-ASCII str
        ("Hel\x00o", "\x00", 3),
    ],
)
def test_decode_names_invalid_character_and_position(text: str, char: str, position: int) -> None:
    expected = re.escape(f"invalid Z85 character {char!r} at position {position}")
    with pytest.raises(ValueError, match=expected):
        z85.decode(text)


def test_decode_names_invalid_byte_in_bytes_input() -> None:
    with pytest.raises(ValueError, match=r"^invalid Z85 byte 0xff at position 7$"):
        z85.decode(b"Hello\x30\x30\xff\x30\x30")


def test_decode_reports_first_invalid_character() -> None:
    with pytest.raises(ValueError, match="'~' at position 2"):
        z85.decode("He~l HelloWorld")


@pytest.mark.parametrize(
    ("text", "group", "position"),
    [
        ("%nSc1", "%nSc1", 0),
        ("#####", "#####", 0),
        ("HelloWorld%nSc1%nSc0", "%nSc1", 10),
    ],
)
def test_decode_refuses_group_above_2_32(text: str, group: str, position: int) -> None:
    with pytest.raises(
        ValueError, match=rf"group '{group}' at position {position} encodes a value above 2\*\*32"
    ):
        z85.decode(text)


@given(encodable)
def test_round_trip(data: bytes) -> None:
    text = z85.encode(data)
    assert len(text) == len(data) // 4 * 5
    assert set(text) <= set(z85.ALPHABET)
    assert z85.decode(text) == data
    assert z85.decode(text.decode()) == data


@given(encodable)
def test_encode_matches_pyzmq(data: bytes) -> None:
    assert z85.encode(data) == pyzmq_z85.encode(data)


@given(z85_text)
def test_decode_matches_pyzmq(text: str) -> None:
    """Where pyzmq decodes, we give the same bytes; where it fails (overflow), so do we."""
    try:
        expected = pyzmq_z85.decode(text)
    except Exception:  # pyzmq raises struct.error on an overflowing group
        with pytest.raises(ValueError, match="above 2"):
            z85.decode(text)
    else:
        assert z85.decode(text) == expected
        assert z85.encode(expected) == text.encode()


@pytest.mark.parametrize("size", [0, 4, 32, 64, 1024])
def test_random_data_matches_pyzmq(size: int) -> None:
    rng = random.Random(size)
    for _ in range(50):
        data = rng.randbytes(size)
        text = pyzmq_z85.encode(data)
        assert z85.encode(data) == text
        assert z85.decode(text) == pyzmq_z85.decode(text) == data


@pytest.mark.skipif(not zmq.has("curve"), reason="libzmq built without CURVE")
def test_libzmq_encoded_keys_round_trip() -> None:
    """zmq.curve_keypair() is Z85 from libzmq's own C encoder, not pyzmq's Python one."""
    for _ in range(20):
        for key in zmq.curve_keypair():
            raw = z85.decode(key)
            assert len(raw) == 32
            assert z85.encode(raw) == key


def test_large_input() -> None:
    data = os.urandom(1 << 16)
    assert z85.decode(z85.encode(data)) == data


def test_decode_checks_length_before_characters() -> None:
    with pytest.raises(ValueError, match="multiple of 5, got 4 characters"):
        z85.decode("Helé")
    with pytest.raises(ValueError, match="multiple of 5, got 4 characters"):
        z85.decode(b"Hel\xff")
