"""``zmtp.Context``: pyzmq's Context, with one asyncio I/O thread in place of libzmq's.

The I/O thread starts with the first socket and runs every socket's connections, timers and
inproc transfers. Sockets talk to it through their pipes; a send wakes it at most once per
burst, so the blocking API does not pay a thread switch per message.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
import weakref
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from zmtp.constants import ContextOption, Errno, SocketOption
from zmtp.engine.socket_engine import InprocRegistry
from zmtp.errors import ContextTerminated, ZMQError

if TYPE_CHECKING:
    from types import TracebackType

    from zmtp.socket import Socket

_T = TypeVar("_T")
_OWN_ATTRIBUTES = frozenset({"closed", "sockopts", "inproc"})


class Context:
    """A set of sockets sharing one I/O thread and one inproc namespace."""

    _instance: ClassVar[Context | None] = None
    _instance_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, io_threads: int = 1, **kwargs: Any) -> None:
        self._io_threads = io_threads
        # Reentrant: a socket collected (and so closed) while this thread holds the lock
        # must not deadlock on it.
        self._lock = threading.RLock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._sockets: weakref.WeakSet[Socket] = weakref.WeakSet()
        self._sockets_closed = threading.Condition(self._lock)
        self._lingering: list[concurrent.futures.Future[None]] = []
        self.inproc = InprocRegistry()
        self.closed = False
        self.sockopts: dict[int, Any] = {}
        self._options: dict[int, int] = {
            ContextOption.IO_THREADS: io_threads,
            ContextOption.MAX_SOCKETS: 1023,
            ContextOption.SOCKET_LIMIT: 65535,
            ContextOption.IPV6: 0,
            ContextOption.BLOCKY: 1,
            ContextOption.MAX_MSGSZ: 2**31 - 1,
        }
        for name, value in kwargs.items():
            self.set(getattr(ContextOption, name.upper()), value)

    @classmethod
    def instance(cls, io_threads: int = 1) -> Context:
        """Return the process-wide shared context, creating it (again) if needed."""
        with cls._instance_lock:
            if cls._instance is None or cls._instance.closed:
                cls._instance = cls(io_threads)
            return cls._instance

    # -- sockets ------------------------------------------------------------------------------

    @property
    def _socket_class(self) -> type[Socket]:
        from zmtp.socket import Socket  # noqa: PLC0415  (socket imports context)

        return Socket

    def socket(
        self, socket_type: int, socket_class: Callable[..., Socket] | None = None, **kwargs: Any
    ) -> Socket:
        """Create a socket with this context's default options; ``socket_class`` as pyzmq."""
        if self.closed:
            raise ContextTerminated()
        factory = self._socket_class if socket_class is None else socket_class
        sock = factory(self, socket_type)
        for name, value in kwargs.items():
            setattr(sock, name, value)
        return sock

    def _socket_created(self, sock: Socket) -> None:
        """Register a new socket and give it the context's default options (pyzmq)."""
        if self.closed:
            raise ContextTerminated()
        with self._lock:
            self._sockets.add(sock)
        for option, value in self.sockopts.items():
            # pyzmq applies context defaults only where they fit the socket type.
            with contextlib.suppress(ZMQError, TypeError):
                sock.setsockopt(option, value)

    def _socket_closed(self, sock: Socket) -> None:
        with self._lock:
            self._sockets.discard(sock)
            self._sockets_closed.notify_all()

    # -- the I/O thread -----------------------------------------------------------------------

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The I/O thread's loop, started on first use."""
        with self._lock:
            if self._loop is None:
                if self.closed:
                    raise ContextTerminated()
                loop = asyncio.new_event_loop()
                ready = threading.Event()

                def run() -> None:
                    asyncio.set_event_loop(loop)
                    loop.call_soon(ready.set)
                    loop.run_forever()
                    loop.close()

                self._thread = threading.Thread(target=run, name="zmtp-io", daemon=True)
                self._thread.start()
                ready.wait()
                self._loop = loop
            return self._loop

    def linger(self, closing: Coroutine[Any, Any, None]) -> None:
        """Run a socket's lingering close on the I/O thread; term() waits for it."""
        future = asyncio.run_coroutine_threadsafe(closing, self.loop)
        with self._lock:
            self._lingering = [f for f in self._lingering if not f.done()]
            self._lingering.append(future)

    def run(self, coroutine: Coroutine[Any, Any, _T]) -> _T:
        """Run ``coroutine`` on the I/O thread and wait for its result."""
        loop = self.loop
        if self._thread is not None and threading.current_thread() is self._thread:
            raise ZMQError(Errno.EFAULT, "blocking zmtp call made from the I/O thread")
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result()

    # -- ending -------------------------------------------------------------------------------

    def term(self) -> None:
        """Wait until every socket is closed, then stop the I/O thread (libzmq zmq_ctx_term).

        Sockets still open are woken with ETERM on any blocking call, as libzmq does; term
        returns once their owners have closed them.
        """
        with self._lock:
            self.closed = True
            sockets = list(self._sockets)
        for sock in sockets:
            sock._terminate()
        with self._lock:
            # A socket leaves the set only once its close() has registered its linger.
            while len(self._sockets):
                self._sockets_closed.wait()
            lingering = self._lingering
        # Sockets are closed; their queued messages get their LINGER before the thread stops.
        concurrent.futures.wait(lingering)
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = None
        if loop is not None:
            loop.call_soon_threadsafe(loop.stop)
            if thread is not None and thread is not threading.current_thread():
                thread.join()

    def destroy(self, linger: int | None = None) -> None:
        """Close every socket (with ``linger`` if given), then terminate."""
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            if not sock.closed:
                sock.close(linger=linger)
        self.term()

    # -- options ------------------------------------------------------------------------------

    def set(self, option: int, value: int) -> None:
        """Set a context option (most have no effect here and are only stored)."""
        if option == ContextOption.IPV6:
            self.sockopts[SocketOption.IPV6] = value
        if option not in set(ContextOption):
            raise ZMQError(Errno.EINVAL, f"{option!r} is not a context option")
        self._options[option] = value

    def setsockopt(self, option: int, value: Any) -> None:
        """Set a default socket option for sockets created from now on (pyzmq)."""
        self.sockopts[option] = value

    def getsockopt(self, option: int) -> Any:
        """Return a default socket option set with setsockopt (pyzmq)."""
        try:
            return self.sockopts[option]
        except KeyError:
            raise ZMQError(Errno.EINVAL, f"no default set for option {option!r}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        # pyzmq: ctx.linger = 0 sets a socket default, ctx.io_threads a context option.
        if not name.startswith("_") and name not in _OWN_ATTRIBUTES:
            upper = name.upper()
            if upper in ContextOption.__members__:
                self.set(ContextOption[upper], value)
                return
            if upper in SocketOption.__members__:
                self.sockopts[SocketOption[upper]] = value
                return
        object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        upper = name.upper()
        if not name.startswith("_"):
            if upper in ContextOption.__members__:
                return self.get(ContextOption[upper])
            if upper in SocketOption.__members__:
                return self.getsockopt(SocketOption[upper])
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def get(self, option: int) -> int:
        """Return a context option."""
        try:
            return self._options[option]
        except KeyError:
            raise ZMQError(Errno.EINVAL, f"{option!r} is not a readable context option") from None

    def __enter__(self) -> Context:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.destroy()  # as pyzmq: sockets left open are closed, not waited for

    def __del__(self) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(loop.stop)
