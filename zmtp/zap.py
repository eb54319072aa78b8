"""ZAP, the ZeroMQ Authentication Protocol (RFC 27), as plain data.

The protocol core never talks to a ZAP handler itself: a mechanism that needs a decision
surfaces a :class:`ZapRequest` (as an ``AuthenticationRequested`` event) and waits for the
caller to hand back a :class:`ZapReply`. Whoever drives the connection decides how the request
travels (to an ``inproc://zeromq.zap.01`` handler, a callback, a test's table).
"""

from __future__ import annotations

from dataclasses import dataclass, field

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

ZAP_ENDPOINT = "inproc://zeromq.zap.01"
ZAP_VERSION = b"1.0"
STATUS_CODES = frozenset({b"200", b"300", b"400", b"500"})


@dataclass(frozen=True, slots=True)
class ZapRequest:
    """A ZAP request, frame for frame (RFC 27), without the REQ envelope delimiter.

    libzmq always uses request id ``"1"`` and puts the *authenticating* socket's own routing
    id in ``identity``; we do the same so handlers see identical requests from both.
    """

    domain: bytes
    address: bytes
    identity: bytes
    mechanism: bytes
    credentials: tuple[bytes, ...] = ()
    request_id: bytes = b"1"
    version: bytes = ZAP_VERSION

    def frames(self) -> list[bytes]:
        """Return the request's frames in RFC 27 order."""
        return [
            self.version,
            self.request_id,
            self.domain,
            self.address,
            self.identity,
            self.mechanism,
            *self.credentials,
        ]


@dataclass(frozen=True, slots=True)
class ZapReply:
    """A ZAP reply. ``status_code`` is one of ``b"200"``, ``b"300"``, ``b"400"``, ``b"500"``."""

    status_code: bytes
    status_text: bytes = b""
    user_id: bytes = b""
    metadata: Metadata = field(default_factory=Metadata)
    request_id: bytes = b"1"
    version: bytes = ZAP_VERSION

    def __post_init__(self) -> None:
        if self.status_code not in STATUS_CODES:
            raise ValueError(
                f"ZAP status code must be 200, 300, 400 or 500, not {self.status_code!r}"
            )

    @property
    def accepted(self) -> bool:
        """Whether the handler accepted the peer (status 200)."""
        return self.status_code == b"200"

    def frames(self) -> list[bytes]:
        """Return the reply's frames in RFC 27 order, without the envelope delimiter."""
        return [
            self.version,
            self.request_id,
            self.status_code,
            self.status_text,
            self.user_id,
            self.metadata.encode(),
        ]

    @classmethod
    def from_frames(cls, frames: list[bytes], request_id: bytes = b"1") -> ZapReply:
        """Validate a handler's reply frames as libzmq does, and parse them."""
        if len(frames) != 6:
            raise ZapReplyError(f"ZAP reply has {len(frames)} frames, not 6", ZAP_MALFORMED_REPLY)
        version, reply_id, status_code, status_text, user_id, raw_metadata = frames
        if version != ZAP_VERSION:
            raise ZapReplyError(f"ZAP reply version {version!r} is not '1.0'", ZAP_BAD_VERSION)
        if reply_id != request_id:
            raise ZapReplyError(
                f"ZAP reply id {reply_id!r} does not match request {request_id!r}",
                ZAP_BAD_REQUEST_ID,
            )
        if status_code not in STATUS_CODES:
            raise ZapReplyError(
                f"ZAP status code {status_code!r} is not 200/300/400/500", ZAP_INVALID_STATUS_CODE
            )
        try:
            metadata = Metadata.decode(raw_metadata)
        except InvalidMetadata as exc:
            raise ZapReplyError(f"ZAP reply metadata: {exc}", ZAP_INVALID_METADATA) from exc
        return cls(status_code, status_text, user_id, metadata, reply_id, version)
