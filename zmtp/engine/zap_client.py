"""One ZAP request from a connection's handshake to the context's handler (RFC 27).

libzmq gives each session that needs ZAP its own pipe to the socket bound at
``inproc://zeromq.zap.01``, sends one request with id ``"1"`` and reads one reply. This does the
same with a private DEALER core joined to the handler over an inproc link, so the handler (a
REP or ROUTER socket of the same context, such as :mod:`zmtp.auth`'s) sees exactly what a libzmq
server would send it, envelope delimiter included. The link closes once the reply is in.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol

from zmtp.constants import SocketType
from zmtp.engine.inproc import InprocLink, InprocSide, Scheduler
from zmtp.errors import ZAP_MALFORMED_REPLY, Again, ZapReplyError
from zmtp.socket_types import is_valid_peer
from zmtp.sockets import SocketCore, create_socket_core
from zmtp.zap import ZapReply, ZapRequest


class ZapHandler(Protocol):
    """The socket bound at the ZAP endpoint, as a driver (asyncio or Twisted) holds it."""

    core: SocketCore

    def inproc_side(self, routing_id: bytes = b"") -> InprocSide:
        """Return the handler's end of an inproc link."""
        ...


class ZapCall:
    """Send ``request`` to ``handler`` and pass the parsed reply (or what was wrong with it) on."""

    def __init__(
        self,
        loop: Scheduler,
        handler: ZapHandler,
        request: ZapRequest,
        on_reply: Callable[[ZapReply | ZapReplyError], None],
    ) -> None:
        self._request = request
        self._on_reply = on_reply
        self._lock = threading.RLock()
        self._core = create_socket_core(SocketType.DEALER)
        side = InprocSide(self._core, self._lock, self._reply_ready)
        self._link: InprocLink | None = None
        if is_valid_peer(SocketType.DEALER, handler.core.socket_type):
            self._link = InprocLink(loop, side, handler.inproc_side())

    def start(self) -> bool:
        """Send the request; False if the handler cannot take it (wrong socket type)."""
        link = self._link
        if link is None or not link.open():
            return False
        with self._lock:
            self._core.send([b"", *self._request.frames()])
        return True

    def cancel(self) -> None:
        """Forget the request: the connection ended before the handler answered."""
        if self._link is not None:
            self._link.close()

    def _reply_ready(self) -> None:
        with self._lock:
            try:
                frames = self._core.recv()
            except Again:
                return
        self.cancel()
        if not frames or frames[0]:
            missing = ZapReplyError("ZAP reply lacks the empty delimiter", ZAP_MALFORMED_REPLY)
            self._on_reply(missing)
            return
        try:
            reply: ZapReply | ZapReplyError = ZapReply.from_frames(
                frames[1:], self._request.request_id
            )
        except ZapReplyError as exc:
            reply = exc
        self._on_reply(reply)
