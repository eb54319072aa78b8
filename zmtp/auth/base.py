"""The ZAP decisions of :mod:`zmtp.auth`: who may connect, and as which user (RFC 27).

:class:`Authenticator` keeps the policy (an IP allow or deny list, PLAIN passwords and CURVE
keys per ZAP domain) and turns one ZAP request into its reply in :meth:`handle_zap_message`,
which does no I/O, so the policy can be tested frame by frame and driven by any loop. The
subclasses in :mod:`zmtp.auth.thread` and :mod:`zmtp.auth.asyncio` only move frames between
the handler socket at ``inproc://zeromq.zap.01`` and this method.

A CURVE credentials callback may answer with an awaitable (an ``async def callback``), as
pyzmq 27 allows. :meth:`Authenticator.handle_zap_message_async` awaits it, and each handler
does so where it runs: :class:`~zmtp.auth.asyncio.AsyncioAuthenticator` on its loop,
:class:`~zmtp.auth.thread.ThreadAuthenticator` on an event loop its thread owns while it
runs. The synchronous :meth:`Authenticator.handle_zap_message` stays free of I/O and loops:
for such a callback it raises TypeError instead of starting an event loop of its own, which
would block its caller and fail inside a running loop.

The names, the status texts and the order of the checks are pyzmq's (``zmq.auth``), so code
and logs written for pyzmq read the same. Where this differs, it is stricter or more regular:

- A policy configured for domain ``"*"`` applies to every domain that has none of its own
  (pyzmq only uses ``"*"`` for the empty domain), and CURVE policies, allow-any included,
  are per domain (pyzmq's allow-any and credentials callbacks override every domain).
- A request for a mechanism the authenticator has no policy for (GSSAPI, or anything else)
  is refused, even from an allow-listed address.
- Reading a certificate directory that is missing or malformed raises instead of logging and
  refusing every client later.
- A failure while deciding (a credentials callback that raises, or whose awaitable raises) is
  answered with 500, so the handler keeps serving; an unanswered request would leave the REP
  socket stuck.
"""

from __future__ import annotations

import inspect
import logging
import os
import threading
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Protocol

import zmtp
from zmtp import z85
from zmtp.auth.certs import load_certificates
from zmtp.zap import ZAP_ENDPOINT, ZAP_VERSION, ZapReply

__all__ = ["CURVE_ALLOW_ANY", "Authenticator", "CredentialsProvider"]

CURVE_ALLOW_ANY = "*"
"""``configure_curve(location=CURVE_ALLOW_ANY)``: accept every CURVE client key."""

ANY_DOMAIN = "*"
"""The domain whose policy applies to requests for a domain configured no other way."""

OK = b"OK"


class CredentialsProvider(Protocol):
    """What :meth:`Authenticator.configure_curve_callback` calls for each CURVE client."""

    def callback(self, domain: str, key: bytes) -> bool | Awaitable[bool]:
        """Whether the client with ``key`` (40 Z85 characters) may connect in ``domain``.

        May be a coroutine function (or return any awaitable), to consult a service.
        """
        ...


@dataclass(frozen=True, slots=True)
class _Verdict:
    allowed: bool
    text: bytes
    user_id: bytes = b""


@dataclass(frozen=True, slots=True)
class _Pending:
    """A CURVE decision waiting for the awaitable a credentials callback returned."""

    result: Awaitable[object]
    domain: str
    key: bytes

    def discard(self) -> None:
        """Drop the awaitable unawaited, without a "never awaited" warning for a coroutine."""
        if inspect.iscoroutine(self.result):
            self.result.close()


class Authenticator:
    """A ZAP handler's policy; :meth:`start` binds the handler socket in ``context``.

    Until configured, NULL clients are accepted (classic ZeroMQ behaviour) and PLAIN and
    CURVE clients refused. Used directly, the caller runs the loop::

        auth = Authenticator(ctx)
        auth.start()
        request = auth.zap_socket.recv_multipart()
        auth.zap_socket.send_multipart(auth.handle_zap_message(request))
    """

    def __init__(
        self,
        context: zmtp.Context | None = None,
        encoding: str = "utf-8",
        log: logging.Logger | None = None,
    ) -> None:
        self.context = context if context is not None else zmtp.Context.instance()
        self.encoding = encoding
        self.log = log if log is not None else logging.getLogger("zmtp.auth")
        self.zap_socket: zmtp.Socket | None = None
        self.passwords: dict[str, dict[str, str]] = {}
        """PLAIN ``{domain: {username: password}}``."""
        self.certs: dict[str, dict[bytes, bool]] = {}
        """CURVE ``{domain: {z85_public_key: True}}`` loaded by :meth:`configure_curve`."""
        self.credentials_providers: dict[str, CredentialsProvider] = {}
        self._curve_any: set[str] = set()
        self._allowed: set[str] = set()
        self._denied: set[str] = set()
        # Configuration may change while another thread answers requests.
        self._lock = threading.RLock()

    # -- the handler socket ------------------------------------------------------------------

    _socket_class: type[zmtp.Socket] = zmtp.Socket
    """The handler socket's class: blocking here, whatever ``context`` makes by default."""

    def start(self) -> None:
        """Bind the ZAP handler socket; from now on servers in ``context`` consult it."""
        sock = self.context.socket(zmtp.REP, socket_class=self._socket_class)
        sock.linger = 0
        try:
            sock.bind(ZAP_ENDPOINT)
        except BaseException:
            sock.close(linger=0)
            raise
        self.zap_socket = sock
        self.log.debug("Starting")

    def stop(self) -> None:
        """Close the handler socket; servers stop consulting ZAP for new connections."""
        if self.zap_socket is not None:
            self.zap_socket.close(linger=0)
        self.zap_socket = None

    # -- policy ------------------------------------------------------------------------------

    def allow(self, *addresses: str) -> None:
        """Accept clients only from ``addresses`` (IP text, as ZAP reports it).

        An allowed NULL client is in; PLAIN and CURVE clients must still authenticate.
        Exclusive with :meth:`deny`: a list of both would leave unlisted addresses ambiguous.
        """
        with self._lock:
            if self._denied:
                raise ValueError("Only use allow or deny, not both")
            self.log.debug("Allowing %s", ",".join(addresses))
            self._allowed.update(addresses)

    def deny(self, *addresses: str) -> None:
        """Refuse clients from ``addresses``; the others go on to authenticate."""
        with self._lock:
            if self._allowed:
                raise ValueError("Only use allow or deny, not both")
            self.log.debug("Denying %s", ",".join(addresses))
            self._denied.update(addresses)

    def configure_plain(
        self, domain: str = ANY_DOMAIN, passwords: dict[str, str] | None = None
    ) -> None:
        """Accept PLAIN clients of ``domain`` whose username and password are in ``passwords``.

        The table is kept by reference, as pyzmq does, so changing it changes the policy.
        """
        with self._lock:
            if passwords:
                self.passwords[domain] = passwords
            else:
                self.passwords.pop(domain, None)
        self.log.debug("Configure plain: %s", domain)

    def configure_curve(
        self, domain: str = ANY_DOMAIN, location: str | os.PathLike[str] = "."
    ) -> None:
        """Accept CURVE clients of ``domain`` whose public key has a ``*.key`` in ``location``.

        ``location=CURVE_ALLOW_ANY`` accepts every key (CURVE still encrypts). Call again
        after changing the directory: keys are read once, here.
        """
        self.log.debug("Configure curve: %s[%s]", domain, location)
        keys = None if location == CURVE_ALLOW_ANY else load_certificates(location)
        with self._lock:
            self.credentials_providers.pop(domain, None)
            if keys is None:
                self.certs.pop(domain, None)
                self._curve_any.add(domain)
            else:
                self.certs[domain] = keys
                self._curve_any.discard(domain)

    def configure_curve_callback(
        self, domain: str = ANY_DOMAIN, credentials_provider: CredentialsProvider | None = None
    ) -> None:
        """Let ``credentials_provider.callback(domain, z85_key)`` decide on CURVE clients.

        The callback answers with a truth value, or with an awaitable of one (``async def
        callback``). It is called in the handler's thread (on the loop, for
        :class:`~zmtp.auth.asyncio.AsyncioAuthenticator`); an awaitable is awaited there, the
        thread handler running it on an event loop of its own. Requests are decided one at a
        time, so a slow callback delays the clients queued behind it. If the callback or its
        awaitable raises, the client is refused with status 500 and the handler keeps serving.
        """
        if credentials_provider is None:
            raise ValueError(f"configure_curve_callback for {domain!r} needs a provider")
        with self._lock:
            self.certs.pop(domain, None)
            self._curve_any.discard(domain)
            self.credentials_providers[domain] = credentials_provider

    def curve_user_id(self, client_public_key: bytes) -> str:
        """Return an accepted CURVE client's User-Id: its public key in Z85 (override to map)."""
        return z85.encode(client_public_key).decode("ascii")

    # -- decisions ---------------------------------------------------------------------------

    def handle_zap_message(self, msg: list[bytes]) -> list[bytes]:
        """Return the ZAP reply frames (RFC 27, no envelope) for the request ``msg``.

        Raises TypeError if a CURVE credentials callback answers with an awaitable: use
        :meth:`handle_zap_message_async` for those.
        """
        outcome = self._decide_now(msg)
        if isinstance(outcome, _Pending):
            outcome.discard()
            raise TypeError(
                f"the CURVE credentials callback for domain {outcome.domain!r} returned an "
                "awaitable; use 'await handle_zap_message_async(msg)', or a ThreadAuthenticator "
                "or AsyncioAuthenticator, which await it"
            )
        return self._verdict_reply(msg, outcome)

    async def handle_zap_message_async(self, msg: list[bytes]) -> list[bytes]:
        """:meth:`handle_zap_message`, awaiting a CURVE callback's awaitable if it returns one.

        The configuration lock is not held while awaiting, so the policy may change meanwhile;
        the request is decided by the callback it was handed to.
        """
        outcome = self._decide_now(msg)
        if isinstance(outcome, _Pending):
            outcome = await self._settle(outcome)
        return self._verdict_reply(msg, outcome)

    async def _answer_async(self, msg: list[bytes]) -> list[bytes]:
        """:meth:`handle_zap_message_async`, or a 500 reply if deciding failed (logged)."""
        try:
            return await self.handle_zap_message_async(msg)
        except Exception:
            return self._failure_reply(msg)

    def _failure_reply(self, msg: list[bytes]) -> list[bytes]:
        """Log the exception being handled and answer ``msg`` with 500."""
        self.log.exception("ZAP request %r could not be decided", msg[:6])
        return self._reply(msg[1] if len(msg) > 1 else b"", b"500", b"Internal error")

    def _decide_now(self, msg: list[bytes]) -> _Verdict | _Pending:
        """Decide under the configuration lock, leaving a callback's awaitable to the caller."""
        with self._lock:
            return self._decide(msg)

    async def _settle(self, pending: _Pending) -> _Verdict:
        """Await a credentials callback's answer (the lock is not held) and judge by it."""
        return self._curve_verdict(pending.domain, pending.key, bool(await pending.result))

    def _verdict_reply(self, msg: list[bytes], verdict: _Verdict) -> list[bytes]:
        request_id = msg[1] if len(msg) > 1 else b""
        if verdict.allowed:
            self.log.debug("ZAP reply 200 %s for %r", verdict.text, verdict.user_id)
            return self._reply(request_id, b"200", verdict.text, verdict.user_id)
        self.log.debug("ZAP reply 400 %s", verdict.text)
        return self._reply(request_id, b"400", verdict.text)

    @staticmethod
    def _reply(request_id: bytes, status: bytes, text: bytes, user_id: bytes = b"") -> list[bytes]:
        return ZapReply(status, text, user_id, request_id=request_id).frames()

    def _decide(self, msg: list[bytes]) -> _Verdict | _Pending:
        if len(msg) < 6:
            self.log.error("Invalid ZAP message, not enough frames: %r", msg)
            return _Verdict(False, b"Not enough frames")
        version, _request_id, raw_domain, raw_address, _identity, mechanism = msg[:6]
        credentials = msg[6:]
        if version != ZAP_VERSION:
            self.log.error("Invalid ZAP version: %r", version)
            return _Verdict(False, b"Invalid version")
        domain = raw_domain.decode(self.encoding, "replace")
        address = raw_address.decode(self.encoding, "replace")

        if self._allowed and address not in self._allowed:
            return _Verdict(False, b"Address not allowed")
        if self._denied and address in self._denied:
            return _Verdict(False, b"Address denied")

        if mechanism == b"NULL":
            return _Verdict(True, OK, b"anonymous")
        if mechanism == b"PLAIN":
            if len(credentials) != 2:
                return _Verdict(False, b"Invalid credentials")
            return self._plain(domain, credentials[0], credentials[1])
        if mechanism == b"CURVE":
            if len(credentials) != 1 or len(credentials[0]) != 32:
                return _Verdict(False, b"Invalid credentials")
            return self._curve(domain, credentials[0])
        self.log.debug("DENIED (unsupported mechanism %r)", mechanism)
        return _Verdict(False, b"NO ACCESS")

    def _plain(self, domain: str, username: bytes, password: bytes) -> _Verdict:
        if not self.passwords:
            return _Verdict(False, b"No passwords defined")
        table = _for_domain(self.passwords, domain)
        if table is None:
            return _Verdict(False, b"Invalid domain")
        expected = table.get(username.decode(self.encoding, "replace"))
        if expected is None:
            return _Verdict(False, b"Invalid username")
        if expected != password.decode(self.encoding, "replace"):
            return _Verdict(False, b"Invalid password")
        return _Verdict(True, OK, username)

    def _curve(self, domain: str, key: bytes) -> _Verdict | _Pending:
        accepted = self._curve_accepts(domain, z85.encode(key))
        if accepted is None:
            return _Verdict(False, b"Unknown domain")
        if isinstance(accepted, bool):
            return self._curve_verdict(domain, key, accepted)
        return _Pending(accepted, domain, key)

    def _curve_verdict(self, domain: str, key: bytes, accepted: bool) -> _Verdict:
        if not accepted:
            self.log.debug("DENIED (CURVE) domain=%s key=%s", domain, z85.encode(key))
            return _Verdict(False, b"Unknown key")
        return _Verdict(True, OK, self.curve_user_id(key).encode(self.encoding))

    def _curve_accepts(self, domain: str, text_key: bytes) -> bool | Awaitable[object] | None:
        """Whether the domain's CURVE policy takes ``text_key``; None if there is no policy.

        A credentials callback's awaitable is handed back unawaited, for the caller to await.
        """
        for candidate in _candidates(domain):
            if candidate in self._curve_any:
                return True
            if candidate in self.certs:
                return text_key in self.certs[candidate]
            provider = self.credentials_providers.get(candidate)
            if provider is not None:
                result: object = provider.callback(domain or ANY_DOMAIN, text_key)
                if inspect.isawaitable(result):
                    return result
                return bool(result)
        return None


def _candidates(domain: str) -> tuple[str, ...]:
    """Return the domains whose policy may apply to ``domain``, most specific first."""
    return (domain, ANY_DOMAIN) if domain and domain != ANY_DOMAIN else (ANY_DOMAIN,)


def _for_domain(table: dict[str, dict[str, str]], domain: str) -> dict[str, str] | None:
    for candidate in _candidates(domain):
        if candidate in table:
            return table[candidate]
    return None
