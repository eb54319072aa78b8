"""The NaCl box of :mod:`zmtp.curve_box`, done by libsodium through PyNaCl (optional).

Same functions, same bytes, same errors; only faster. PyNaCl is never required: install the
``curve-accel`` extra to get it, and :mod:`zmtp.curve_crypto` picks it up.
"""

from __future__ import annotations

from nacl import bindings
from nacl.exceptions import CryptoError

from zmtp.curve_box import KEY_SIZE, MAC_SIZE, BoxError, check_sizes

__all__ = ["open_box", "seal", "shared_key"]


def shared_key(public_key: bytes, secret_key: bytes) -> bytes:
    """Return crypto_box_beforenm(public, secret); BoxError for a low-order public key."""
    if len(public_key) != KEY_SIZE or len(secret_key) != KEY_SIZE:
        raise ValueError(f"CURVE keys are {KEY_SIZE} bytes")
    try:
        return bytes(bindings.crypto_box_beforenm(bytes(public_key), bytes(secret_key)))
    except CryptoError as exc:
        raise BoxError(f"the peer's public key is a low-order point: {exc}") from None


def seal(message: bytes, nonce: bytes, key: bytes) -> bytes:
    """Return MAC(16) + ciphertext: libsodium's crypto_secretbox, CurveZMQ's wire form."""
    check_sizes(nonce, key)
    return bytes(bindings.crypto_secretbox(bytes(message), bytes(nonce), bytes(key)))


def open_box(box: bytes, nonce: bytes, key: bytes) -> bytes:
    """Return the plaintext of ``box``; BoxError if it does not authenticate."""
    check_sizes(nonce, key)
    if len(box) < MAC_SIZE:
        raise BoxError(f"box too short: {len(box)} bytes, a box has at least {MAC_SIZE}")
    try:
        return bytes(bindings.crypto_secretbox_open(bytes(box), bytes(nonce), bytes(key)))
    except CryptoError:
        raise BoxError("box failed authentication (tampered, or wrong key or nonce)") from None
