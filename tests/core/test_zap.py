"""Tests of ZAP requests and reply validation (RFC 27; notes section 3)."""

from __future__ import annotations

import pytest

from zmtp.errors import (
    ZAP_BAD_REQUEST_ID,
    ZAP_BAD_VERSION,
    ZAP_INVALID_METADATA,
    ZAP_INVALID_STATUS_CODE,
    ZAP_MALFORMED_REPLY,
    InvalidMetadata,
    ZapReplyError,
)
from zmtp.metadata import Metadata
from zmtp.zap import ZAP_ENDPOINT, ZapReply, ZapRequest


def reply_frames(
    *,
    version: bytes = b"1.0",
    request_id: bytes = b"1",
    status: bytes = b"200",
    text: bytes = b"OK",
    user_id: bytes = b"alice",
    metadata: bytes = b"",
) -> list[bytes]:
    return [version, request_id, status, text, user_id, metadata]


def test_zap_endpoint_is_libzmq_inproc_name() -> None:
    assert ZAP_ENDPOINT == "inproc://zeromq.zap.01"


# --- requests ---------------------------------------------------------------------------------


def test_request_frames_follow_rfc27_order() -> None:
    request = ZapRequest(b"global", b"127.0.0.1", b"SRV", b"NULL")
    assert request.frames() == [b"1.0", b"1", b"global", b"127.0.0.1", b"SRV", b"NULL"]


def test_request_credentials_come_last_one_frame_each() -> None:
    request = ZapRequest(b"d", b"::1", b"", b"PLAIN", credentials=(b"admin", b"secret"))
    assert request.frames() == [b"1.0", b"1", b"d", b"::1", b"", b"PLAIN", b"admin", b"secret"]


def test_request_uses_version_1_0_and_request_id_1_like_libzmq() -> None:
    request = ZapRequest(b"", b"", b"", b"CURVE", credentials=(b"k" * 32,))
    assert request.version == b"1.0"
    assert request.request_id == b"1"
    assert request.frames()[:2] == [b"1.0", b"1"]


def test_request_frames_use_given_request_id() -> None:
    request = ZapRequest(b"d", b"a", b"i", b"NULL", request_id=b"42")
    assert request.frames()[1] == b"42"


# --- replies ----------------------------------------------------------------------------------


def test_reply_frames_follow_rfc27_order_with_encoded_metadata() -> None:
    reply = ZapReply(b"200", b"OK", b"alice", Metadata([("X-Role", b"admin")]))
    assert reply.frames() == [
        b"1.0",
        b"1",
        b"200",
        b"OK",
        b"alice",
        b"\x06X-Role\x00\x00\x00\x05admin",
    ]


def test_valid_reply_is_parsed() -> None:
    frames = reply_frames(metadata=b"\x06X-Role\x00\x00\x00\x05admin")
    reply = ZapReply.from_frames(frames)
    assert reply.status_code == b"200"
    assert reply.status_text == b"OK"
    assert reply.user_id == b"alice"
    assert reply.metadata == Metadata([("X-Role", b"admin")])
    assert reply.request_id == b"1"
    assert reply.version == b"1.0"


def test_reply_round_trips_through_frames() -> None:
    reply = ZapReply(b"400", b"denied", b"", Metadata([("A", b"1")]))
    assert ZapReply.from_frames(reply.frames()) == reply


def test_only_status_200_is_accepted() -> None:
    assert ZapReply(b"200").accepted
    for code in (b"300", b"400", b"500"):
        assert not ZapReply(code).accepted


@pytest.mark.parametrize("code", [b"100", b"201", b"600", b"", b"20"])
def test_reply_constructor_refuses_other_status_codes(code: bytes) -> None:
    with pytest.raises(ValueError):
        ZapReply(code)


@pytest.mark.parametrize("count", [0, 1, 5, 7, 8])
def test_reply_must_have_exactly_6_frames(count: int) -> None:
    frames = (reply_frames() + [b""] * 3)[:count]
    with pytest.raises(ZapReplyError) as info:
        ZapReply.from_frames(frames)
    assert info.value.code == ZAP_MALFORMED_REPLY


@pytest.mark.parametrize("version", [b"", b"1.1", b"2.0", b"1.0\x00", b"1"])
def test_reply_version_must_be_1_0(version: bytes) -> None:
    with pytest.raises(ZapReplyError) as info:
        ZapReply.from_frames(reply_frames(version=version))
    assert info.value.code == ZAP_BAD_VERSION


@pytest.mark.parametrize("reply_id", [b"", b"2", b"11", b"1\x00"])
def test_reply_must_echo_request_id(reply_id: bytes) -> None:
    with pytest.raises(ZapReplyError) as info:
        ZapReply.from_frames(reply_frames(request_id=reply_id))
    assert info.value.code == ZAP_BAD_REQUEST_ID


def test_reply_echoing_a_custom_request_id_is_accepted() -> None:
    reply = ZapReply.from_frames(reply_frames(request_id=b"abc"), request_id=b"abc")
    assert reply.request_id == b"abc"
    with pytest.raises(ZapReplyError) as info:
        ZapReply.from_frames(reply_frames(request_id=b"1"), request_id=b"abc")
    assert info.value.code == ZAP_BAD_REQUEST_ID


@pytest.mark.parametrize("status", [b"200", b"300", b"400", b"500"])
def test_reply_status_200_300_400_500_accepted(status: bytes) -> None:
    assert ZapReply.from_frames(reply_frames(status=status)).status_code == status


@pytest.mark.parametrize(
    "status", [b"100", b"600", b"201", b"250", b"20", b"2000", b"", b"abc", b"OK"]
)
def test_reply_other_status_codes_rejected(status: bytes) -> None:
    with pytest.raises(ZapReplyError) as info:
        ZapReply.from_frames(reply_frames(status=status))
    assert info.value.code == ZAP_INVALID_STATUS_CODE


@pytest.mark.parametrize(
    "metadata",
    [b"\x00", b"\x05", b"\x01A\x00\x00\x00\x05abc", b"\x03a b\x00\x00\x00\x00"],
)
def test_reply_metadata_must_parse(metadata: bytes) -> None:
    with pytest.raises(ZapReplyError) as info:
        ZapReply.from_frames(reply_frames(metadata=metadata))
    assert info.value.code == ZAP_INVALID_METADATA
    assert isinstance(info.value.__cause__, InvalidMetadata)


def test_reply_checks_run_in_libzmq_order() -> None:
    # libzmq's zap_client checks version, then request id, then status code, then metadata.
    checks = [
        (
            reply_frames(version=b"9", request_id=b"9", status=b"9", metadata=b"\x05"),
            ZAP_BAD_VERSION,
        ),
        (reply_frames(request_id=b"9", status=b"9", metadata=b"\x05"), ZAP_BAD_REQUEST_ID),
        (reply_frames(status=b"9", metadata=b"\x05"), ZAP_INVALID_STATUS_CODE),
        (reply_frames(metadata=b"\x05"), ZAP_INVALID_METADATA),
    ]
    for frames, code in checks:
        with pytest.raises(ZapReplyError) as info:
            ZapReply.from_frames(frames)
        assert info.value.code == code


def test_zap_error_codes_are_libzmq_values() -> None:
    assert ZAP_MALFORMED_REPLY == 0x20000001
    assert ZAP_BAD_REQUEST_ID == 0x20000002
    assert ZAP_BAD_VERSION == 0x20000003
    assert ZAP_INVALID_STATUS_CODE == 0x20000004
    assert ZAP_INVALID_METADATA == 0x20000005
