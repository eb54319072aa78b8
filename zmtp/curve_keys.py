"""CURVE key pairs in libzmq's format: Curve25519 (X25519) keys written as 40 Z85 characters.

These match pyzmq's ``zmq.curve_keypair()`` and ``zmq.curve_public()`` (libzmq's
``zmq_curve_keypair``/``zmq_curve_public``), so keys made here work with libzmq peers and the
other way round. The arithmetic is X25519 from ``cryptography``, zmtp's one run-time dependency;
libsodium/TweetNaCl, which libzmq uses, compute the same function (RFC 7748), clamping the
secret scalar themselves, so any 32 bytes are a usable secret key.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from zmtp import z85

__all__ = ["KEY_SIZE", "Z85_KEY_SIZE", "curve_keypair", "curve_public"]

KEY_SIZE = 32
"""Bytes in a raw Curve25519 key, public or secret."""

Z85_KEY_SIZE = 40
"""Characters in a Z85-encoded key (5 for every 4 bytes)."""


def curve_keypair() -> tuple[bytes, bytes]:
    """Return a new ``(public, secret)`` key pair, each as 40 Z85 characters (ASCII bytes).

    The order is libzmq's and pyzmq's: public first. The secret comes from the operating
    system's random source through ``cryptography`` (OpenSSL).
    """
    secret = X25519PrivateKey.generate()
    return (
        z85.encode(secret.public_key().public_bytes_raw()),
        z85.encode(secret.private_bytes_raw()),
    )


def curve_public(secret_key: bytes | str) -> bytes:
    """Return the public key, as 40 Z85 characters, that belongs to ``secret_key``.

    ``secret_key`` is 40 Z85 characters (``str`` or ``bytes``, as ``curve_keypair`` returns
    it) or, as ``bytes``, the raw 32-byte key; a 32-character ``str`` is not taken as raw,
    since a key written out as text is Z85. Raises ValueError for any other length or for
    text that is not valid Z85, instead of deriving a public key from a mangled secret.
    """
    raw = _secret_bytes(secret_key)
    public = X25519PrivateKey.from_private_bytes(raw).public_key().public_bytes_raw()
    return z85.encode(public)


def _secret_bytes(secret_key: bytes | str) -> bytes:
    """Return the 32 raw bytes of a Z85 or raw secret key, or raise ValueError saying why."""
    if isinstance(secret_key, str):
        forms, unit = "40 Z85 characters", "characters"
    else:
        secret_key = bytes(secret_key)  # bytearray/memoryview too, like the rest of zmtp
        if len(secret_key) == KEY_SIZE:
            return secret_key
        forms, unit = "40 Z85 characters or 32 raw bytes", "bytes"
    if len(secret_key) != Z85_KEY_SIZE:
        raise ValueError(f"CURVE secret key must be {forms}, got {len(secret_key)} {unit}")
    try:
        return z85.decode(secret_key)
    except ValueError as exc:
        raise ValueError(f"CURVE secret key is not valid Z85: {exc}") from exc
