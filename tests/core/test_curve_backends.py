"""The two CURVE box backends (pure Python, libsodium through PyNaCl) are interchangeable.

Both are installed in the test environment (PyNaCl is a test dependency), so every test here
runs both; the protocol and interop tests run once per backend through ``curve_backend``.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zmtp import curve_box, curve_crypto, curve_nacl
from zmtp.curve_box import BoxError

KEYS = st.binary(min_size=32, max_size=32)
NONCES = st.binary(min_size=24, max_size=24)


def test_both_backends_are_available_here() -> None:
    """The test environment has both, so no backend test is silently skipped."""
    assert curve_crypto.available_backends() == ["pynacl", "python"]


@given(message=st.binary(max_size=5000), nonce=NONCES, key=KEYS)
def test_seal_gives_the_same_bytes(message: bytes, nonce: bytes, key: bytes) -> None:
    """crypto_secretbox: identical boxes, and each backend opens the other's."""
    box = curve_box.seal(message, nonce, key)
    assert curve_nacl.seal(message, nonce, key) == box
    assert curve_nacl.open_box(box, nonce, key) == message
    assert curve_box.open_box(curve_nacl.seal(message, nonce, key), nonce, key) == message


@given(public_secret=KEYS, secret=KEYS)
def test_shared_key_gives_the_same_bytes(public_secret: bytes, secret: bytes) -> None:
    """crypto_box_beforenm on real public keys: identical precomputed keys."""
    public = curve_nacl.bindings.crypto_scalarmult_base(public_secret)
    assert curve_nacl.shared_key(public, secret) == curve_box.shared_key(public, secret)


@pytest.mark.parametrize("backend", [curve_box, curve_nacl])
def test_tampering_raises_box_error(backend: object) -> None:
    """A flipped bit and a wrong key give the same BoxError from both backends."""
    key, nonce = os.urandom(32), os.urandom(24)
    box = bytearray(curve_box.seal(b"attack at dawn", nonce, key))
    box[20] ^= 1
    with pytest.raises(BoxError):
        backend.open_box(bytes(box), nonce, key)  # type: ignore[attr-defined]
    with pytest.raises(BoxError):
        backend.open_box(curve_box.seal(b"x", nonce, key), nonce, os.urandom(32))  # type: ignore[attr-defined]
    with pytest.raises(BoxError):
        backend.open_box(b"short", nonce, key)  # type: ignore[attr-defined]


@pytest.mark.parametrize("backend", [curve_box, curve_nacl])
def test_low_order_public_key_raises_box_error(backend: object) -> None:
    """An all-zero public key (a low-order point) is refused by both."""
    with pytest.raises(BoxError):
        backend.shared_key(bytes(32), os.urandom(32))  # type: ignore[attr-defined]


def test_use_backend_switches_and_refuses_unknown_names() -> None:
    """use_backend swaps the functions the mechanism calls; unknown names are an error."""
    previous = curve_crypto.backend
    try:
        curve_crypto.use_backend("python")
        assert curve_crypto.seal is curve_box.seal
        curve_crypto.use_backend("pynacl")
        assert curve_crypto.seal is curve_nacl.seal
        with pytest.raises(ValueError, match="unknown CURVE backend"):
            curve_crypto.use_backend("openssl")
    finally:
        curve_crypto.use_backend(previous)
