"""A minimal ZAP handler for the interop tests: a zmtp REP socket that records every request.

``zmtp.auth`` is the real authenticator; this one is deliberately small so that a test sees
exactly what a zmtp server asked (frames as RFC 27 lays them out) and decides with a plain
function, independent of the code under test.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from api_peers import WAIT_S

import zmtp

Verdict = tuple[bool, bytes]
"""(accepted, user id) for one request."""


class ZapHandler:
    """Answers ZAP requests in a zmtp context with ``decide(request)``; keeps the requests."""

    def __init__(self, context: zmtp.Context, decide: Callable[[list[bytes]], Verdict]) -> None:
        self.requests: list[list[bytes]] = []
        self._decide = decide
        self._socket = context.socket(zmtp.REP)
        self._socket.linger = 0
        self._socket.rcvtimeo = 50
        self._socket.bind("inproc://zeromq.zap.01")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                request = self._socket.recv_multipart()
            except zmtp.Again:
                continue
            self.requests.append(request)
            accepted, user = self._decide(request)
            status = b"200" if accepted else b"400"
            self._socket.send_multipart([b"1.0", request[1], status, b"", user, b""])

    def stop(self) -> None:
        """Stop answering and close the handler socket (bounded)."""
        self._stop.set()
        self._thread.join(WAIT_S)
        self._socket.close(linger=0)
