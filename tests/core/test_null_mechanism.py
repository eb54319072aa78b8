"""Tests of the NULL security mechanism on its own (RFC 23 'NULL'; notes 1.7, 3)."""

from __future__ import annotations

import pytest

from zmtp.errors import AuthenticationFailed, PeerRefused, UnexpectedCommand
from zmtp.mechanisms import NullMechanism, ZapContext
from zmtp.metadata import Metadata
from zmtp.zap import ZapReply, ZapRequest

DEALER_METADATA = Metadata([("Socket-Type", b"DEALER"), ("Identity", b"")])
DEALER_READY_BODY = (
    b"\x05READY" + b"\x0bSocket-Type\x00\x00\x00\x06DEALER" + b"\x08Identity\x00\x00\x00\x00"
)
ROUTER_READY_BODY = (
    b"\x05READY" + b"\x0bSocket-Type\x00\x00\x00\x06ROUTER" + b"\x08Identity\x00\x00\x00\x00"
)
ZAP = ZapContext(domain=b"global", address=b"127.0.0.1", identity=b"SRV")


def started(zap: ZapContext | None = None) -> NullMechanism:
    mechanism = NullMechanism()
    mechanism.start(DEALER_METADATA, zap)
    return mechanism


def test_null_mechanism_name_and_as_server() -> None:
    mechanism = NullMechanism()
    assert mechanism.name == b"NULL"
    assert mechanism.as_server is False


def test_nothing_queued_before_start() -> None:
    mechanism = NullMechanism()
    assert mechanism.commands_to_send == []
    assert not mechanism.complete


def test_start_queues_ready_with_local_metadata() -> None:
    mechanism = started()
    assert mechanism.commands_to_send == [DEALER_READY_BODY]
    assert mechanism.zap_request is None


def test_not_complete_until_peer_ready_arrives() -> None:
    mechanism = started()
    assert not mechanism.complete
    assert mechanism.peer_metadata is None


def test_peer_ready_completes_and_exposes_peer_metadata() -> None:
    mechanism = started()
    mechanism.receive_command(ROUTER_READY_BODY)
    assert mechanism.complete
    assert mechanism.peer_metadata == Metadata([("Socket-Type", b"ROUTER"), ("Identity", b"")])
    assert mechanism.failure is None


def test_peer_ready_before_start_does_not_complete_until_our_ready_sent() -> None:
    mechanism = NullMechanism()
    mechanism.receive_command(ROUTER_READY_BODY)
    assert not mechanism.complete
    mechanism.start(DEALER_METADATA, None)
    assert mechanism.complete
    assert mechanism.commands_to_send == [DEALER_READY_BODY]


def test_ready_twice_is_unexpected_command() -> None:
    mechanism = started()
    mechanism.receive_command(ROUTER_READY_BODY)
    with pytest.raises(UnexpectedCommand):
        mechanism.receive_command(ROUTER_READY_BODY)


def test_error_raises_peer_refused_with_reason() -> None:
    mechanism = started()
    with pytest.raises(PeerRefused) as info:
        mechanism.receive_command(b"\x05ERROR\x03400")
    assert info.value.reason == b"400"
    assert not mechanism.complete


@pytest.mark.parametrize(
    "body",
    [
        b"\x04PING\x00\x00",
        b"\x04PONG",
        b"\x09SUBSCRIBEabc",
        b"\x06CANCELabc",
        b"\x05HELLO" + bytes(10),
        b"\x07WELCOME",
    ],
)
def test_other_command_is_unexpected(body: bytes) -> None:
    mechanism = started()
    with pytest.raises(UnexpectedCommand):
        mechanism.receive_command(body)
    assert not mechanism.complete


# --- with ZAP ---------------------------------------------------------------------------------


def test_zap_holds_back_ready_and_exposes_request() -> None:
    mechanism = started(ZAP)
    assert mechanism.commands_to_send == []
    assert mechanism.zap_request == ZapRequest(b"global", b"127.0.0.1", b"SRV", b"NULL")
    assert mechanism.zap_request.frames() == [
        b"1.0",
        b"1",
        b"global",
        b"127.0.0.1",
        b"SRV",
        b"NULL",
    ]


def test_zap_not_complete_with_peer_ready_until_reply() -> None:
    mechanism = started(ZAP)
    mechanism.receive_command(ROUTER_READY_BODY)
    assert not mechanism.complete


def test_zap_200_sends_ready() -> None:
    mechanism = started(ZAP)
    reply = ZapReply(b"200", b"OK")
    mechanism.receive_zap_reply(reply)
    assert mechanism.commands_to_send == [DEALER_READY_BODY]
    assert mechanism.zap_reply is reply
    assert mechanism.failure is None
    mechanism.receive_command(ROUTER_READY_BODY)
    assert mechanism.complete


@pytest.mark.parametrize("status", [b"400", b"500"])
def test_zap_400_or_500_queues_error_with_status_as_reason(status: bytes) -> None:
    mechanism = started(ZAP)
    mechanism.receive_zap_reply(ZapReply(status, b"denied"))
    assert mechanism.commands_to_send == [b"\x05ERROR\x03" + status]
    assert isinstance(mechanism.failure, AuthenticationFailed)
    assert mechanism.failure.status_code == status
    assert mechanism.failure.status_text == b"denied"
    mechanism.receive_command(ROUTER_READY_BODY)
    assert not mechanism.complete


def test_zap_300_sends_nothing() -> None:
    mechanism = started(ZAP)
    mechanism.receive_zap_reply(ZapReply(b"300", b"try later"))
    assert mechanism.commands_to_send == []
    assert mechanism.failure is None
    mechanism.receive_command(ROUTER_READY_BODY)
    assert not mechanism.complete
