"""``zmtp.Context``: pyzmq's Context, with one asyncio I/O thread in place of libzmq's.

Two objects play the parts pyzmq's two layers play. A :class:`_Runtime` is what libzmq calls
the context: the I/O thread, the inproc namespace, the context options and the set of sockets
``term()`` waits for. A :class:`Context` is a handle on one, like a pyzmq Context on a libzmq
context pointer: it carries pyzmq's per-object state (default socket options, the sockets made
through it, ``closed``). ``Context.shadow(ctx.underlying)`` makes a second handle on the same
runtime, so two libraries can share one inproc namespace and one I/O thread.

The I/O thread starts with the first socket and runs every socket's connections, timers and
inproc transfers. Sockets talk to it through their pipes; a send wakes it at most once per
burst, so the blocking API does not pay a thread switch per message.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import copy
import inspect
import os
import sys
import threading
import warnings
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
# zmq_ctx_set's smallest accepted value per option, as libzmq 4.3.5's ctx.cpp checks it; an
# option missing here (MSG_T_SIZE, an unknown number) is EINVAL to set. 3 is THREAD_PRIORITY
# to zmq_ctx_set (only stored: SOCKET_LIMIT still reads back), and THREAD_NAME_PREFIX takes
# any int. Thread options are only stored: the I/O thread is a Python thread.
_SET_MINIMUM = {
    ContextOption.IO_THREADS: 0,
    ContextOption.MAX_SOCKETS: 1,
    ContextOption.THREAD_PRIORITY: 0,
    ContextOption.THREAD_SCHED_POLICY: 0,
    ContextOption.MAX_MSGSZ: 0,
    ContextOption.THREAD_AFFINITY_CPU_ADD: 0,
    ContextOption.THREAD_AFFINITY_CPU_REMOVE: 0,
    ContextOption.THREAD_NAME_PREFIX: -(2**31),
    ContextOption.ZERO_COPY_RECV: 0,
    ContextOption.IPV6: 0,
    ContextOption.BLOCKY: 0,
}
# Options libzmq stores as booleans (reading back 0 or 1).
_BOOLEAN = frozenset({ContextOption.IPV6, ContextOption.BLOCKY, ContextOption.ZERO_COPY_RECV})
# Set-only options: zmq_ctx_get answers EINVAL for them.
_WRITE_ONLY = frozenset(
    {
        ContextOption.THREAD_PRIORITY,
        ContextOption.THREAD_AFFINITY_CPU_ADD,
        ContextOption.THREAD_AFFINITY_CPU_REMOVE,
    }
)
# Every live runtime by its ``underlying`` address, for Context.shadow(address).
_RUNTIMES: weakref.WeakValueDictionary[int, _Runtime] = weakref.WeakValueDictionary()


class _Runtime:
    """The shared state behind one or more Context handles (libzmq's ``ctx_t``)."""

    def __init__(self, io_threads: int) -> None:
        # Reentrant: a socket collected (and so closed) while this thread holds the lock
        # must not deadlock on it.
        self.lock = threading.RLock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.thread: threading.Thread | None = None
        # Every open socket, whichever handle made it: term() waits for all of them.
        self.sockets: weakref.WeakSet[Socket] = weakref.WeakSet()
        self.sockets_closed = threading.Condition(self.lock)
        self.lingering: list[concurrent.futures.Future[None]] = []
        self.inproc = InprocRegistry()
        # THREAD_AFFINITY_CPU_ADD/REMOVE's set (stored only, like the other thread options).
        self.affinity: set[int] = set()
        # term() has started (new sockets get ETERM) / has finished (the address is gone).
        self.closing = False
        self.ended = False
        # What zmq_ctx_get reads (libzmq's defaults); set-only options are not kept here.
        self.options: dict[int, int] = {
            ContextOption.IO_THREADS: io_threads,
            ContextOption.MAX_SOCKETS: 1023,
            ContextOption.SOCKET_LIMIT: 65535,
            ContextOption.THREAD_SCHED_POLICY: -1,
            ContextOption.MAX_MSGSZ: 2**31 - 1,
            ContextOption.MSG_T_SIZE: 64,
            ContextOption.THREAD_NAME_PREFIX: 0,
            ContextOption.ZERO_COPY_RECV: 1,
            ContextOption.IPV6: 0,
            ContextOption.BLOCKY: 1,
        }
        _RUNTIMES[id(self)] = self

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The I/O thread's loop, started on first use."""
        with self.lock:
            if self._loop is None:
                if self.closing:
                    raise ContextTerminated()
                loop = asyncio.new_event_loop()
                ready = threading.Event()

                def run() -> None:
                    asyncio.set_event_loop(loop)
                    loop.call_soon(ready.set)
                    loop.run_forever()
                    loop.close()

                self.thread = threading.Thread(target=run, name="zmtp-io", daemon=True)
                self.thread.start()
                ready.wait()
                self._loop = loop
            return self._loop

    def linger(self, closing: Coroutine[Any, Any, None]) -> None:
        """Run a socket's lingering close on the I/O thread; term() waits for it."""
        future = asyncio.run_coroutine_threadsafe(closing, self.loop)
        with self.lock:
            self.lingering = [f for f in self.lingering if not f.done()]
            self.lingering.append(future)

    def run(self, coroutine: Coroutine[Any, Any, _T]) -> _T:
        """Run ``coroutine`` on the I/O thread and wait for its result."""
        loop = self.loop
        if self.thread is not None and threading.current_thread() is self.thread:
            raise ZMQError(Errno.EFAULT, "blocking zmtp call made from the I/O thread")
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result()

    def term(self) -> None:
        """Wait until every socket is closed, then stop the I/O thread (zmq_ctx_term)."""
        with self.lock:
            self.closing = True
            sockets = list(self.sockets)
        for sock in sockets:
            sock._terminate()
        with self.lock:
            # A socket leaves the set only once its close() has registered its linger.
            while len(self.sockets):
                self.sockets_closed.wait()
            lingering = self.lingering
        # Sockets are closed; their queued messages get their LINGER before the thread stops.
        concurrent.futures.wait(lingering)
        with self.lock:
            loop, thread = self._loop, self.thread
            self._loop = None
            self.ended = True
            _RUNTIMES.pop(id(self), None)
        if loop is not None:
            loop.call_soon_threadsafe(loop.stop)
            if thread is not None and thread is not threading.current_thread():
                thread.join()

    def __del__(self) -> None:
        # No handle is left (a handle holds its runtime, a socket its handle): nothing can
        # use the I/O thread any more, so it stops without waiting for lingering messages.
        loop = self.__dict__.get("_loop")
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(loop.stop)


def _runtime_at(address: Any) -> _Runtime:
    """Return the runtime a shadow refers to: a Context, or an ``underlying`` address."""
    if isinstance(address, Context):
        return address._runtime
    if not isinstance(address, int) or isinstance(address, bool):
        raise TypeError(f"shadow needs a Context or its .underlying int, not {address!r}")
    runtime = _RUNTIMES.get(address)
    if runtime is None:
        raise ZMQError(Errno.EFAULT, f"no live zmtp context at address {address:#x}")
    return runtime


class Context:
    """A set of sockets sharing one I/O thread and one inproc namespace (pyzmq's Context).

    ``Context(io_threads)`` makes a new context; ``Context(other)``, ``Context(shadow=other)``
    and ``Context.shadow(other.underlying)`` make another handle on ``other``'s, as pyzmq
    does for a libzmq context. Terminating any handle terminates the shared context; a
    shadow that is collected leaves it running.
    """

    _instance: ClassVar[Context | None] = None
    _instance_pid: ClassVar[int | None] = None
    _instance_lock: ClassVar[threading.Lock] = threading.Lock()
    # The name reprs use, looked up on the exact class (a subclass shows its own name).
    _repr_cls: ClassVar[str] = "zmtp.Context"

    closed: bool
    sockopts: dict[int, Any]
    _shadow: bool

    def __init__(self, io_threads: int | Context = 1, shadow: Context | int = 0) -> None:
        if isinstance(io_threads, Context):  # pyzmq: Context(other) shadows other
            io_threads, shadow = 1, io_threads
        if shadow:
            runtime = _runtime_at(shadow)
            # Keeps a shadowed Context object alive while this handle lives, as pyzmq does.
            self._shadow_obj = shadow
        else:
            if not isinstance(io_threads, int) or io_threads < 0:
                raise ZMQError(Errno.EINVAL, f"io_threads must be an int >= 0, not {io_threads!r}")
            runtime = _Runtime(io_threads)
        self._runtime = runtime
        self._shadow = bool(shadow)
        # The sockets made through this handle, for repr() and destroy() (pyzmq's _sockets).
        self._sockets: weakref.WeakSet[Socket] = weakref.WeakSet()
        self._warn_destroy_close = False
        self.sockopts = {}
        self.closed = False

    @property
    def underlying(self) -> int:
        """The address of the shared context, for ``Context.shadow`` (pyzmq's libzmq pointer)."""
        return id(self._runtime)

    @classmethod
    def shadow(cls, address: int | Context) -> Context:
        """Return a new handle on the context at ``address`` (a Context or its ``underlying``)."""
        return cls(shadow=address)

    def __copy__(self) -> Context:
        """Return a shadow of this context: copying one shares it, as in pyzmq."""
        return type(self).shadow(self.underlying)

    def __deepcopy__(self, memo: dict[int, Any]) -> Context:
        return copy.copy(self)

    @classmethod
    def instance(cls, io_threads: int = 1) -> Context:
        """Return the process-wide shared context, creating it (again) if needed.

        A forked child gets a context of its own: the parent's I/O thread does not exist there.
        """
        with cls._instance_lock:
            if cls._instance is None or cls._instance.closed or cls._instance_pid != os.getpid():
                cls._instance = cls(io_threads)
                cls._instance_pid = os.getpid()
            return cls._instance

    # -- sockets ------------------------------------------------------------------------------

    @property
    def _socket_class(self) -> type[Socket]:
        from zmtp.socket import Socket  # noqa: PLC0415  (socket imports context)

        return Socket

    def _check_open(self) -> None:
        """Refuse new sockets once the context is ending (ETERM) or gone (EFAULT).

        EFAULT is libzmq's answer for a context pointer terminated through another handle.
        """
        if self.closed or (self._runtime.closing and not self._runtime.ended):
            raise ContextTerminated()
        if self._runtime.ended:
            raise ZMQError(Errno.EFAULT, "the context this one shadows was terminated")

    def socket(
        self, socket_type: int, socket_class: Callable[..., Socket] | None = None, **kwargs: Any
    ) -> Socket:
        """Create a socket; ``socket_class`` and ``kwargs`` (passed to it) as in pyzmq."""
        self._check_open()
        factory = self._socket_class if socket_class is None else socket_class
        return factory(self, socket_type, **kwargs)

    def _socket_created(self, sock: Socket) -> None:
        """Register a new socket and give it the context's default options (pyzmq)."""
        runtime = self._runtime
        with runtime.lock:
            # Checked under the lock term() takes to start closing: a socket either makes
            # term() wait for it or is refused, never registered once term() has looked.
            self._check_open()
            runtime.sockets.add(sock)
            self._sockets.add(sock)
        defaults = dict(self.sockopts)
        if runtime.options[ContextOption.IPV6]:
            # libzmq: a new socket's IPV6 starts as the context's; explicit defaults win.
            defaults.setdefault(SocketOption.IPV6, runtime.options[ContextOption.IPV6])
        for option, value in defaults.items():
            # pyzmq applies context defaults only where they fit the socket type.
            with contextlib.suppress(ZMQError, TypeError):
                sock.setsockopt(option, value)

    def _socket_closed(self, sock: Socket) -> None:
        runtime = self._runtime
        with runtime.lock:
            runtime.sockets.discard(sock)
            self._sockets.discard(sock)
            runtime.sockets_closed.notify_all()

    # -- the I/O thread (shared by every handle on the context) -------------------------------

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The I/O thread's loop, started on first use."""
        return self._runtime.loop

    @property
    def inproc(self) -> InprocRegistry:
        """The inproc:// namespace, shared by every handle on the context."""
        return self._runtime.inproc

    def _linger(self, closing: Coroutine[Any, Any, None]) -> None:
        """Run a socket's lingering close on the I/O thread; term() waits for it.

        Private: ``ctx.linger`` is pyzmq's default LINGER for new sockets.
        """
        self._runtime.linger(closing)

    def run(self, coroutine: Coroutine[Any, Any, _T]) -> _T:
        """Run ``coroutine`` on the I/O thread and wait for its result."""
        return self._runtime.run(coroutine)

    # -- ending -------------------------------------------------------------------------------

    def term(self) -> None:
        """Wait until every socket is closed, then stop the I/O thread (libzmq zmq_ctx_term).

        Sockets still open, through any handle, are woken with ETERM on any blocking call, as
        libzmq does; term returns once their owners have closed them. A context already
        terminated through another handle is only marked closed here.
        """
        if not self._runtime.ended:
            self._runtime.term()
        self.closed = True

    def destroy(self, linger: int | None = None) -> None:
        """Close the sockets made through this handle (with ``linger`` if given), then term."""
        if self.closed:
            return
        with self._runtime.lock:
            sockets = list(self._sockets)
        for sock in sockets:
            if sock.closed:
                continue
            if self._warn_destroy_close:
                warnings.warn(
                    f"Destroying context with unclosed socket {sock!r}",
                    ResourceWarning,
                    stacklevel=3,
                    source=sock,
                )
            sock.close(linger=linger)
        self.term()

    # -- options ------------------------------------------------------------------------------

    def set(self, option: int, value: int) -> None:
        """Set a context option (libzmq's ranges; most only stored, see the README)."""
        if not isinstance(value, int):
            raise TypeError(f"context option values are ints, not {value!r}")
        minimum = _SET_MINIMUM.get(option)  # type: ignore[call-overload]
        if minimum is None:
            raise ZMQError(Errno.EINVAL, f"{option!r} is not a settable context option")
        if value < minimum:
            raise ZMQError(Errno.EINVAL, f"{value} is out of range for {ContextOption(option)!r}")
        affinity = self._runtime.affinity
        if option == ContextOption.THREAD_AFFINITY_CPU_ADD:
            affinity.add(value)
        elif option == ContextOption.THREAD_AFFINITY_CPU_REMOVE:
            if value not in affinity:  # libzmq: only a CPU added before can be removed
                raise ZMQError(Errno.EINVAL, f"CPU {value} is not in the I/O thread affinity")
            affinity.discard(value)
        if option in _WRITE_ONLY:
            return
        self._runtime.options[option] = int(bool(value)) if option in _BOOLEAN else value

    def get(self, option: int) -> int:
        """Return a context option."""
        try:
            return self._runtime.options[option]
        except KeyError:
            raise ZMQError(Errno.EINVAL, f"{option!r} is not a readable context option") from None

    def setsockopt(self, option: int, value: Any) -> None:
        """Set a default socket option for sockets created from now on (pyzmq)."""
        self.sockopts[option] = value

    def getsockopt(self, option: int) -> Any:
        """Return a default socket option set with setsockopt (pyzmq)."""
        try:
            return self.sockopts[option]
        except KeyError:
            raise ZMQError(Errno.EINVAL, f"no default set for option {option!r}") from None

    # pyzmq's attribute protocol: ``ctx.io_threads`` is a context option, ``ctx.linger`` a
    # default socket option (an AttributeError to read until one is set); any other public
    # name a class does not declare is an AttributeError, so typos do not pass silently.
    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_") or name in self.__dict__ or _declares(type(self), name):
            object.__setattr__(self, name, value)
            return
        upper = name.upper()
        if upper in ContextOption.__members__:
            self.set(ContextOption[upper], value)
        elif upper in SocketOption.__members__:
            self.sockopts[SocketOption[upper]] = value
        else:
            raise AttributeError(f"{type(self).__name__} has no such option: {upper}")

    def __getattr__(self, name: str) -> Any:
        upper = name.upper()
        if not name.startswith("_"):
            if upper in ContextOption.__members__:
                option = ContextOption[upper]
                if option not in self._runtime.options:
                    # Write-only (THREAD_PRIORITY...): to Python (and mock) no attribute.
                    raise AttributeError(f"{name} is a write-only context option")
                return self._runtime.options[option]
            if upper in SocketOption.__members__ and SocketOption[upper] in self.sockopts:
                return self.sockopts[SocketOption[upper]]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name: str) -> None:
        if name in self.__dict__:
            object.__delattr__(self, name)
            return
        option = SocketOption.__members__.get(name.upper())
        if option is None or option not in self.sockopts:
            raise AttributeError(f"{type(self).__name__!r} has no default for {name!r}")
        del self.sockopts[option]

    def __dir__(self) -> list[str]:
        return [*super().__dir__(), *ContextOption.__members__]

    # -- the rest of the Python protocol ------------------------------------------------------

    def __repr__(self) -> str:
        name = type(self).__dict__.get("_repr_cls")
        if name is None:
            name = f"{type(self).__module__}.{type(self).__qualname__}"
        count = len(self.__dict__.get("_sockets", ()))
        sockets = f"{count} socket{'s' if count > 1 else ''}" if count else ""
        closed = " closed" if self.__dict__.get("closed") else ""
        return f"<{name}({sockets}) at {id(self):#x}{closed}>"

    def __enter__(self) -> Context:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        # As pyzmq: sockets left open are closed (with a ResourceWarning), not waited for.
        self._warn_destroy_close = True
        self.destroy()

    def __del__(self) -> None:
        # The runtime stops its own I/O thread once unreferenced; a handle that was never
        # terminated is a leak worth a warning, as in pyzmq (shadows never own the context,
        # and a handle whose __init__ failed has nothing to report).
        if "closed" not in self.__dict__ or self._shadow or self.closed:
            return
        if not sys.is_finalizing():
            warnings.warn(f"Unclosed context {self!r}", ResourceWarning, stacklevel=2, source=self)


def _declares(cls: type, name: str) -> bool:
    """Whether a class in ``cls``'s MRO defines or annotates ``name`` (then it is no option)."""
    return any(
        name in klass.__dict__ or name in inspect.get_annotations(klass) for klass in cls.__mro__
    )
