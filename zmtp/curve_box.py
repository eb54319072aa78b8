"""NaCl's ``crypto_box`` primitives for CurveZMQ (RFC 26), in pure Python over ``cryptography``.

CurveZMQ boxes every command after HELLO with ``crypto_box``: X25519 key agreement, hashed with
HSalsa20 into a 32-byte key, then XSalsa20-Poly1305 (``crypto_secretbox``). ``cryptography`` (the
project's only run-time dependency) has X25519 and Poly1305 but no Salsa20, so the stream cipher
is written here from Bernstein's specifications:

* Salsa20: "Salsa20 specification" (https://cr.yp.to/snuffle/spec.pdf);
* HSalsa20 and XSalsa20: "Extending the Salsa20 nonce" (https://cr.yp.to/snuffle/xsalsa-20110204.pdf);
* the secretbox layout: "Cryptography in NaCl" (https://cr.yp.to/highspeed/naclcrypto-20090310.pdf).

``seal(m, n, k)`` returns ``MAC(16) || ciphertext``, i.e. NaCl's ``crypto_box_afternm`` output
without its 16 leading zero bytes (``crypto_box_BOXZEROBYTES``); those are exactly the bytes
CurveZMQ puts on the wire after a command's nonce.

Speed: the lane trick
---------------------
A Salsa20 block is 20 rounds of 32-bit add/xor/rotate over 16 words, ~2200 word operations; done
one block at a time each is a Python bytecode on a small int, over 100 microseconds per 64-byte
block. But CPython's big-int ``+ ^ & << >>`` cost little more for a 64-kbit number than for a
64-bit one, so many blocks are computed *together*: several 32-bit words are held in one int, each
in its own 64-bit "lane" (the value in the low 32 bits, the upper 32 bits a guard that catches the
carry of an addition), and one Python operation advances every lane at once:

* addition: ``(a + b) & M``, where ``M`` has ``0xFFFFFFFF`` in every lane, drops the carries (two
  32-bit values sum to at most 33 bits, so a carry never reaches the next lane);
* rotation: ``((t << r) | (t >> (32 - r))) & M``; whatever either shift pushes into a guard, or
  out of one lane into the next lane's guard, is cleared by the same mask;
* xor needs nothing.

Two layouts, chosen by the number of blocks (``_WIDE_MAX``):

* many blocks ("1-wide", ``_core``): 16 ints, int ``w`` holding word ``w`` of all N blocks, lane
  ``i`` for block ``i``. The interpreter overhead (~2200 operations) is paid once per batch of up
  to ``_BATCH_BLOCKS`` blocks, and the cost per block tends to that of the big-int arithmetic.
* few blocks ("4-wide", ``_core4``): the four quarter-rounds of a column (or row) round are
  independent, so each int holds four words of every block (the SIMD "diagonal" arrangement:
  ``a = x0,x5,x10,x15``, ``b = x4,x9,x14,x3``, ``c = x8,x13,x2,x7``, ``d = x12,x1,x6,x11``). A
  half-round is then 4 quarter-round steps on 4 ints, and between half-rounds ``b, c, d`` rotate
  their lanes within each block so that the row round lines up the same way; about 860 Python
  operations per 20 rounds instead of 2240, which is what counts when there is little data.

The 1-wide input state is built by multiplying each word by ``REP`` (a 1 in every lane) and adding
``0, 1, 2, ...`` to the counter word; the output words are interleaved into block order by strided
``memoryview`` copies of their ``to_bytes`` images, and the message is xored with the keystream as
two big ints in one operation.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from functools import lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.poly1305 import Poly1305

__all__ = [
    "KEY_SIZE",
    "MAC_SIZE",
    "NONCE_SIZE",
    "BoxError",
    "check_sizes",
    "open_box",
    "seal",
    "shared_key",
]

KEY_SIZE = 32
"""Bytes in a public, secret or precomputed (``crypto_box_beforenm``) key."""
NONCE_SIZE = 24
"""Bytes in an XSalsa20 nonce: 16 feed HSalsa20, the last 8 are Salsa20's nonce."""
MAC_SIZE = 16
"""Bytes of Poly1305 tag at the front of every box."""

_WORD = 0xFFFF_FFFF
_BLOCK = 64
_ZERO_NONCE = bytes(16)
# "expand 32-byte k", the Salsa20 constant for 32-byte keys, as four little-endian words.
_SIGMA0, _SIGMA1, _SIGMA2, _SIGMA3 = struct.unpack("<4I", b"expand 32-byte k")

_BATCH_BLOCKS = 2048
"""Most blocks computed in one batch: 128 KiB of keystream, 16 KiB per 1-wide word int (measured:
larger batches are no faster, and open_box's work on a forged box is bounded by one batch)."""

_WIDE_MAX = 20
"""Largest batch run on the 4-wide layout; from here on the 1-wide one is faster (measured)."""


class BoxError(ValueError):
    """A box failed authentication (tampered, wrong key or nonce)."""


def _core(state: Sequence[int], m: int) -> tuple[int, ...]:
    """Apply Salsa20's 20 rounds (10 double rounds) to 16 lane-packed words, without feed-forward.

    ``m`` is the lane mask: ``0xFFFFFFFF`` for one block, ``0xFFFFFFFF`` in each 64-bit lane for a
    batch. The quarter-round is fully unrolled into local variables because every attribute
    lookup, subscript or call inside the 10x loop costs as much as the arithmetic itself.
    """
    x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14, x15 = state
    for _ in range(10):
        # column round
        t = (x0 + x12) & m
        x4 ^= ((t << 7) | (t >> 25)) & m
        t = (x4 + x0) & m
        x8 ^= ((t << 9) | (t >> 23)) & m
        t = (x8 + x4) & m
        x12 ^= ((t << 13) | (t >> 19)) & m
        t = (x12 + x8) & m
        x0 ^= ((t << 18) | (t >> 14)) & m
        t = (x5 + x1) & m
        x9 ^= ((t << 7) | (t >> 25)) & m
        t = (x9 + x5) & m
        x13 ^= ((t << 9) | (t >> 23)) & m
        t = (x13 + x9) & m
        x1 ^= ((t << 13) | (t >> 19)) & m
        t = (x1 + x13) & m
        x5 ^= ((t << 18) | (t >> 14)) & m
        t = (x10 + x6) & m
        x14 ^= ((t << 7) | (t >> 25)) & m
        t = (x14 + x10) & m
        x2 ^= ((t << 9) | (t >> 23)) & m
        t = (x2 + x14) & m
        x6 ^= ((t << 13) | (t >> 19)) & m
        t = (x6 + x2) & m
        x10 ^= ((t << 18) | (t >> 14)) & m
        t = (x15 + x11) & m
        x3 ^= ((t << 7) | (t >> 25)) & m
        t = (x3 + x15) & m
        x7 ^= ((t << 9) | (t >> 23)) & m
        t = (x7 + x3) & m
        x11 ^= ((t << 13) | (t >> 19)) & m
        t = (x11 + x7) & m
        x15 ^= ((t << 18) | (t >> 14)) & m
        # row round
        t = (x0 + x3) & m
        x1 ^= ((t << 7) | (t >> 25)) & m
        t = (x1 + x0) & m
        x2 ^= ((t << 9) | (t >> 23)) & m
        t = (x2 + x1) & m
        x3 ^= ((t << 13) | (t >> 19)) & m
        t = (x3 + x2) & m
        x0 ^= ((t << 18) | (t >> 14)) & m
        t = (x5 + x4) & m
        x6 ^= ((t << 7) | (t >> 25)) & m
        t = (x6 + x5) & m
        x7 ^= ((t << 9) | (t >> 23)) & m
        t = (x7 + x6) & m
        x4 ^= ((t << 13) | (t >> 19)) & m
        t = (x4 + x7) & m
        x5 ^= ((t << 18) | (t >> 14)) & m
        t = (x10 + x9) & m
        x11 ^= ((t << 7) | (t >> 25)) & m
        t = (x11 + x10) & m
        x8 ^= ((t << 9) | (t >> 23)) & m
        t = (x8 + x11) & m
        x9 ^= ((t << 13) | (t >> 19)) & m
        t = (x9 + x8) & m
        x10 ^= ((t << 18) | (t >> 14)) & m
        t = (x15 + x14) & m
        x12 ^= ((t << 7) | (t >> 25)) & m
        t = (x12 + x15) & m
        x13 ^= ((t << 9) | (t >> 23)) & m
        t = (x13 + x12) & m
        x14 ^= ((t << 13) | (t >> 19)) & m
        t = (x14 + x13) & m
        x15 ^= ((t << 18) | (t >> 14)) & m

    return x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14, x15


_Masks4 = tuple[int, int, int, int, int, int, int]
"""The lane masks :func:`_core4` needs (see :func:`_lanes4`)."""


def _core4(a: int, b: int, c: int, d: int, masks: _Masks4) -> tuple[int, int, int, int]:
    """Salsa20's 20 rounds on the 4-wide layout (see the module docstring), no feed-forward.

    Each half-round is the quarter-round applied to ``a, b, c, d`` (four quarter-rounds per block
    at once), followed by the lane rotation that turns the column arrangement into the row one
    (``b, c, d <- d, c, b`` rotated by 1, 2 and 3 lanes); applying the same rotation after the
    row round restores the column arrangement.
    """
    m, l3, h1, l2, h2, l1, h3 = masks
    # The lane rotation at the end of each half-round turns the column arrangement into the
    # row one and back, so both kinds of round are the same operations: twenty of one kind.
    for _ in range(20):
        t = (a + d) & m
        b ^= ((t << 7) | (t >> 25)) & m
        t = (b + a) & m
        c ^= ((t << 9) | (t >> 23)) & m
        t = (c + b) & m
        d ^= ((t << 13) | (t >> 19)) & m
        t = (d + c) & m
        a ^= ((t << 18) | (t >> 14)) & m
        b, c, d = (
            ((d >> 64) & l3) | ((d << 192) & h1),
            ((c >> 128) & l2) | ((c << 128) & h2),
            ((b >> 192) & l1) | ((b << 64) & h3),
        )
    return a, b, c, d


@lru_cache(maxsize=16)
def _lanes4(n: int) -> tuple[int, int, _Masks4]:
    """``(REP, RAMP, masks)`` for ``n`` blocks of 4 lanes (256 bits) each, for :func:`_core4`.

    ``REP`` has a 1 in lane 0 of every block, ``RAMP`` the block index there. The masks select
    the value bits of all lanes, then of the lanes (0,1,2), (3), (0,1), (2,3), (0), (1,2,3) of
    every block: the pieces that a 1-, 2- or 3-lane rotation takes from each shift.
    """
    rep = int.from_bytes((b"\x01" + bytes(31)) * n, "little")
    ramp = int.from_bytes(b"".join(struct.pack("<Q24x", i) for i in range(n)), "little")

    def select(*lanes: int) -> int:
        return sum(_WORD << (64 * lane) for lane in lanes) * rep

    masks = (
        select(0, 1, 2, 3), select(0, 1, 2), select(3), select(0, 1), select(2, 3),
        select(0), select(1, 2, 3),
    )  # fmt: skip
    return rep, ramp, masks


def _pack4(w0: int, w1: int, w2: int, w3: int) -> int:
    """Four words as the four lanes of one 4-wide block."""
    return w0 | (w1 << 64) | (w2 << 128) | (w3 << 192)


_A4 = _pack4(_SIGMA0, _SIGMA1, _SIGMA2, _SIGMA3)
"""The 4-wide ``a`` vector (x0, x5, x10, x15) is always the Salsa20 constant."""
_OUT4 = ((0, 5, 10, 15), (4, 9, 14, 3), (8, 13, 2, 7), (12, 1, 6, 11))
"""Which state word each lane of ``a, b, c, d`` holds, for writing the output in block order."""


def _hsalsa20(key: bytes, inp: bytes) -> bytes:
    """HSalsa20 ("Extending the Salsa20 nonce", section 2): a 32-byte key from key + 16 bytes.

    The Salsa20 state is laid out as usual with the 16 input bytes where the nonce and counter
    go (words 6..9); after the 20 rounds the diagonal (words 0, 5, 10, 15) and words 6..9 are the
    output, with no feed-forward addition. Run on the 4-wide layout, the faster for one block.
    """
    k0, k1, k2, k3, k4, k5, k6, k7 = struct.unpack("<8I", key)
    i0, i1, i2, i3 = struct.unpack("<4I", inp)
    _, _, masks = _lanes4(1)
    a, b, c, d = _core4(
        _A4, _pack4(k3, i3, k7, k2), _pack4(i2, k6, k1, i1), _pack4(k5, k0, i0, k4), masks
    )
    # a's lanes are words 0, 5, 10, 15; word 6 is d's lane 2, 7 is c's lane 3, 8 is c's lane 0
    # and 9 is b's lane 1.
    return struct.pack(
        "<8I", a & _WORD, (a >> 64) & _WORD, (a >> 128) & _WORD, a >> 192,
        (d >> 128) & _WORD, c >> 192, c & _WORD, (b >> 64) & _WORD,
    )  # fmt: skip


@lru_cache(maxsize=64)
def _subkey(key: bytes, prefix: bytes) -> tuple[int, ...]:
    """XSalsa20's per-nonce key, HSalsa20(key, nonce[:16]), as eight words; cached.

    CurveZMQ MESSAGE nonces are a fixed 16-byte prefix ("CurveZMQMESSAGEC"/"...S") and an 8-byte
    counter, so on a connection ``nonce[:16]`` never changes and this HSalsa20 (a full block of
    rounds, about half the cost of boxing a small message) only needs computing once per direction.
    The cache holds nothing more sensitive than the caller's own ``key``, from which it derives.
    """
    return struct.unpack("<8I", _hsalsa20(key, prefix))


@lru_cache(maxsize=16)
def _lanes(n: int) -> tuple[int, int, int]:
    """``(REP, MASK, RAMP)`` for ``n`` 1-wide lanes: 1, 0xFFFFFFFF and the lane index in each."""
    rep = int.from_bytes(b"\x01\x00\x00\x00\x00\x00\x00\x00" * n, "little")
    ramp = int.from_bytes(struct.pack(f"<{n}Q", *range(n)), "little")
    return rep, rep * _WORD, ramp


def _batch4(key: Sequence[int], n0: int, n1: int, counter: int, n: int) -> bytes:
    """Keystream blocks ``counter .. counter+n-1`` on the 4-wide layout (few blocks)."""
    k0, k1, k2, k3, k4, k5, k6, k7 = key
    rep, ramp, masks = _lanes4(n)
    a = _A4 * rep
    b = _pack4(k3, counter >> 32, k7, k2) * rep
    c = _pack4(counter & _WORD, k6, k1, n1) * rep + ramp
    d = _pack4(k5, k0, n0, k4) * rep
    out = bytearray(_BLOCK * n)
    view = memoryview(out).cast("I")
    mask = masks[0]
    for x, start, words in zip(_core4(a, b, c, d, masks), (a, b, c, d), _OUT4, strict=True):
        # Feed-forward, then copy each lane's low 4 bytes (its word, little-endian) to that
        # word's slot in every block. The 4-byte items are moved, never interpreted, so the
        # memoryview's native byte order does not matter.
        lanes = memoryview(((x + start) & mask).to_bytes(32 * n, "little")).cast("I")
        for lane, word in enumerate(words):
            view[word::16] = lanes[2 * lane :: 8]
    view.release()
    return bytes(out)


def _batch1(key: Sequence[int], n0: int, n1: int, counter: int, n: int) -> bytes:
    """Keystream blocks ``counter .. counter+n-1`` on the 1-wide layout (many blocks)."""
    k0, k1, k2, k3, k4, k5, k6, k7 = key
    rep, mask, ramp = _lanes(n)
    state = (
        _SIGMA0 * rep, k0 * rep, k1 * rep, k2 * rep, k3 * rep, _SIGMA1 * rep, n0 * rep, n1 * rep,
        (counter & _WORD) * rep + ramp, (counter >> 32) * rep, _SIGMA2 * rep, k4 * rep, k5 * rep,
        k6 * rep, k7 * rep, _SIGMA3 * rep,
    )  # fmt: skip
    x = _core(state, mask)
    out = bytearray(_BLOCK * n)
    view = memoryview(out).cast("Q")
    size = 8 * n
    for k in range(0, 16, 2):
        # Words 2k and 2k+1 of every block as one 64-bit lane (low word first: their byte
        # order), then copied 8 bytes at a time to every 8th slot of the output.
        pair = ((x[k] + state[k]) & mask) | (((x[k + 1] + state[k + 1]) & mask) << 32)
        view[k >> 1 :: 8] = memoryview(pair.to_bytes(size, "little")).cast("Q")
    view.release()
    return bytes(out)


def _keystream(key: Sequence[int], nonce: bytes, counter: int, nblocks: int) -> bytes:
    """``nblocks`` 64-byte Salsa20 blocks from block ``counter``, under the 8-byte ``nonce``."""
    n0, n1 = struct.unpack("<2I", nonce)
    parts = []
    while nblocks > 0:
        # Never let a batch carry out of the low counter word: the lanes add 0..n-1 to it alone.
        n = min(nblocks, _BATCH_BLOCKS, (1 << 32) - (counter & _WORD))
        batch = _batch4 if n <= _WIDE_MAX else _batch1
        parts.append(batch(key, n0, n1, counter, n))
        counter += n
        nblocks -= n
    return parts[0] if len(parts) == 1 else b"".join(parts)


def _xor(data: bytes, stream: bytes, offset: int) -> bytes:
    """Xor ``data`` with ``stream[offset:]``: one big-int xor instead of a per-byte loop."""
    size = len(data)
    if not size:
        return b""
    pad = int.from_bytes(memoryview(stream)[offset : offset + size], "little")
    return (int.from_bytes(data, "little") ^ pad).to_bytes(size, "little")


def _blocks_for(size: int) -> int:
    """Salsa20 blocks needed for the 32-byte Poly1305 key plus ``size`` bytes of message."""
    return (size + 32 + _BLOCK - 1) // _BLOCK


def check_sizes(nonce: bytes, key: bytes) -> None:
    """Refuse wrong-sized keys and nonces: a caller bug, so ``ValueError`` and not BoxError."""
    if len(key) != KEY_SIZE:
        raise ValueError(f"key must be {KEY_SIZE} bytes, got {len(key)}")
    if len(nonce) != NONCE_SIZE:
        raise ValueError(f"nonce must be {NONCE_SIZE} bytes, got {len(nonce)}")


def shared_key(public_key: bytes, secret_key: bytes) -> bytes:
    """crypto_box_beforenm: HSalsa20(X25519(secret, public), 16 zero bytes) -> 32-byte key.

    The raw X25519 output is not uniformly random, hence the HSalsa20 hash. A low-order public
    key makes the shared secret all zeros whatever our secret is; ``cryptography`` refuses that
    and so does libsodium, so a peer offering one is rejected with :class:`BoxError`.
    """
    if len(public_key) != KEY_SIZE:
        raise ValueError(f"public key must be {KEY_SIZE} bytes, got {len(public_key)}")
    if len(secret_key) != KEY_SIZE:
        raise ValueError(f"secret key must be {KEY_SIZE} bytes, got {len(secret_key)}")
    private = X25519PrivateKey.from_private_bytes(bytes(secret_key))
    try:
        secret = private.exchange(X25519PublicKey.from_public_bytes(bytes(public_key)))
    except ValueError as exc:
        raise BoxError(
            "X25519 produced an all-zero shared secret: the peer's public key is a low-order point"
        ) from exc
    return _hsalsa20(secret, _ZERO_NONCE)


def seal(message: bytes, nonce: bytes, key: bytes) -> bytes:
    """crypto_secretbox (XSalsa20-Poly1305) with a precomputed key; returns MAC(16) + ciphertext.

    This is NaCl's crypto_box output with the 16 leading zero bytes of BOXZEROBYTES removed —
    exactly the 'box' bytes CurveZMQ puts on the wire. Keystream block 0 starts with the one-time
    Poly1305 key (32 bytes) and the message is xored with the keystream from byte 32 on.
    """
    check_sizes(nonce, key)
    subkey = _subkey(bytes(key), bytes(nonce[:16]))
    stream = _keystream(subkey, nonce[16:], 0, _blocks_for(len(message)))
    ciphertext = _xor(message, stream, 32)
    return Poly1305.generate_tag(stream[:32], ciphertext) + ciphertext


def open_box(box: bytes, nonce: bytes, key: bytes) -> bytes:
    """Inverse of seal; raises BoxError if the MAC does not verify (constant-time compare).

    The tag is checked (by ``Poly1305.verify_tag``, constant time) before any plaintext exists,
    as soon as the first keystream batch (which holds the Poly1305 key) is made: a forged box
    costs at most one batch however long it is.
    """
    check_sizes(nonce, key)
    if len(box) < MAC_SIZE:
        raise BoxError(f"box too short: {len(box)} bytes, a box has at least {MAC_SIZE}")
    box = bytes(box)
    tag, ciphertext = box[:MAC_SIZE], box[MAC_SIZE:]
    subkey = _subkey(bytes(key), bytes(nonce[:16]))
    tail = nonce[16:]
    nblocks = _blocks_for(len(ciphertext))
    first = min(nblocks, _BATCH_BLOCKS)
    stream = _keystream(subkey, tail, 0, first)
    try:
        Poly1305.verify_tag(stream[:32], ciphertext, tag)
    except InvalidSignature:
        raise BoxError("box failed authentication (tampered, or wrong key or nonce)") from None
    if first < nblocks:
        stream += _keystream(subkey, tail, first, nblocks - first)
    return _xor(ciphertext, stream, 32)
