"""CURVE key helpers: shape, self-consistency, and agreement with libzmq through pyzmq."""

from __future__ import annotations

import pytest
import zmq

from zmtp import z85
from zmtp.curve_keys import curve_keypair, curve_public

needs_curve = pytest.mark.skipif(not zmq.has("curve"), reason="libzmq built without CURVE")

# RFC 7748 section 6.1 (Alice): X25519 is the function libzmq's CURVE keys come from.
RFC7748_SECRET = bytes.fromhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
RFC7748_PUBLIC = bytes.fromhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")


def test_keypair_shape() -> None:
    public, secret = curve_keypair()
    for key in (public, secret):
        assert isinstance(key, bytes)
        assert len(key) == 40
        assert set(key) <= set(z85.ALPHABET)
        assert len(z85.decode(key)) == 32
    assert public != secret


def test_keypairs_are_fresh() -> None:
    assert len({curve_keypair()[1] for _ in range(20)}) == 20


def test_curve_public_of_our_secret_is_our_public() -> None:
    for _ in range(20):
        public, secret = curve_keypair()
        assert curve_public(secret) == public
        assert curve_public(secret.decode()) == public
        assert curve_public(z85.decode(secret)) == public


def test_rfc7748_vector() -> None:
    assert curve_public(RFC7748_SECRET) == z85.encode(RFC7748_PUBLIC)
    assert curve_public(z85.encode(RFC7748_SECRET)) == z85.encode(RFC7748_PUBLIC)


def test_raw_secret_accepts_bytes_like() -> None:
    public = curve_public(RFC7748_SECRET)
    assert curve_public(bytearray(RFC7748_SECRET)) == public  # type: ignore[arg-type]
    assert curve_public(memoryview(RFC7748_SECRET)) == public  # type: ignore[arg-type]


@needs_curve
def test_libzmq_derives_our_public_from_our_secret() -> None:
    for _ in range(20):
        public, secret = curve_keypair()
        assert zmq.curve_public(secret) == public


@needs_curve
def test_we_derive_libzmq_public_from_libzmq_secret() -> None:
    for _ in range(20):
        zmq_public, zmq_secret = zmq.curve_keypair()
        assert curve_public(zmq_secret) == zmq_public
        assert curve_public(zmq_secret.decode()) == zmq_public
        assert curve_public(z85.decode(zmq_secret)) == zmq_public


@needs_curve
def test_unclamped_secrets_agree_with_libzmq() -> None:
    """libzmq clamps the scalar itself, so any 32 bytes are a secret; so must we."""
    for raw in (b"\x00" * 32, b"\xff" * 32, bytes(range(32)), RFC7748_SECRET):
        assert curve_public(raw) == zmq.curve_public(z85.encode(raw))


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        (b"", "must be 40 Z85 characters or 32 raw bytes, got 0 bytes"),
        (b"\x00" * 31, "must be 40 Z85 characters or 32 raw bytes, got 31 bytes"),
        (b"\x00" * 33, "must be 40 Z85 characters or 32 raw bytes, got 33 bytes"),
        (b"0" * 39, "must be 40 Z85 characters or 32 raw bytes, got 39 bytes"),
        (b"0" * 41, "must be 40 Z85 characters or 32 raw bytes, got 41 bytes"),
        ("0" * 32, r"must be 40 Z85 characters, got 32 characters"),
        ("0" * 39, r"must be 40 Z85 characters, got 39 characters"),
    ],
)
def test_curve_public_refuses_wrong_length(secret: bytes | str, message: str) -> None:
    with pytest.raises(ValueError, match=f"^CURVE secret key {message}$"):
        curve_public(secret)


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        ("0" * 39 + "~", r"not valid Z85: invalid Z85 character '~' at position 39"),
        (b"0" * 10 + b" " + b"0" * 29, r"not valid Z85: invalid Z85 character ' ' at position 10"),
        ("0" * 35 + "é" + "0" * 4, r"not valid Z85: invalid Z85 character 'é' at position 35"),
        ("#" * 40, r"not valid Z85: Z85 group '#####' at position 0 encodes a value above"),
    ],
)
def test_curve_public_refuses_bad_z85(secret: bytes | str, message: str) -> None:
    with pytest.raises(ValueError, match=f"^CURVE secret key is {message}"):
        curve_public(secret)
