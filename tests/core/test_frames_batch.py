"""encode_messages, the sender's batch encoder: the same bytes as encode_message one by one."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from zmtp.frames import COPY_BELOW, encode_message, encode_messages

SIZES = st.sampled_from([0, 1, 255, 256, COPY_BELOW - 1, COPY_BELOW, COPY_BELOW + 1])
FRAMES = st.lists(SIZES.map(lambda size: bytes([size % 251]) * size), min_size=1, max_size=3)


@given(st.lists(FRAMES, max_size=20))
def test_batch_equals_one_by_one(messages: list[list[bytes]]) -> None:
    """Same bytes in the same order, whatever the mix of sizes and frame counts."""
    one_by_one: list[bytes | bytearray | memoryview] = []
    for frames in messages:
        encode_message(frames, one_by_one)
    batched: list[bytes | bytearray | memoryview] = []
    encode_messages(messages, batched)
    assert b"".join(batched) == b"".join(one_by_one)


def test_large_bodies_are_not_copied() -> None:
    """A body of COPY_BELOW bytes or more is in the output as the very object given."""
    big = b"x" * COPY_BELOW
    out: list[bytes | bytearray | memoryview] = []
    encode_messages([[b"small"], [big], [b"tail"]], out)
    assert any(buffer is big for buffer in out)
    assert len(out) == 4  # small chunk, header, big body, tail chunk


def test_small_messages_share_one_buffer() -> None:
    """A thousand 16-byte messages become one buffer: one copy, one sendmsg entry."""
    out: list[bytes | bytearray | memoryview] = []
    encode_messages([[b"y" * 16]] * 1000, out)
    assert len(out) == 1 and len(out[0]) == 1000 * 18


def test_short_envelopes_share_one_buffer() -> None:
    """Two short frames (a REQ/REP envelope and its body) are copied into the shared buffer."""
    out: list[bytes | bytearray | memoryview] = []
    encode_messages([[b"", b"y" * 16], [b"id", b"z" * 255]] * 50, out)
    assert len(out) == 1 and len(out[0]) == 50 * (2 + 18 + 4 + 257)
