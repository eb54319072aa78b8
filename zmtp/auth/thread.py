"""An :class:`~zmtp.auth.base.Authenticator` answering ZAP requests in a background thread.

The thread owns the handler socket and the bound end of an inproc PAIR pipe, and waits on both
with one poll: :meth:`ThreadAuthenticator.stop` wakes it with a message on the pipe, so
stopping takes as long as the request in hand and never waits out a polling interval. The
thread also ends (closing its sockets) when the context is terminated, so ``ctx.term()`` does
not hang on an authenticator nobody stopped.

A CURVE credentials callback that answers with an awaitable runs to completion on an asyncio
event loop the thread creates the first time one is needed and keeps until it ends, so a
callback may keep loop-bound state (a client session, a cache of futures) between requests.
While it runs, the thread answers nothing else and :meth:`ThreadAuthenticator.stop` waits for
it (up to ``STOP_TIMEOUT_S``).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading

import zmtp
from zmtp.auth.base import Authenticator, _Pending
from zmtp.errors import ContextTerminated, ZMQError

__all__ = ["ThreadAuthenticator"]

STOP_TIMEOUT_S = 5.0
"""How long :meth:`ThreadAuthenticator.stop` waits for the thread before giving up on it."""

_TERMINATE = b"TERMINATE"
_pipe_numbers = itertools.count()


class ThreadAuthenticator(Authenticator):
    """Run the ZAP handler of ``context`` (default ``Context.instance()``) in a thread."""

    def __init__(
        self,
        context: zmtp.Context | None = None,
        encoding: str = "utf-8",
        log: logging.Logger | None = None,
    ) -> None:
        super().__init__(context, encoding, log)
        self.thread: threading.Thread | None = None
        self._pipe_endpoint = ""

    def start(self) -> None:
        """Bind the handler socket, then start answering on it; returns once it is bound.

        Raises (EADDRINUSE) if the context already has a ZAP handler.
        """
        if self.is_alive():
            raise RuntimeError("ThreadAuthenticator is already running")
        super().start()
        zap = self.zap_socket
        assert zap is not None
        # The thread owns both sockets: nothing of ours stays open in the caller's thread,
        # so terminating the context does not wait for a stop() that never comes.
        self._pipe_endpoint = f"inproc://zmtp.auth.pipe-{id(self):x}-{next(_pipe_numbers)}"
        try:
            pipe = self.context.socket(zmtp.PAIR, socket_class=zmtp.Socket, linger=0)
        except BaseException:
            super().stop()
            raise
        try:
            pipe.bind(self._pipe_endpoint)
        except BaseException:
            pipe.close(linger=0)
            super().stop()
            raise
        self.thread = threading.Thread(
            target=self._serve, args=(zap, pipe), name="zmtp-auth", daemon=True
        )
        self.thread.start()

    def stop(self) -> None:
        """Stop the thread (it closes the handler socket) and wait for it, bounded."""
        thread, self.thread = self.thread, None
        self.zap_socket = None
        if thread is None:
            return
        if thread.is_alive():
            self._signal_stop()
        thread.join(STOP_TIMEOUT_S)
        if thread.is_alive():
            self.log.error("ZAP authenticator thread did not stop in %s s", STOP_TIMEOUT_S)

    def _signal_stop(self) -> None:
        """Wake the thread's poll with a message on its pipe (a PAIR made for the purpose)."""
        try:
            waker = self.context.socket(zmtp.PAIR, socket_class=zmtp.Socket)
        except ContextTerminated:
            return  # the thread sees the termination itself
        try:
            waker.linger = 0
            waker.sndtimeo = int(STOP_TIMEOUT_S * 1000)
            waker.connect(self._pipe_endpoint)
            waker.send(_TERMINATE)
        except ZMQError as exc:  # the context is ending: so is the thread
            self.log.debug("could not signal the authenticator thread: %s", exc)
        finally:
            waker.close(linger=0)

    def is_alive(self) -> bool:
        """Whether the thread is answering ZAP requests."""
        return self.thread is not None and self.thread.is_alive()

    def _serve(self, zap: zmtp.Socket, pipe: zmtp.Socket) -> None:
        poller = zmtp.Poller()
        poller.register(pipe, zmtp.POLLIN)
        poller.register(zap, zmtp.POLLIN)
        # The Runner makes its loop on first use and closes it (cancelling what a callback left
        # running) when the thread ends.
        runner = asyncio.Runner()
        try:
            while True:  # Context.term() ends the poll with ETERM
                events = dict(poller.poll())
                if pipe in events:
                    break
                if zap in events:
                    try:
                        request = zap.recv_multipart(zmtp.NOBLOCK)
                    except zmtp.Again:
                        continue
                    zap.send_multipart(self._answer_here(request, runner))
        except ContextTerminated:
            self.log.debug("context terminated: authenticator thread ends")
        except Exception:
            self.log.exception("ZAP authenticator thread failed")
        finally:
            zap.close(linger=0)
            pipe.close(linger=0)
            runner.close()

    def _answer_here(self, msg: list[bytes], runner: asyncio.Runner) -> list[bytes]:
        """Answer ``msg``, running a callback's awaitable on ``runner``; 500 if that fails."""
        try:
            outcome = self._decide_now(msg)
            if isinstance(outcome, _Pending):
                outcome = runner.run(self._settle(outcome))
            return self._verdict_reply(msg, outcome)
        except Exception:
            return self._failure_reply(msg)
