"""One exception hierarchy for the whole package.

Two families never mix, because the fix is on a different side of the wire:

* :class:`ProtocolError` and its subclasses: the *peer* broke a rule of ZMTP. Each names the
  rule (quoting the RFC) and carries the code libzmq reports for it in a
  ``HANDSHAKE_FAILED_PROTOCOL`` monitor event, so a monitor can say why a peer was dropped.
* :class:`UsageError`: *our caller* did something the API does not allow (sending on a closed
  connection, an option value out of range). These are raised at the call.

Timeouts and a peer's explicit refusal (an ERROR command) are neither, and have classes of their
own. The pyzmq-compatible ``ZMQError`` family of the socket API is built on top of these.
"""

from __future__ import annotations

import os

from zmtp.constants import Errno

# libzmq's protocol error codes (zmq.h, ZMQ_PROTOCOL_ERROR_*), reported as the value of a
# HANDSHAKE_FAILED_PROTOCOL monitor event.
ZMTP_UNSPECIFIED = 0x10000000
ZMTP_UNEXPECTED_COMMAND = 0x10000001
ZMTP_INVALID_SEQUENCE = 0x10000002
ZMTP_KEY_EXCHANGE = 0x10000003
ZMTP_MALFORMED_COMMAND_UNSPECIFIED = 0x10000011
ZMTP_MALFORMED_COMMAND_MESSAGE = 0x10000012
ZMTP_MALFORMED_COMMAND_HELLO = 0x10000013
ZMTP_MALFORMED_COMMAND_INITIATE = 0x10000014
ZMTP_MALFORMED_COMMAND_ERROR = 0x10000015
ZMTP_MALFORMED_COMMAND_READY = 0x10000016
ZMTP_MALFORMED_COMMAND_WELCOME = 0x10000017
ZMTP_INVALID_METADATA = 0x10000018
ZMTP_CRYPTOGRAPHIC = 0x11000001
ZMTP_MECHANISM_MISMATCH = 0x11000002
ZAP_UNSPECIFIED = 0x20000000
ZAP_MALFORMED_REPLY = 0x20000001
ZAP_BAD_REQUEST_ID = 0x20000002
ZAP_BAD_VERSION = 0x20000003
ZAP_INVALID_STATUS_CODE = 0x20000004
ZAP_INVALID_METADATA = 0x20000005


class ZMTPError(Exception):
    """Base class of every exception this package raises or reports."""


class ProtocolError(ZMTPError):
    """The peer violated ZMTP. ``rule`` cites the RFC; ``code`` is libzmq's monitor code."""

    code: int = ZMTP_UNSPECIFIED

    def __init__(self, message: str, *, rule: str = "") -> None:
        super().__init__(f"{message} ({rule})" if rule else message)
        self.rule = rule


class UnsupportedVersion(ProtocolError):
    """The peer's greeting is not ZMTP 3.x (a ZMTP 1.0 or 2.0 peer, or not ZMTP at all)."""

    code = ZMTP_UNSPECIFIED


class MechanismMismatch(ProtocolError):
    """The peer announced a different security mechanism in its greeting."""

    code = ZMTP_MECHANISM_MISMATCH


class CryptographicError(ProtocolError):
    """A CURVE box did not open (tampered, wrong key) or its nonce was replayed or reordered."""

    code = ZMTP_CRYPTOGRAPHIC


class NonceReplayed(CryptographicError):
    """A CURVE short nonce did not increase: a replayed or reordered command (libzmq's code)."""

    code = ZMTP_INVALID_SEQUENCE


class KeyExchangeFailed(CryptographicError):
    """A CURVE vouch does not vouch for this connection's short-term key."""

    code = ZMTP_KEY_EXCHANGE


class MalformedFrame(ProtocolError):
    """A frame header broke RFC 23's framing rules (reserved flags, impossible size)."""

    code = ZMTP_UNSPECIFIED


class MessageTooLarge(ProtocolError):
    """The peer announced a frame larger than the configured MAXMSGSIZE."""

    code = ZMTP_UNSPECIFIED


class MalformedCommand(ProtocolError):
    """A command frame's body does not have the layout its name requires."""

    code = ZMTP_MALFORMED_COMMAND_UNSPECIFIED

    def __init__(self, message: str, *, rule: str = "", code: int | None = None) -> None:
        super().__init__(message, rule=rule)
        if code is not None:
            self.code = code


class UnexpectedCommand(ProtocolError):
    """A command (or a message) arrived where the handshake allows something else."""

    code = ZMTP_UNEXPECTED_COMMAND


class InvalidMetadata(ProtocolError):
    """A property list (READY/INITIATE metadata) is not well formed."""

    code = ZMTP_INVALID_METADATA


class IncompatibleSocketType(ProtocolError):
    """The peer's Socket-Type may not talk to ours (RFC 37, 'Socket type compatibility')."""

    code = ZMTP_INVALID_METADATA


class PeerRefused(ZMTPError):
    """The peer sent an ERROR command: it refuses this connection and gave ``reason``.

    RFC 23 says the receiver must not reconnect with the same credentials.
    """

    def __init__(self, reason: bytes) -> None:
        super().__init__(f"peer sent ERROR: {reason.decode('ascii', 'backslashreplace')!r}")
        self.reason = reason


class ConnectionLost(ZMTPError):
    """The peer closed the byte stream (or the transport failed under it)."""


class AuthenticationFailed(ZMTPError):
    """The ZAP handler refused the peer (status 400 or 500); an ERROR was sent to it."""

    def __init__(self, status_code: bytes, status_text: bytes = b"") -> None:
        text = status_text.decode("utf-8", "backslashreplace")
        super().__init__(f"ZAP refused the peer: {status_code.decode('ascii', 'replace')} {text}")
        self.status_code = status_code
        self.status_text = status_text


class ZapUnavailable(ZMTPError):
    """The handshake needs a ZAP verdict and no handler is bound (a PLAIN server's case)."""


class ZapReplyError(ZMTPError):
    """The ZAP handler's reply broke RFC 27; ``code`` is libzmq's ZAP monitor code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(f"{message} (RFC 27)")
        self.code = code


class ZMTPTimeout(ZMTPError):
    """A protocol timer expired (the connection is treated as lost, not as misbehaving)."""


class HandshakeTimeout(ZMTPTimeout):
    """The greeting and security handshake did not finish within HANDSHAKE_IVL."""


class HeartbeatTimeout(ZMTPTimeout):
    """Nothing arrived within HEARTBEAT_TIMEOUT after a PING, or within the peer's PING TTL."""


class UsageError(ZMTPError):
    """The caller used the API wrongly; nothing was sent and no state changed."""


class ConfigurationError(UsageError, ValueError):
    """An option value is out of range or of the wrong type."""


class OptionTypeError(ConfigurationError, TypeError):
    """An option value has the wrong Python type (str for a bytes option, bytes for an int).

    pyzmq raises TypeError here rather than ZMQError(EINVAL), and code ported from pyzmq may
    catch it as such; it is still a :class:`ConfigurationError`.
    """


# -- the pyzmq-compatible family raised by the socket API ------------------------------------

_LIBZMQ_MESSAGES = {
    Errno.EFSM: "Operation cannot be accomplished in current state",
    Errno.ENOCOMPATPROTO: "The protocol is not compatible with the socket type",
    Errno.ETERM: "Context was terminated",
    Errno.EMTHREAD: "No thread available",
    # zmq_strerror's own wording, which differs from the platform's "No route to host".
    Errno.EHOSTUNREACH: "Host unreachable",
}


def strerror(errno: int) -> str:
    """Return libzmq's message for ``errno`` (its own four, else the platform's)."""
    message = _LIBZMQ_MESSAGES.get(errno)  # type: ignore[call-overload]
    return message if message is not None else os.strerror(errno)


# Again is raised on every receive that finds nothing, often on the per-message path:
# os.strerror's locale lookup is done once.
_EAGAIN_MESSAGE = strerror(Errno.EAGAIN)


class ZMQError(ZMTPError):
    """pyzmq's ``ZMQError``: ``errno`` is libzmq's number, ``strerror`` the reason.

    A message more precise than libzmq's (naming the option or endpoint at fault) replaces
    the standard text; ``errno`` always stays what libzmq would report.
    """

    errno: int | None
    strerror: str

    def __init__(self, errno: int | None = None, msg: str | None = None) -> None:
        if msg is None:
            msg = strerror(errno) if errno is not None else "Unknown error"
        super().__init__(msg)
        # Set after the base initialiser: OSError's (under InterruptedSystemCall) resets both.
        self.errno = errno
        self.strerror = msg

    def __str__(self) -> str:
        return self.strerror

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.strerror!r})"


class Again(ZMQError):
    """EAGAIN: the operation would block (non-blocking call, or a timeout expired)."""

    def __init__(self, errno: int | None = Errno.EAGAIN, msg: str | None = None) -> None:
        if errno is None or errno == Errno.EAGAIN:
            super().__init__(Errno.EAGAIN, _EAGAIN_MESSAGE if msg is None else msg)
        else:
            super().__init__(errno, msg)


class ContextTerminated(ZMQError):
    """ETERM: the socket's context was terminated."""

    def __init__(self, errno: int | None = Errno.ETERM, msg: str | None = None) -> None:
        super().__init__(Errno.ETERM if errno is None else errno, msg)


class InterruptedSystemCall(ZMQError, InterruptedError):  # type: ignore[misc]  # as pyzmq
    """EINTR: a blocking call was interrupted (pyzmq retries these itself)."""

    def __init__(self, errno: int | None = Errno.EINTR, msg: str | None = None) -> None:
        super().__init__(Errno.EINTR if errno is None else errno, msg)


class NotDone(ZMQError):
    """A MessageTracker's wait timed out before the message was sent."""


class ZMQBindError(ZMQError):
    """``bind_to_random_port`` found no free port in its range."""


class ZMQVersionError(NotImplementedError):
    """A feature needs a newer libzmq than the one reported (kept for pyzmq compatibility)."""


_ERRNO_CLASSES: dict[int, type[ZMQError]] = {
    Errno.EAGAIN: Again,
    Errno.ETERM: ContextTerminated,
    Errno.EINTR: InterruptedSystemCall,
}


def zmq_error(errno: int, msg: str | None = None) -> ZMQError:
    """Build the most specific ZMQError class for ``errno``, as pyzmq's error mapping does."""
    return _ERRNO_CLASSES.get(errno, ZMQError)(errno, msg)
