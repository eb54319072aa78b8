"""Byte-exact tests of ZMTP 3.x framing (RFC 23 'Framing'; notes section 1.4)."""

from __future__ import annotations

import random
import struct
import tracemalloc

import pytest

from zmtp.errors import MalformedFrame, MessageTooLarge, ProtocolError
from zmtp.frames import (
    COMMAND,
    LONG,
    MORE,
    FrameDecoder,
    encode_command,
    encode_frame,
    encode_message,
    frame_header,
)


def long_header(flags: int, size: int) -> bytes:
    return bytes((flags,)) + struct.pack(">Q", size)


def decode_all(chunks: list[bytes], max_frame_size: int = -1) -> list[list[bytes] | bytes]:
    decoder = FrameDecoder(max_frame_size)
    out: list[list[bytes] | bytes] = []
    for chunk in chunks:
        decoder.feed(chunk, out)
    return out


def wire_message(frames: list[bytes]) -> bytes:
    out: list[bytes] = []
    encode_message(frames, out)
    return b"".join(out)


# A stream mixing every shape the decoder must handle: empty frames, multipart messages, long
# frames (first, middle and last), commands (short and long), and a long header on a small body.
STREAM_ITEMS: list[list[bytes] | bytes] = [
    [b""],
    [b"hi", b"there"],
    b"\x04PING\x00\x0a",
    [b"x" * 300, b"", b"y" * 256],
    [b"a", b"b" * 1000],
    b"\x09SUBSCRIBE" + b"t" * 260,
    [b"small-long"],
    [b"last"],
]
STREAM = (
    wire_message([b""])
    + wire_message([b"hi", b"there"])
    + encode_command(b"\x04PING\x00\x0a")
    + wire_message([b"x" * 300, b"", b"y" * 256])
    + wire_message([b"a", b"b" * 1000])
    + encode_command(b"\x09SUBSCRIBE" + b"t" * 260)
    + long_header(LONG, 10)
    + b"small-long"
    + wire_message([b"last"])
)


# --- encoding: canonical forms ----------------------------------------------------------------


def test_empty_final_frame_encodes_as_00_00() -> None:
    assert encode_frame(b"") == b"\x00\x00"


def test_more_frame_hi_encodes_as_01_02_hi() -> None:
    assert encode_frame(b"hi", more=True) == b"\x01\x02hi"


def test_300_byte_final_frame_uses_long_header_02_000000000000012c() -> None:
    body = bytes(range(256)) + b"z" * 44
    assert encode_frame(body) == bytes.fromhex("02 00 00 00 00 00 00 01 2c") + body


def test_long_header_used_only_above_255_bytes() -> None:
    assert frame_header(255, 0) == b"\x00\xff"
    assert frame_header(256, 0) == bytes.fromhex("02 00 00 00 00 00 00 01 00")
    assert encode_frame(b"q" * 255)[:2] == b"\x00\xff"
    assert len(encode_frame(b"q" * 255)) == 257
    assert encode_frame(b"q" * 256)[:9] == long_header(LONG, 256)


def test_frame_header_keeps_more_and_command_bits_when_long() -> None:
    assert frame_header(300, MORE) == long_header(MORE | LONG, 300)
    assert frame_header(300, COMMAND) == long_header(COMMAND | LONG, 300)
    assert frame_header(3, MORE) == b"\x01\x03"
    assert frame_header(3, COMMAND) == b"\x04\x03"


def test_encode_frame_command_flag_is_04() -> None:
    assert encode_frame(b"\x04PONG", command=True) == b"\x04\x05\x04PONG"


def test_encode_command_wraps_body_in_command_frame() -> None:
    assert encode_command(b"\x04PONG") == b"\x04\x05\x04PONG"
    body = b"\x09SUBSCRIBE" + b"t" * 290  # 300 bytes
    assert encode_command(body) == bytes.fromhex("06 00 00 00 00 00 00 01 2c") + body


def test_encode_message_sets_more_on_all_but_last_frame() -> None:
    assert wire_message([b"a", b"", b"bc"]) == b"\x01\x01a" + b"\x01\x00" + b"\x00\x02bc"


def test_encode_message_long_frames_get_long_plus_more_flags() -> None:
    big = b"L" * 300
    assert wire_message([big, big]) == (
        long_header(LONG | MORE, 300) + big + long_header(LONG, 300) + big
    )


def test_encode_message_appends_header_and_body_alternately_without_copying() -> None:
    first = bytearray(b"one")
    second = memoryview(b"w" * 400)
    out: list[bytes | bytearray | memoryview] = []
    encode_message([first, second], out)
    assert len(out) == 4
    assert out[0] == b"\x01\x03"
    assert out[1] is first
    assert out[2] == long_header(LONG, 400)
    assert out[3] is second


def test_encode_message_appends_to_existing_out_list() -> None:
    out: list[bytes | bytearray | memoryview] = [b"already"]
    encode_message([b"x"], out)
    assert out == [b"already", b"\x00\x01", b"x"]


def test_encode_message_refuses_zero_frames() -> None:
    with pytest.raises(ValueError):
        encode_message([], [])


# --- decoding: chunking ---------------------------------------------------------------------


def test_decoder_decodes_whole_stream_in_one_chunk() -> None:
    assert decode_all([STREAM]) == STREAM_ITEMS


def test_decoder_same_result_one_byte_at_a_time() -> None:
    chunks = [STREAM[i : i + 1] for i in range(len(STREAM))]
    assert decode_all(chunks) == STREAM_ITEMS


def test_decoder_same_result_for_every_single_split_point() -> None:
    for split in range(len(STREAM) + 1):
        assert decode_all([STREAM[:split], STREAM[split:]]) == STREAM_ITEMS, split


def test_decoder_same_result_for_random_chunkings() -> None:
    rng = random.Random(23)
    for _ in range(300):
        chunks = []
        pos = 0
        while pos < len(STREAM):
            size = rng.choice((1, 2, 3, 7, 9, 10, 64, 255, 300, 1000))
            chunks.append(STREAM[pos : pos + size])
            pos += size
        assert decode_all(chunks) == STREAM_ITEMS


def test_decoder_accepts_bytearray_and_memoryview_chunks() -> None:
    half = len(STREAM) // 2
    chunks = [bytearray(STREAM[:half]), memoryview(STREAM[half:])]
    assert decode_all(chunks) == STREAM_ITEMS  # type: ignore[arg-type]


def test_decoder_does_not_alias_callers_mutable_buffer() -> None:
    # A caller reading with recv_into() reuses one buffer for every chunk.
    decoder = FrameDecoder()
    out: list[list[bytes] | bytes] = []
    decoder.feed(b"\x00\x06ab", out)
    buffer = bytearray(b"cd")
    decoder.feed(buffer, out)
    buffer[:] = b"XY"  # the caller reuses its buffer for the next read
    decoder.feed(b"ef", out)
    assert out == [[b"abcdef"]]


def test_decoder_empty_chunk_is_harmless() -> None:
    decoder = FrameDecoder()
    out: list[list[bytes] | bytes] = []
    decoder.feed(b"", out)
    decoder.feed(b"\x00", out)
    decoder.feed(b"", out)
    decoder.feed(b"\x01", out)
    decoder.feed(b"", out)
    decoder.feed(b"z", out)
    assert out == [[b"z"]]


def test_body_split_across_many_chunks_is_reassembled() -> None:
    body = bytes(range(256)) * 40  # 10240 bytes
    data = long_header(LONG, len(body)) + body
    decoder = FrameDecoder()
    out: list[list[bytes] | bytes] = []
    for pos in range(0, len(data), 97):
        decoder.feed(data[pos : pos + 97], out)
        if pos + 97 < len(data):
            assert out == []
    assert out == [[body]]


def test_bytes_after_a_straddling_body_are_decoded_in_the_same_feed() -> None:
    decoder = FrameDecoder()
    out: list[list[bytes] | bytes] = []
    decoder.feed(b"\x00\x05ab", out)
    decoder.feed(b"cde\x00\x01f\x04\x05\x04PONG", out)
    assert out == [[b"abcde"], [b"f"], b"\x04PONG"]


# --- decoding: what is yielded ----------------------------------------------------------------


def test_message_is_a_list_and_command_body_is_bytes() -> None:
    out = decode_all([b"\x00\x02hi" + b"\x04\x05\x04PONG"])
    assert out == [[b"hi"], b"\x04PONG"]
    assert type(out[0]) is list
    assert type(out[1]) is bytes


def test_message_frames_are_bytes() -> None:
    out = decode_all([bytearray(b"\x01\x01a\x00\x01b")])  # type: ignore[list-item]
    assert out == [[b"a", b"b"]]
    assert all(type(frame) is bytes for frame in out[0])


def test_multipart_message_is_yielded_only_when_complete() -> None:
    decoder = FrameDecoder()
    out: list[list[bytes] | bytes] = []
    decoder.feed(b"\x01\x01a\x01\x00", out)
    assert out == []
    decoder.feed(b"\x00\x01c", out)
    assert out == [[b"a", b"", b"c"]]


def test_long_header_with_small_body_is_accepted() -> None:
    assert decode_all([long_header(LONG, 5) + b"hello"]) == [[b"hello"]]
    assert decode_all([long_header(LONG | MORE, 0) + b"\x00\x00"]) == [[b"", b""]]


def test_long_header_command_with_small_body_is_accepted() -> None:
    assert decode_all([long_header(LONG | COMMAND, 5) + b"\x04PONG"]) == [b"\x04PONG"]


def test_largest_63_bit_size_is_not_malformed() -> None:
    decoder = FrameDecoder()
    out: list[list[bytes] | bytes] = []
    decoder.feed(long_header(LONG, 2**63 - 1) + b"abc", out)
    assert out == []


def test_commands_counts_command_frames_only() -> None:
    decoder = FrameDecoder()
    out: list[list[bytes] | bytes] = []
    assert decoder.commands == 0
    decoder.feed(b"\x00\x01a" + b"\x01\x01b\x00\x01c", out)
    assert decoder.commands == 0
    decoder.feed(b"\x04\x05\x04PONG" + b"\x00\x00" + b"\x04\x05\x04PO", out)
    assert decoder.commands == 1
    decoder.feed(b"NG", out)  # a command whose body straddled two chunks
    assert decoder.commands == 2
    decoder.feed(long_header(LONG | COMMAND, 300) + b"\x03ABC" + b"d" * 296, out)
    assert decoder.commands == 3
    assert [type(item) for item in out] == [list, list, bytes, list, bytes, bytes]


def test_in_message_tracks_unfinished_multipart_message() -> None:
    decoder = FrameDecoder()
    out: list[list[bytes] | bytes] = []
    assert not decoder.in_message
    decoder.feed(b"\x01\x01a", out)
    assert decoder.in_message
    decoder.feed(b"\x01\x03b", out)  # second MORE frame, body incomplete
    assert decoder.in_message
    decoder.feed(b"cd", out)
    assert decoder.in_message
    decoder.feed(b"\x00\x01e", out)
    assert not decoder.in_message
    assert out == [[b"a", b"bcd", b"e"]]


def test_in_message_false_after_single_frames_and_commands() -> None:
    decoder = FrameDecoder()
    out: list[list[bytes] | bytes] = []
    decoder.feed(b"\x00\x01a\x04\x05\x04PONG", out)
    assert not decoder.in_message


# --- decoding: rejected headers ---------------------------------------------------------------


@pytest.mark.parametrize("bit", [0x08, 0x10, 0x20, 0x40, 0x80])
def test_reserved_flag_bit_is_rejected(bit: int) -> None:
    with pytest.raises(MalformedFrame):
        decode_all([bytes((bit, 1)) + b"x"])


@pytest.mark.parametrize("flags", [0xF0, 0xF1, 0x09, 0x0A])
def test_reserved_bits_combined_with_valid_bits_are_rejected(flags: int) -> None:
    header = long_header(flags, 1) if flags & LONG else bytes((flags, 1))
    with pytest.raises(MalformedFrame):
        decode_all([header + b"x"])


def test_reserved_bits_rejected_before_the_body_arrives() -> None:
    with pytest.raises(MalformedFrame):
        decode_all([b"\x80\xff"])


def test_reserved_bits_rejected_when_header_arrives_byte_by_byte() -> None:
    decoder = FrameDecoder()
    out: list[list[bytes] | bytes] = []
    decoder.feed(b"\x08", out)
    with pytest.raises(MalformedFrame):
        decoder.feed(b"\x01", out)


@pytest.mark.parametrize("flags", [COMMAND | MORE, COMMAND | MORE | LONG])
def test_command_with_more_flag_is_rejected(flags: int) -> None:
    header = long_header(flags, 5) if flags & LONG else bytes((flags, 5))
    with pytest.raises(MalformedFrame):
        decode_all([header + b"\x04PONG"])


@pytest.mark.parametrize("size", [2**63, 2**63 + 1, 2**64 - 1])
def test_long_size_with_top_bit_set_is_rejected(size: int) -> None:
    with pytest.raises(MalformedFrame):
        decode_all([long_header(LONG, size)])


def test_malformed_frame_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError):
        decode_all([b"\x05\x00"])


# --- decoding: MAXMSGSIZE -------------------------------------------------------------------


def test_max_frame_size_allows_frame_of_exactly_the_limit() -> None:
    assert decode_all([b"\x00\x0a" + b"0123456789"], max_frame_size=10) == [[b"0123456789"]]


def test_max_frame_size_rejects_frame_one_byte_larger() -> None:
    with pytest.raises(MessageTooLarge):
        decode_all([b"\x00\x0b" + b"0123456789a"], max_frame_size=10)


def test_max_frame_size_rejects_command_frames_too() -> None:
    with pytest.raises(MessageTooLarge):
        decode_all([b"\x04\x0b\x04PINGabcdef"], max_frame_size=10)


def test_max_frame_size_is_per_frame_not_per_message() -> None:
    frames = [b"a" * 10, b"b" * 10, b"c" * 10]
    assert decode_all([wire_message(frames)], max_frame_size=10) == [frames]


def test_max_frame_size_checked_on_header_before_body_arrives() -> None:
    decoder = FrameDecoder(max_frame_size=1000)
    with pytest.raises(MessageTooLarge):
        decoder.feed(long_header(LONG, 2**62), [])


def test_max_frame_size_checked_on_short_header_alone() -> None:
    decoder = FrameDecoder(max_frame_size=3)
    with pytest.raises(MessageTooLarge):
        decoder.feed(b"\x01\x04", [])


def test_max_frame_size_checked_when_long_header_arrives_byte_by_byte() -> None:
    decoder = FrameDecoder(max_frame_size=1000)
    header = long_header(LONG | COMMAND, 2**62)
    for byte in header[:-1]:
        decoder.feed(bytes((byte,)), [])
    with pytest.raises(MessageTooLarge):
        decoder.feed(header[-1:], [])


def test_max_frame_size_zero_allows_only_empty_frames() -> None:
    assert decode_all([b"\x01\x00\x00\x00"], max_frame_size=0) == [[b"", b""]]
    with pytest.raises(MessageTooLarge):
        decode_all([b"\x00\x01x"], max_frame_size=0)


def test_negative_max_frame_size_means_no_limit() -> None:
    body = b"p" * 5000
    assert decode_all([long_header(LONG, 5000) + body]) == [[body]]
    assert decode_all([long_header(LONG, 5000) + body], max_frame_size=-1) == [[body]]


def test_huge_announced_size_without_limit_allocates_nothing_big() -> None:
    decoder = FrameDecoder()
    out: list[list[bytes] | bytes] = []
    header = long_header(LONG, 2**62)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        decoder.feed(header + b"abcd", out)
        decoder.feed(b"efgh", out)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert out == []
    assert peak < 64 * 1024
