"""``zmtp.asyncio``: pyzmq's ``zmq.asyncio`` API — awaitable send, recv and poll.

The sockets are the blocking API's sockets (same I/O thread, same semantics); only waiting
changes. An operation is first tried without blocking; if libzmq would block, the coroutine
awaits a future that the I/O thread completes when the socket changes, then tries again.
Because a message is only ever taken or queued whole and synchronously, cancelling a ``recv``
loses no message and cancelling a ``send`` sends all of the message or none of it.
"""

from __future__ import annotations

import asyncio
import pickle
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, TypeVar, cast

import zmtp
from zmtp.constants import Flag, PollEvent
from zmtp.errors import Again
from zmtp.poll import POLLIN, POLLOUT
from zmtp.poll import Poller as _BlockingPoller

_T = TypeVar("_T")
_DONTWAIT = Flag.DONTWAIT


class Socket(zmtp.Socket):
    """A zmtp socket whose send/recv/poll are coroutines."""

    async def _until(self, attempt: Callable[[], _T], flags: int, timeout_ms: int) -> _T:
        """Call ``attempt`` until it stops raising Again, awaiting socket changes between."""
        if flags & _DONTWAIT:
            return attempt()
        loop = asyncio.get_running_loop()
        deadline = None if timeout_ms < 0 else loop.time() + timeout_ms / 1000
        while True:
            changed: asyncio.Future[None] = loop.create_future()

            def wake(future: asyncio.Future[None] = changed) -> None:
                loop.call_soon_threadsafe(_resolve, future)

            self._watchers.add(wake)
            try:
                try:
                    return attempt()
                except Again:
                    pass
                if self._terminated:
                    raise zmtp.ContextTerminated()
                remaining = None if deadline is None else deadline - loop.time()
                if remaining is not None and remaining <= 0:
                    raise Again()
                try:
                    await asyncio.wait_for(asyncio.shield(changed), remaining)
                except TimeoutError:
                    raise Again() from None
            finally:
                self._watchers.discard(wake)

    async def send(  # type: ignore[override]
        self, data: Any, flags: int = 0, copy: bool = True, track: bool = False
    ) -> None:
        """Send one frame (SNDMORE gathers frames); wait while libzmq would block."""
        if flags & Flag.SNDMORE:
            super().send(data, flags)
            return
        await self._until(
            lambda: super(Socket, self).send(data, flags | _DONTWAIT),
            flags,
            self._int_opt("sndtimeo"),
        )

    async def send_multipart(  # type: ignore[override]
        self, msg_parts: Sequence[Any], flags: int = 0, copy: bool = True, track: bool = False
    ) -> None:
        """Send a whole multipart message."""
        parts = list(msg_parts)
        await self._until(
            lambda: super(Socket, self).send_multipart(parts, flags | _DONTWAIT),
            flags,
            self._int_opt("sndtimeo"),
        )

    async def recv(self, flags: int = 0, copy: bool = True, track: bool = False) -> Any:
        """Receive one frame (a Frame with ``copy=False``)."""
        return await self._until(
            lambda: super(Socket, self).recv(flags | _DONTWAIT, copy),
            flags,
            self._int_opt("rcvtimeo"),
        )

    async def recv_multipart(  # type: ignore[override]
        self, flags: int = 0, copy: bool = True, track: bool = False
    ) -> list[Any]:
        """Receive a whole multipart message (Frames with ``copy=False``)."""
        return await self._until(
            lambda: super(Socket, self).recv_multipart(flags | _DONTWAIT, copy),
            flags,
            self._int_opt("rcvtimeo"),
        )

    async def send_string(  # type: ignore[override]
        self, u: str, flags: int = 0, copy: bool = True, encoding: str = "utf-8"
    ) -> None:
        """Send a str encoded as ``encoding``."""
        if not isinstance(u, str):
            raise TypeError("send_string takes a str")
        await self.send(u.encode(encoding), flags)

    async def recv_string(self, flags: int = 0, encoding: str = "utf-8") -> str:  # type: ignore[override]
        """Receive a frame and decode it."""
        data: bytes = await self.recv(flags)
        return data.decode(encoding)

    async def send_json(self, obj: Any, flags: int = 0, **kwargs: Any) -> None:  # type: ignore[override]
        """Send ``obj`` as JSON."""
        import json  # noqa: PLC0415

        await self.send(json.dumps(obj, **kwargs).encode("utf-8"), flags)

    async def recv_json(self, flags: int = 0, **kwargs: Any) -> Any:
        """Receive a frame and parse it as JSON."""
        import json  # noqa: PLC0415

        return json.loads(await self.recv(flags), **kwargs)

    async def send_pyobj(  # type: ignore[override]
        self, obj: Any, flags: int = 0, protocol: int = pickle.DEFAULT_PROTOCOL
    ) -> None:
        """Send ``obj`` pickled."""
        await self.send(pickle.dumps(obj, protocol), flags)

    async def recv_pyobj(self, flags: int = 0) -> Any:
        """Receive a frame and unpickle it (only from peers you trust)."""
        return pickle.loads(await self.recv(flags))

    async def poll(  # type: ignore[override]
        self, timeout: int | None = None, flags: int = PollEvent.POLLIN
    ) -> int:
        """Wait up to ``timeout`` ms for one of ``flags``; return the events (0 on timeout)."""

        def ready() -> int:
            events = self._events() & flags
            if not events:
                raise Again()
            return events

        try:
            return await self._until(ready, 0, -1 if timeout is None else timeout)
        except Again:
            return 0

    def _int_opt(self, name: str) -> int:
        value = getattr(self, name)
        return value if isinstance(value, int) else -1


class Context(zmtp.Context):
    """A context whose sockets are :class:`zmtp.asyncio.Socket`."""

    # Its own shared instance: Context.instance() of the blocking API is another object.
    _instance: ClassVar[zmtp.Context | None] = None

    @property
    def _socket_class(self) -> type[zmtp.Socket]:
        return Socket

    def socket(
        self,
        socket_type: int,
        socket_class: Callable[..., zmtp.Socket] | None = None,
        **kwargs: Any,
    ) -> Socket:
        """Create an asyncio socket (or one of ``socket_class``)."""
        return cast(Socket, super().socket(socket_type, socket_class, **kwargs))


class Poller(_BlockingPoller):
    """pyzmq's asyncio Poller: ``await poller.poll(timeout)``."""

    async def poll(self, timeout: float | None = None) -> list[tuple[Any, int]]:  # type: ignore[override]
        """Wait for any registered socket without blocking the event loop."""
        loop = asyncio.get_running_loop()
        sockets = [s for s, _ in self.sockets if isinstance(s, zmtp.Socket)]
        descriptors = [(s, f) for s, f in self.sockets if not isinstance(s, zmtp.Socket)]
        deadline = None if timeout is None or timeout < 0 else loop.time() + timeout / 1000
        while True:
            changed: asyncio.Future[None] = loop.create_future()

            def wake(future: asyncio.Future[None] = changed) -> None:
                loop.call_soon_threadsafe(_resolve, future)

            for sock in sockets:
                sock._watchers.add(wake)
            # Plain descriptors wake the wait through the event loop itself.
            for fd, flags in descriptors:
                if flags & POLLIN:
                    loop.add_reader(fd, _resolve, changed)
                if flags & POLLOUT:
                    loop.add_writer(fd, _resolve, changed)
            try:
                ready = super().poll(0)
                if ready:
                    return ready
                remaining = None if deadline is None else deadline - loop.time()
                if remaining is not None and remaining <= 0:
                    return []
                try:
                    await asyncio.wait_for(asyncio.shield(changed), remaining)
                except TimeoutError:
                    return []
            finally:
                for sock in sockets:
                    sock._watchers.discard(wake)
                for fd, flags in descriptors:
                    if flags & POLLIN:
                        loop.remove_reader(fd)
                    if flags & POLLOUT:
                        loop.remove_writer(fd)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


__all__ = ["Context", "Poller", "Socket"]
