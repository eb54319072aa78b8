"""An :class:`~zmtp.auth.base.Authenticator` answering ZAP requests in an asyncio task.

For programs whose sockets live on an asyncio loop: the handler is a :mod:`zmtp.asyncio`
socket and one task on that loop awaits each request, so no thread is added and the
authenticator's configuration is only ever touched from the loop. A CURVE credentials
callback that answers with an awaitable is awaited by that task, so it runs on the same loop;
requests are answered one at a time, as the REP handler socket requires.

Cancelling the task is safe at any await: a cancelled recv loses no request, and a reply is
sent whole or not at all. Cancelled while a callback is awaited, the task cancels the callback
too and leaves that request unanswered; :meth:`AsyncioAuthenticator.stop` closes the handler
socket, so the connection waiting for the verdict is not accepted.
"""

from __future__ import annotations

import asyncio
import logging

import zmtp
import zmtp.asyncio
from zmtp.auth.base import Authenticator

__all__ = ["AsyncioAuthenticator"]


class AsyncioAuthenticator(Authenticator):
    """Run the ZAP handler of ``context`` as a task on ``loop``.

    ``context`` defaults to ``zmtp.asyncio.Context.instance()``, ``loop`` to the loop running
    when :meth:`start` is called.
    """

    _socket_class = zmtp.asyncio.Socket

    def __init__(
        self,
        context: zmtp.Context | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
        encoding: str = "utf-8",
        log: logging.Logger | None = None,
    ) -> None:
        super().__init__(
            context if context is not None else zmtp.asyncio.Context.instance(), encoding, log
        )
        self.loop = loop
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Bind the handler socket and start the task; needs a running (or the given) loop."""
        if self._task is not None and not self._task.done():
            raise RuntimeError("AsyncioAuthenticator is already running")
        loop = self.loop if self.loop is not None else asyncio.get_running_loop()
        super().start()
        zap = self.zap_socket
        assert isinstance(zap, zmtp.asyncio.Socket)
        self._task = loop.create_task(self._serve(zap), name="zmtp-auth")

    def stop(self) -> None:
        """Cancel the task and close the handler socket."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
        super().stop()

    def is_alive(self) -> bool:
        """Whether the task is answering ZAP requests."""
        return self._task is not None and not self._task.done()

    async def _serve(self, zap: zmtp.asyncio.Socket) -> None:
        try:
            while True:
                request = await zap.recv_multipart()
                await zap.send_multipart(await self._answer_async(request))
        except zmtp.ContextTerminated:
            self.log.debug("context terminated: authenticator task ends")
            zap.close(linger=0)
