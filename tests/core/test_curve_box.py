"""zmtp.curve_box: NaCl known answers, a plain reference implementation, tamper detection.

Known-answer vectors come from NaCl's own test programs (nacl-20110221 ``tests/*.c`` with their
``.out`` files), as carried unchanged in libsodium's ``test/default/`` directory: each vector below
names the file it was copied from (libsodium commit 7014b204b6fbd448c7b653aa69762581d8c463ab,
https://github.com/jedisct1/libsodium/tree/master/test/default). They all use one scenario: Alice
and Bob's keys, the shared secret, its HSalsa20 hash "firstkey", one 24-byte nonce and a 131-byte
message.
"""

from __future__ import annotations

import hashlib
import struct

import pytest
import zmq
from cryptography.hazmat.primitives.poly1305 import Poly1305
from hypothesis import given, settings
from hypothesis import strategies as st

from zmtp import curve_box, z85
from zmtp.curve_box import BoxError, open_box, seal, shared_key

needs_curve = pytest.mark.skipif(not zmq.has("curve"), reason="libzmq built without CURVE")

# --- NaCl test vectors ---------------------------------------------------------------------

# test/default/box.c, scalarmult.c: alicesk, bobpk; box2.c: bobsk, alicepk;
# scalarmult.exp lines 1-2 (alicepk, bobpk as computed from the secrets).
ALICE_SK = bytes.fromhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
ALICE_PK = bytes.fromhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
BOB_SK = bytes.fromhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")
BOB_PK = bytes.fromhex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")

# test/default/scalarmult.exp line 3: X25519(alicesk, bobpk); also core1.c's input "shared".
SHARED_SECRET = bytes.fromhex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742")

# test/default/core1.exp: HSalsa20(shared, 16 zero bytes) = crypto_box_beforenm(bobpk, alicesk).
FIRSTKEY = bytes.fromhex("1b27556473e985d462cd51197a9a46c76009549eac6474f206c4ee0844f68389")

# test/default/box.c, secretbox.c, stream.c: the nonce.
NONCE = bytes.fromhex("69696ee955b62b73cd62bda875fc73d68219e0036b7a0b37")

# test/default/core2.exp: HSalsa20(firstkey, nonce[:16]), the XSalsa20 subkey.
SECONDKEY = bytes.fromhex("dc908dda0b9344a953629b733820778880f3ceb421bb61b91cbd4c3e66256ce4")

# test/default/box.c (and secretbox.c): m[32:163], the 131-byte message after ZEROBYTES.
MESSAGE = bytes.fromhex(
    "be075fc53c81f2d5cf141316ebeb0c7b5228c52a4c62cbd44b66849b64244ffc"
    "e5ecbaaf33bd751a1ac728d45e6c61296cdc3c01233561f41db66cce314adb31"
    "0e3be8250c46f06dceea3a7fa1348057e2f6556ad6b1318a024a838f21af1fde"
    "048977eb48f59ffd4924ca1c60902e52f0a089bc76897040e082f93776384864"
    "5e0705"
)

# test/default/box.exp (= secretbox.exp, = box2.c's c[16:163]): c[16:163], i.e. the
# 16-byte Poly1305 tag followed by the 131-byte ciphertext.
BOX = bytes.fromhex(
    "f3ffc7703f9400e52a7dfb4b3d3305d9"
    "8e993b9f48681273c29650ba32fc76ce48332ea7164d96a4476fb8c531a1186a"
    "c0dfc17c98dce87b4da7f011ec48c97271d2c20f9b928fe2270d6fb863d51738"
    "b48eeee314a7cc8ab932164548e526ae90224368517acfeabd6bb3732bc0e9da"
    "99832b61ca01b6de56244a9e88d5f9b37973f622a43d14a6599b1f654cb45a74"
    "e355a5"
)

# test/default/box.c, box2.c, scalarmult.c: a low-order point (X25519 output all zeros).
SMALL_ORDER_P = bytes.fromhex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800")

# test/default/stream.exp line 66: the first 63 bytes of crypto_stream (XSalsa20) under
# firstkey and the nonce (stream3.exp gives the same first 32).
STREAM_PREFIX = bytes.fromhex(
    "eea6a7251c1e72916d11c2cb214d3c252539121d8e234e652d651fa4c8cff880"
    "309e645a74e9e0a60d8243acd9177ab51a1beb8d5a2f5d700c093c5e558557"
)

# test/default/stream.exp line 1 (= stream2.exp line 1): SHA-256 of the first 4194304 bytes
# of that keystream.
STREAM_4MIB_SHA256 = "662b9d0e3463029156069b12f918691a98f7dfb2ca0393c96bbfc6b1fbd630a2"

# test/default/stream.exp line 67: 192 bytes of that keystream from block 2**32 - 1
# (crypto_stream_xsalsa20_xor_ic with ic = 2**32 - 1): the 64-bit block counter carries.
STREAM_AT_2_32_MINUS_1 = bytes.fromhex(
    "b46af0bf761b78533e01a0dd7e07216c9710ef35f09a28d1e5fa469b602472ca"
    "5085f6dbcc6a6b51fb89986f8feca85658d05701f5677d0bb340a1f2c7695472"
    "19f5420c62ffff7d1304dad82b6dec2bdc59ec12a9e18a774eed128c2c90610a"
    "9d4c75c0817d64817a76bbc12746971ae897af210a072c1bc9fb044e086b7bfe"
    "85fad95d5c2bbb28c12de5755b1ccde63e93cc892b4d2bcbd7dc0706b094c249"
    "2e329e3b9a98a9cbc7d01031cf1d5861f576e1291df6286c28146b0b4df9ad44"
)

# test/default/core4.c and core4.exp: crypto_core_salsa20(out, in, k, "expand 32-byte k"),
# the Salsa20 block function: in[0:8] is the nonce, in[8:16] the little-endian block counter.
CORE4_KEY = bytes([*range(1, 17), *range(201, 217)])
CORE4_IN = bytes(range(101, 117))
CORE4_OUT = bytes(
    [
        69, 37, 68, 39, 41, 15, 107, 193, 255, 139, 122, 6, 170, 233, 217, 98,
        89, 144, 182, 106, 21, 51, 200, 65, 239, 49, 222, 34, 215, 114, 40, 126,
        104, 197, 7, 225, 197, 153, 31, 2, 102, 78, 76, 176, 84, 245, 246, 184,
        177, 160, 133, 130, 6, 72, 149, 119, 192, 195, 132, 236, 234, 103, 246, 74,
    ]
)  # fmt: skip

# --- a plain reference, one block at a time, straight from the Salsa20 specification ---------

_M32 = 0xFFFF_FFFF
_SIGMA = struct.unpack("<4I", b"expand 32-byte k")


def _rotl(value: int, shift: int) -> int:
    return ((value << shift) | (value >> (32 - shift))) & _M32


def _quarterround(y: list[int], i0: int, i1: int, i2: int, i3: int) -> None:
    y[i1] ^= _rotl((y[i0] + y[i3]) & _M32, 7)
    y[i2] ^= _rotl((y[i1] + y[i0]) & _M32, 9)
    y[i3] ^= _rotl((y[i2] + y[i1]) & _M32, 13)
    y[i0] ^= _rotl((y[i3] + y[i2]) & _M32, 18)


def _salsa20_rounds(state: list[int]) -> list[int]:
    x = list(state)
    for _ in range(10):
        # columnround
        _quarterround(x, 0, 4, 8, 12)
        _quarterround(x, 5, 9, 13, 1)
        _quarterround(x, 10, 14, 2, 6)
        _quarterround(x, 15, 3, 7, 11)
        # rowround
        _quarterround(x, 0, 1, 2, 3)
        _quarterround(x, 5, 6, 7, 4)
        _quarterround(x, 10, 11, 8, 9)
        _quarterround(x, 15, 12, 13, 14)
    return x


def _initial_state(key: bytes, middle: bytes) -> list[int]:
    k = struct.unpack("<8I", key)
    n = struct.unpack("<4I", middle)
    return [_SIGMA[0], *k[:4], _SIGMA[1], *n, _SIGMA[2], *k[4:], _SIGMA[3]]


def ref_salsa20_block(key: bytes, nonce8: bytes, counter: int) -> bytes:
    state = _initial_state(key, nonce8 + counter.to_bytes(8, "little"))
    out = _salsa20_rounds(state)
    return struct.pack("<16I", *[(a + b) & _M32 for a, b in zip(out, state, strict=True)])


def ref_hsalsa20(key: bytes, inp: bytes) -> bytes:
    x = _salsa20_rounds(_initial_state(key, inp))
    return struct.pack("<8I", *[x[i] for i in (0, 5, 10, 15, 6, 7, 8, 9)])


def ref_xsalsa20(key: bytes, nonce: bytes, length: int, counter: int = 0) -> bytes:
    subkey = ref_hsalsa20(key, nonce[:16])
    blocks = (length + 63) // 64
    return b"".join(ref_salsa20_block(subkey, nonce[16:], counter + i) for i in range(blocks))[
        :length
    ]


def ref_seal(message: bytes, nonce: bytes, key: bytes) -> bytes:
    stream = ref_xsalsa20(key, nonce, 32 + len(message))
    ciphertext = bytes(m ^ s for m, s in zip(message, stream[32:], strict=True))
    return Poly1305.generate_tag(stream[:32], ciphertext) + ciphertext


def _words(key: bytes) -> tuple[int, ...]:
    return struct.unpack("<8I", key)


# --- the reference itself against NaCl ------------------------------------------------------


def test_reference_matches_nacl() -> None:
    assert ref_hsalsa20(SHARED_SECRET, bytes(16)) == FIRSTKEY
    assert ref_hsalsa20(FIRSTKEY, NONCE[:16]) == SECONDKEY
    assert ref_salsa20_block(CORE4_KEY, CORE4_IN[:8], int.from_bytes(CORE4_IN[8:], "little")) == (
        CORE4_OUT
    )
    assert ref_xsalsa20(FIRSTKEY, NONCE, 63) == STREAM_PREFIX
    assert ref_seal(MESSAGE, NONCE, FIRSTKEY) == BOX


# --- known answers ---------------------------------------------------------------------------


def test_hsalsa20_vectors() -> None:
    assert curve_box._hsalsa20(SHARED_SECRET, bytes(16)) == FIRSTKEY
    assert curve_box._hsalsa20(FIRSTKEY, NONCE[:16]) == SECONDKEY
    assert curve_box._subkey(FIRSTKEY, NONCE[:16]) == _words(SECONDKEY)


def test_salsa20_core_vector_on_both_layouts() -> None:
    nonce, counter = CORE4_IN[:8], int.from_bytes(CORE4_IN[8:], "little")
    n0, n1 = struct.unpack("<2I", nonce)
    key = _words(CORE4_KEY)
    assert curve_box._keystream(key, nonce, counter, 1) == CORE4_OUT
    assert curve_box._batch4(key, n0, n1, counter, 1) == CORE4_OUT
    assert curve_box._batch1(key, n0, n1, counter, 1) == CORE4_OUT


def test_xsalsa20_stream_vectors() -> None:
    subkey = curve_box._subkey(FIRSTKEY, NONCE[:16])
    assert curve_box._keystream(subkey, NONCE[16:], 0, 1)[:63] == STREAM_PREFIX
    stream = curve_box._keystream(subkey, NONCE[16:], 0, 4194304 // 64)
    assert hashlib.sha256(stream).hexdigest() == STREAM_4MIB_SHA256
    assert curve_box._keystream(subkey, NONCE[16:], 2**32 - 1, 3) == STREAM_AT_2_32_MINUS_1


def test_shared_key_vector() -> None:
    # crypto_box_beforenm from both sides (box.c with alicesk/bobpk, box2.c with bobsk/alicepk).
    assert shared_key(BOB_PK, ALICE_SK) == FIRSTKEY
    assert shared_key(ALICE_PK, BOB_SK) == FIRSTKEY


def test_secretbox_vector() -> None:
    assert seal(MESSAGE, NONCE, FIRSTKEY) == BOX
    assert open_box(BOX, NONCE, FIRSTKEY) == MESSAGE


def test_box_vector_through_shared_key() -> None:
    # box.c: crypto_box(m, nonce, bobpk, alicesk);
    # box2.c: crypto_box_open(c, nonce, alicepk, bobsk).
    assert seal(MESSAGE, NONCE, shared_key(BOB_PK, ALICE_SK)) == BOX
    assert open_box(BOX, NONCE, shared_key(ALICE_PK, BOB_SK)) == MESSAGE


def test_low_order_public_key_is_refused() -> None:
    with pytest.raises(BoxError, match="low-order"):
        shared_key(SMALL_ORDER_P, ALICE_SK)
    with pytest.raises(BoxError):
        shared_key(bytes(32), BOB_SK)


# --- batched paths against the reference -----------------------------------------------------

KEY = bytes(range(32))
NONCE2 = bytes(range(100, 124))
MESSAGE_LENGTHS = [0, 1, 31, 32, 33, 63, 64, 65, 4096 + 7]
# Around the 4-wide/1-wide switch (_WIDE_MAX blocks, the first 32 keystream bytes being the
# Poly1305 key) and the batch boundary (_BATCH_BLOCKS blocks).
BOUNDARY_LENGTHS = [
    64 * curve_box._WIDE_MAX - 33,
    64 * curve_box._WIDE_MAX - 32,
    64 * curve_box._WIDE_MAX - 31,
    64 * curve_box._BATCH_BLOCKS - 32,
    64 * curve_box._BATCH_BLOCKS - 31,
]


def _message(length: int) -> bytes:
    return bytes((7 * i + 3) & 0xFF for i in range(length))


@pytest.mark.parametrize("length", MESSAGE_LENGTHS + BOUNDARY_LENGTHS)
def test_seal_matches_reference(length: int) -> None:
    message = _message(length)
    box = seal(message, NONCE2, KEY)
    assert len(box) == length + curve_box.MAC_SIZE
    assert box == ref_seal(message, NONCE2, KEY)
    assert open_box(box, NONCE2, KEY) == message


@pytest.mark.parametrize("nblocks", [1, 2, 3, 7, 8, 19, 20, 21, 22, 64, 65])
def test_both_layouts_match_reference(nblocks: int) -> None:
    subkey = ref_hsalsa20(KEY, NONCE2[:16])
    expected = ref_xsalsa20(KEY, NONCE2, 64 * nblocks, counter=5)
    n0, n1 = struct.unpack("<2I", NONCE2[16:])
    assert curve_box._batch4(_words(subkey), n0, n1, 5, nblocks) == expected
    assert curve_box._batch1(_words(subkey), n0, n1, 5, nblocks) == expected


@pytest.mark.parametrize("start", [2**32 - 3, 2**33 - 1, 2**64 - 2**32 - 2])
def test_counter_carries_into_the_high_word(start: int) -> None:
    subkey = ref_hsalsa20(KEY, NONCE2[:16])
    expected = ref_xsalsa20(KEY, NONCE2, 64 * 25, counter=start)
    assert curve_box._keystream(_words(subkey), NONCE2[16:], start, 25) == expected


# --- properties ------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    message=st.binary(max_size=3000),
    nonce=st.binary(min_size=24, max_size=24),
    key=st.binary(min_size=32, max_size=32),
)
def test_round_trip(message: bytes, nonce: bytes, key: bytes) -> None:
    box = seal(message, nonce, key)
    assert len(box) == len(message) + 16
    assert open_box(box, nonce, key) == message


def test_accepts_bytes_like_arguments() -> None:
    # Typed as bytes, but a caller slicing frames may hand over bytearray or memoryview at run
    # time; that must still work (and bytes must come back).
    box = seal(bytearray(MESSAGE), bytearray(NONCE), bytearray(FIRSTKEY))  # type: ignore[arg-type]
    assert box == BOX
    assert isinstance(box, bytes)
    opened = open_box(memoryview(BOX), memoryview(NONCE), bytearray(FIRSTKEY))  # type: ignore[arg-type]
    assert opened == MESSAGE
    assert isinstance(opened, bytes)


def test_every_bit_flip_is_detected() -> None:
    message = _message(40)
    box = seal(message, NONCE2, KEY)
    for i in range(len(box) * 8):
        tampered = bytearray(box)
        tampered[i >> 3] ^= 1 << (i & 7)
        with pytest.raises(BoxError):
            open_box(bytes(tampered), NONCE2, KEY)
    for i in range(len(NONCE2) * 8):
        nonce = bytearray(NONCE2)
        nonce[i >> 3] ^= 1 << (i & 7)
        with pytest.raises(BoxError):
            open_box(box, bytes(nonce), KEY)


def test_wrong_key_truncation_and_extension_are_detected() -> None:
    box = seal(MESSAGE, NONCE, FIRSTKEY)
    with pytest.raises(BoxError):
        open_box(box, NONCE, SECONDKEY)
    with pytest.raises(BoxError):
        open_box(box[:-1], NONCE, FIRSTKEY)
    with pytest.raises(BoxError):
        open_box(box + b"\0", NONCE, FIRSTKEY)
    with pytest.raises(BoxError, match="too short"):
        open_box(box[:15], NONCE, FIRSTKEY)


def test_empty_message_box_is_just_a_tag() -> None:
    box = seal(b"", NONCE, FIRSTKEY)
    assert len(box) == 16
    assert open_box(box, NONCE, FIRSTKEY) == b""


def test_large_forged_box_is_rejected() -> None:
    box = bytearray(seal(_message(200_000), NONCE2, KEY))
    box[-1] ^= 1
    with pytest.raises(BoxError):
        open_box(bytes(box), NONCE2, KEY)


def test_bad_sizes_are_value_errors() -> None:
    with pytest.raises(ValueError, match="key"):
        seal(b"x", NONCE, bytes(31))
    with pytest.raises(ValueError, match="nonce"):
        seal(b"x", bytes(23), FIRSTKEY)
    with pytest.raises(ValueError, match="nonce"):
        open_box(BOX, bytes(25), FIRSTKEY)
    with pytest.raises(ValueError, match="public key"):
        shared_key(bytes(31), ALICE_SK)
    with pytest.raises(ValueError, match="secret key"):
        shared_key(BOB_PK, bytes(33))


def test_box_error_is_a_value_error() -> None:
    assert issubclass(BoxError, ValueError)


@needs_curve
def test_shared_key_agrees_for_libzmq_keypairs() -> None:
    for _ in range(5):
        a_pub, a_sec = (z85.decode(k) for k in zmq.curve_keypair())
        b_pub, b_sec = (z85.decode(k) for k in zmq.curve_keypair())
        key = shared_key(a_pub, b_sec)
        assert key == shared_key(b_pub, a_sec)
        assert len(key) == curve_box.KEY_SIZE
        box = seal(b"hello", bytes(24), key)
        assert open_box(box, bytes(24), shared_key(b_pub, a_sec)) == b"hello"
