"""Byte-exact tests of the ZMTP 3.x greeting and libzmq's staged exchange (notes 1.2, 1.3)."""

from __future__ import annotations

import pytest

from zmtp.errors import MechanismMismatch, UnsupportedVersion
from zmtp.greeting import Greeting, GreetingExchange, mechanism_field

LIBZMQ_SIGNATURE = bytes.fromhex("ff 00 00 00 00 00 00 00 01 7f")

# What libzmq 4.3.5 sends as a NULL socket with no routing id: signature, 03, then 53 bytes.
LIBZMQ_NULL_GREETING = (
    LIBZMQ_SIGNATURE + b"\x03" + b"\x01" + b"NULL" + bytes(16) + b"\x00" + bytes(31)
)


def peer_greeting(**fields: object) -> bytes:
    return Greeting(**fields).encode()  # type: ignore[arg-type]


def exchange_collecting(ours: Greeting, chunks: list[bytes]) -> tuple[list[bytes], bytes]:
    """Feed ``chunks``; return what was to be sent after each, and the concatenated rest."""
    exchange = GreetingExchange(ours)
    sent = []
    rest = b""
    for chunk in chunks:
        to_send, tail = exchange.receive(chunk)
        sent.append(to_send)
        rest += tail
    return sent, rest


# --- Greeting.encode ------------------------------------------------------------------------


def test_default_greeting_matches_libzmq_null_greeting() -> None:
    encoded = Greeting().encode()
    assert len(encoded) == 64
    assert encoded == LIBZMQ_NULL_GREETING


def test_signature_is_ff_padding_7f() -> None:
    encoded = Greeting(padding=0x0102030405060708).encode()
    assert encoded[0] == 0xFF
    assert encoded[1:9] == bytes.fromhex("01 02 03 04 05 06 07 08")
    assert encoded[9] == 0x7F


def test_padding_is_routing_id_length_plus_one_as_u64_be() -> None:
    # libzmq: no routing id -> 1; a 3-byte routing id -> 4.
    assert Greeting().encode()[:10] == LIBZMQ_SIGNATURE
    assert Greeting(padding=3 + 1).encode()[:10] == bytes.fromhex("ff 00 00 00 00 00 00 00 04 7f")
    assert Greeting(padding=255 + 1).encode()[:10] == bytes.fromhex("ff 00 00 00 00 00 00 01 00 7f")


def test_version_bytes_are_major_then_minor() -> None:
    assert Greeting().encode()[10:12] == b"\x03\x01"
    assert Greeting(major=3, minor=0).encode()[10:12] == b"\x03\x00"


def test_mechanism_is_20_bytes_nul_padded() -> None:
    assert Greeting(mechanism=b"CURVE").encode()[12:32] == b"CURVE" + bytes(15)
    assert Greeting(mechanism=b"A" * 20).encode()[12:32] == b"A" * 20


@pytest.mark.parametrize("name", [b"", b"null", b"A" * 21, b"NU LL", b"NULL\x00"])
def test_invalid_mechanism_name_is_refused(name: bytes) -> None:
    with pytest.raises(ValueError):
        mechanism_field(name)
    with pytest.raises(ValueError):
        Greeting(mechanism=name).encode()


def test_mechanism_name_allows_digits_and_dash_underscore_dot_plus() -> None:
    assert mechanism_field(b"X-1_2.3+") == b"X-1_2.3+" + bytes(12)


def test_as_server_byte_is_offset_32() -> None:
    assert Greeting(mechanism=b"PLAIN", as_server=True).encode()[32] == 1
    assert Greeting(mechanism=b"PLAIN", as_server=False).encode()[32] == 0


def test_filler_is_31_zero_bytes() -> None:
    encoded = Greeting(mechanism=b"CURVE", as_server=True, padding=2**64 - 1).encode()
    assert encoded[33:] == bytes(31)


def test_decode_round_trips_every_field() -> None:
    greeting = Greeting(major=3, minor=0, mechanism=b"PLAIN", as_server=True, padding=7)
    assert Greeting.decode(greeting.encode()) == greeting


def test_decode_refuses_wrong_length() -> None:
    with pytest.raises(ValueError):
        Greeting.decode(LIBZMQ_NULL_GREETING[:63])


# --- GreetingExchange staging -----------------------------------------------------------------


def test_start_returns_exactly_the_10_byte_signature() -> None:
    exchange = GreetingExchange(Greeting())
    assert exchange.start() == LIBZMQ_SIGNATURE
    assert len(exchange.start()) == 10


def test_major_byte_sent_only_after_peers_10_byte_signature() -> None:
    exchange = GreetingExchange(Greeting())
    assert exchange.receive(LIBZMQ_NULL_GREETING[:9]) == (b"", b"")
    assert exchange.receive(LIBZMQ_NULL_GREETING[9:10]) == (b"\x03", b"")


def test_remaining_53_bytes_sent_only_after_peers_major_byte() -> None:
    ours = Greeting()
    exchange = GreetingExchange(ours)
    assert exchange.receive(LIBZMQ_NULL_GREETING[:10]) == (b"\x03", b"")
    to_send, rest = exchange.receive(LIBZMQ_NULL_GREETING[10:11])
    assert to_send == ours.encode()[11:]
    assert len(to_send) == 53
    assert rest == b""


def test_nothing_more_is_sent_after_the_53_bytes() -> None:
    exchange = GreetingExchange(Greeting())
    exchange.receive(LIBZMQ_NULL_GREETING[:11])
    assert exchange.receive(LIBZMQ_NULL_GREETING[11:40]) == (b"", b"")
    assert exchange.receive(LIBZMQ_NULL_GREETING[40:]) == (b"", b"")


def test_major_and_rest_sent_together_when_peer_bytes_arrive_together() -> None:
    ours = Greeting()
    exchange = GreetingExchange(ours)
    to_send, rest = exchange.receive(LIBZMQ_NULL_GREETING[:11])
    assert to_send == ours.encode()[10:]
    assert rest == b""


def test_start_plus_everything_sent_is_our_full_greeting() -> None:
    ours = Greeting(minor=0, padding=4)
    exchange = GreetingExchange(ours)
    to_send, _ = exchange.receive(LIBZMQ_NULL_GREETING)
    assert exchange.start() + to_send == ours.encode()


def test_one_byte_chunks_stage_and_complete() -> None:
    ours = Greeting()
    chunks = [LIBZMQ_NULL_GREETING[i : i + 1] for i in range(64)]
    exchange = GreetingExchange(ours)
    sent = []
    for index, chunk in enumerate(chunks):
        to_send, rest = exchange.receive(chunk)
        assert rest == b""
        sent.append(to_send)
        assert (exchange.peer is None) == (index < 63)
    expected = [b""] * 64
    expected[9] = ours.encode()[10:11]
    expected[10] = ours.encode()[11:]
    assert sent == expected
    assert exchange.peer == Greeting()


def test_peer_is_set_only_after_64_bytes() -> None:
    exchange = GreetingExchange(Greeting())
    exchange.receive(LIBZMQ_NULL_GREETING[:63])
    assert exchange.peer is None
    exchange.receive(LIBZMQ_NULL_GREETING[63:])
    assert exchange.peer == Greeting(major=3, minor=1, mechanism=b"NULL", padding=1)


def test_bytes_after_64_are_returned_as_rest() -> None:
    ready = b"\x04\x29\x05READY"
    to_send, rest = GreetingExchange(Greeting()).receive(LIBZMQ_NULL_GREETING + ready)
    assert len(to_send) == 54
    assert rest == ready


def test_rest_returned_when_boundary_falls_inside_a_later_chunk() -> None:
    data = LIBZMQ_NULL_GREETING + b"\x00\x02hi"
    sent, rest = exchange_collecting(Greeting(), [data[:5], data[5:60], data[60:]])
    assert rest == b"\x00\x02hi"
    assert b"".join(sent) == Greeting().encode()[10:]


def test_peer_greeting_fields_are_decoded() -> None:
    exchange = GreetingExchange(Greeting(mechanism=b"PLAIN"))
    exchange.receive(peer_greeting(minor=0, mechanism=b"PLAIN", as_server=True, padding=9))
    assert exchange.peer == Greeting(minor=0, mechanism=b"PLAIN", as_server=True, padding=9)


# --- GreetingExchange refusals ----------------------------------------------------------------


@pytest.mark.parametrize("first", [0x00, 0x01, 0x7F, 0xFE])
def test_signature_byte0_not_ff_is_unsupported(first: int) -> None:
    data = bytes((first,)) + LIBZMQ_NULL_GREETING[1:]
    with pytest.raises(UnsupportedVersion):
        GreetingExchange(Greeting()).receive(data[:10])


@pytest.mark.parametrize("last", [0x7E, 0x00, 0xFE])
def test_signature_byte9_bit0_clear_is_unsupported(last: int) -> None:
    data = LIBZMQ_NULL_GREETING[:9] + bytes((last,))
    with pytest.raises(UnsupportedVersion):
        GreetingExchange(Greeting()).receive(data)


def test_signature_checks_only_bit0_of_byte9() -> None:
    data = LIBZMQ_NULL_GREETING[:9] + b"\x01" + LIBZMQ_NULL_GREETING[10:]
    exchange = GreetingExchange(Greeting())
    exchange.receive(data)
    assert exchange.peer is not None


def test_bad_signature_detected_when_10th_byte_arrives_alone() -> None:
    exchange = GreetingExchange(Greeting())
    assert exchange.receive(b"\x00" * 9) == (b"", b"")
    with pytest.raises(UnsupportedVersion):
        exchange.receive(b"\x00")


@pytest.mark.parametrize(("major", "protocol"), [(0, "ZMTP 1.0"), (1, "ZMTP 2.0")])
def test_major_0_or_1_is_unsupported_naming_the_protocol(major: int, protocol: str) -> None:
    exchange = GreetingExchange(Greeting())
    exchange.receive(LIBZMQ_SIGNATURE)
    with pytest.raises(UnsupportedVersion, match=protocol):
        exchange.receive(bytes((major,)))


@pytest.mark.parametrize("major", [2, 3, 4, 255])
def test_major_2_and_above_is_accepted_like_libzmq(major: int) -> None:
    ours = Greeting()
    exchange = GreetingExchange(ours)
    to_send, rest = exchange.receive(peer_greeting(major=major, minor=7))
    assert to_send == ours.encode()[10:]
    assert rest == b""
    assert exchange.peer is not None
    assert exchange.peer.major == major
    assert exchange.peer.minor == 7


def test_mechanism_mismatch_names_both_mechanisms() -> None:
    exchange = GreetingExchange(Greeting(mechanism=b"NULL"))
    with pytest.raises(MechanismMismatch) as info:
        exchange.receive(peer_greeting(mechanism=b"PLAIN"))
    assert "PLAIN" in str(info.value)
    assert "NULL" in str(info.value)


def test_mechanism_mismatch_raised_only_once_all_64_bytes_arrived() -> None:
    data = peer_greeting(mechanism=b"CURVE")
    exchange = GreetingExchange(Greeting())
    to_send, _ = exchange.receive(data[:63])
    assert len(to_send) == 54
    with pytest.raises(MechanismMismatch):
        exchange.receive(data[63:])


def test_mechanism_compared_over_all_20_bytes() -> None:
    data = bytearray(LIBZMQ_NULL_GREETING)
    data[31] = ord("X")  # NULL, then NULs, then a stray byte inside the 20-byte field
    with pytest.raises(MechanismMismatch):
        GreetingExchange(Greeting()).receive(bytes(data))


def test_padding_is_not_validated() -> None:
    for padding in (0, 2, 0xFFFFFFFFFFFFFFFF, 0x7F00FF00):
        exchange = GreetingExchange(Greeting(padding=1))
        exchange.receive(peer_greeting(padding=padding))
        assert exchange.peer is not None
        assert exchange.peer.padding == padding


def test_as_server_byte_and_filler_are_not_validated() -> None:
    data = bytearray(Greeting(mechanism=b"NULL", as_server=True).encode())
    data[40] = 0xAA  # garbage in the filler
    exchange = GreetingExchange(Greeting())
    exchange.receive(bytes(data))
    assert exchange.peer is not None
    assert exchange.peer.as_server is True
