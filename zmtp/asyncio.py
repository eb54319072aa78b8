"""``zmtp.asyncio``: pyzmq's ``zmq.asyncio`` API — send, recv and poll return asyncio Futures.

As in pyzmq, each operation returns an :class:`asyncio.Future` at once: ``await`` it, or keep it
and ask ``done()``, ``result()`` or ``cancel()`` later. The sockets are the blocking API's
sockets (same I/O thread, same semantics); only waiting changes:

* An operation that can complete now completes before the call returns: its Future is already
  done. One that would block is queued on the socket (``_recv_futures``, ``_send_futures``).
  Queued receives are served in call order, and so are sends, so two pending ``recv()`` get
  the first and the second frame.
* While anything is queued, the socket's wake-up from the I/O thread schedules one call on
  the event loop per burst of activity, however many messages the burst brought; that call
  tries each queued operation without blocking, in order, until one would block. Nothing
  polls, and no thread is added.
* RCVTIMEO and SNDTIMEO bound a queued operation: its Future fails with :class:`zmtp.Again`.
  ``close()`` cancels whatever is still queued; the end of the context fails it with ETERM.

Cancel safety. A message is taken or queued whole, synchronously, at the moment its Future is
resolved, so cancelling a pending Future loses nothing and sends nothing, and a done Future
cannot be cancelled. Futures leave one window open: the Future holds its message, but the task
awaiting it is cancelled before it resumes (a timeout firing in the same loop iteration). Then
the message is given back to the socket, ahead of anything else, for the next receive, as long
as this object received nothing in between; otherwise it is dropped with a RuntimeWarning
(pyzmq drops it silently). ``recv_into`` has already written its frame into the
caller's buffer and gives nothing back.

A socket serves one event loop at a time: when a second loop starts using it (``asyncio.run``
twice, say), what is still queued from the first loop is cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import pickle
import warnings
from collections import deque
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar, cast

import zmtp
from zmtp.constants import Errno, Flag, PollEvent, SocketOption
from zmtp.errors import Again, ContextTerminated, ZMQError
from zmtp.poll import Poller as _BlockingPoller

_T = TypeVar("_T")
_DONTWAIT = int(Flag.DONTWAIT)
_POLLIN = int(PollEvent.POLLIN)
_POLLOUT = int(PollEvent.POLLOUT)
# The blocking API, whose methods the Futures run with DONTWAIT.
_Blocking = zmtp.Socket


class Future(asyncio.Future[_T]):
    """An asyncio Future that gives its message back if the task awaiting it is cancelled late.

    Only a receive's Future carries a message to give back (see the module docstring).
    """

    __slots__ = ("_taken",)

    def __init__(self, *, loop: asyncio.AbstractEventLoop | None = None) -> None:
        super().__init__(loop=loop)
        # (socket, its receive count just after this receive, the frames received)
        self._taken: tuple[Socket, int, list[Any]] | None = None

    def __await__(self) -> Generator[Any, None, _T]:
        if not self.done():
            self._asyncio_future_blocking = True
            try:
                yield self
            except asyncio.CancelledError:
                # The awaiting task was cancelled: if this Future got its message meanwhile,
                # nobody will see it unless the socket takes it back.
                self._give_back()
                raise
        if not self.done():
            raise RuntimeError("await wasn't used with future")
        self._taken = None
        return self.result()

    __iter__ = __await__

    def _give_back(self) -> None:
        taken, self._taken = self._taken, None
        if taken is None or not self.done() or self.cancelled() or self.exception() is not None:
            return
        socket, mark, frames = taken
        socket._give_back(mark, frames)


@dataclass(eq=False, slots=True)
class _Waiting:
    """An operation queued on a socket until it can complete without blocking."""

    future: Future[Any]
    # Completes the operation (resolving nothing itself) or raises Again if it would block.
    attempt: Callable[[Future[Any]], Any]
    # A poll takes nothing, so one that must wait does not hold up the operations behind it.
    is_poll: bool = False
    timer: asyncio.TimerHandle | None = None


def _event_loop() -> asyncio.AbstractEventLoop:
    """Return the running loop; outside one, asyncio's current loop, with a warning (pyzmq's)."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        pass
    warnings.warn(
        "zmtp.asyncio used with no running event loop: its Future belongs to asyncio's"
        " current event loop",
        RuntimeWarning,
        stacklevel=4,
    )
    return asyncio.get_event_loop_policy().get_event_loop()


class Socket(zmtp.Socket):
    """A zmtp socket whose send, recv and poll return asyncio Futures (pyzmq's zmq.asyncio)."""

    _recv_futures: deque[_Waiting]
    _send_futures: deque[_Waiting]

    def __init__(
        self, *args: Any, io_loop: asyncio.AbstractEventLoop | None = None, **kwargs: Any
    ) -> None:
        """Make a socket as the blocking API does, or (given a Socket) an object on its socket.

        ``io_loop`` is pyzmq's argument, deprecated there since 22.2: the running loop is used.
        """
        if io_loop is not None:
            warnings.warn(
                "Socket(io_loop=) is deprecated and ignored: the running event loop is used",
                DeprecationWarning,
                stacklevel=2,
            )
        # Set before the blocking socket exists: its constructor may already call back.
        self._recv_futures = deque()
        self._send_futures = deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._watching = False
        self._wake_scheduled = False
        # How many receives this socket has made: a message can be given back only if it is
        # still the last one received.
        self._received = 0
        super().__init__(*args, **kwargs)

    @classmethod
    def from_socket(
        cls, socket: zmtp.Socket, io_loop: asyncio.AbstractEventLoop | None = None
    ) -> Socket:
        """Return an asyncio object on the blocking ``socket``'s socket (pyzmq's name for it)."""
        return cls(socket, io_loop=io_loop)

    # -- sending ------------------------------------------------------------------------------

    def send(  # type: ignore[override]
        self, data: Any, flags: int = 0, copy: bool = True, track: bool = False
    ) -> Future[Any]:
        """Send one frame (SNDMORE gathers frames); the Future is done once it is queued.

        Its result is what the blocking ``send`` returns (a MessageTracker with ``track``).
        """

        def attempt(_future: Future[Any]) -> Any:
            return _Blocking.send(self, data, flags | _DONTWAIT, copy, track)

        return self._start(self._send_futures, attempt, flags, SocketOption.SNDTIMEO)

    def send_multipart(  # type: ignore[override]
        self, msg_parts: Sequence[Any], flags: int = 0, copy: bool = True, track: bool = False
    ) -> Future[Any]:
        """Send a whole multipart message: all of it is queued at once, or none of it."""
        parts = list(msg_parts)

        def attempt(_future: Future[Any]) -> Any:
            return _Blocking.send_multipart(self, parts, flags | _DONTWAIT, copy, track)

        return self._start(self._send_futures, attempt, flags, SocketOption.SNDTIMEO)

    def send_string(  # type: ignore[override]
        self, u: str, flags: int = 0, copy: bool = True, encoding: str = "utf-8", **kwargs: Any
    ) -> Future[Any]:
        """Send a str encoded as ``encoding`` (``track`` as in send)."""
        if not isinstance(u, str):
            raise TypeError("send_string takes a str")
        return self.send(u.encode(encoding), flags, copy, **kwargs)

    send_unicode = send_string  # type: ignore[assignment]

    def send_json(self, obj: Any, flags: int = 0, **kwargs: Any) -> Future[Any]:  # type: ignore[override]
        """Send ``obj`` as JSON; ``copy`` and ``track`` go to send, the rest to json.dumps."""
        sending = {name: kwargs.pop(name) for name in ("copy", "track") if name in kwargs}
        return self.send(json.dumps(obj, **kwargs).encode("utf-8"), flags, **sending)

    def send_pyobj(  # type: ignore[override]
        self, obj: Any, flags: int = 0, protocol: int = pickle.DEFAULT_PROTOCOL, **kwargs: Any
    ) -> Future[Any]:
        """Send ``obj`` pickled (``copy`` and ``track`` as in send)."""
        return self.send(pickle.dumps(obj, protocol), flags, **kwargs)

    def send_serialized(  # type: ignore[override]
        self,
        msg: Any,
        serialize: Callable[[Any], Sequence[Any]],
        flags: int = 0,
        copy: bool = True,
        **kwargs: Any,
    ) -> Future[Any]:
        """Send ``serialize(msg)``, a sequence of frames, as one message."""
        return self.send_multipart(serialize(msg), flags, copy, **kwargs)

    # -- receiving ----------------------------------------------------------------------------

    def recv(self, flags: int = 0, copy: bool = True, track: bool = False) -> Future[Any]:
        """Receive one frame (a Frame with ``copy=False``); RCVMORE says whether more follow."""
        return self._receive_frame(flags, copy, None, track)

    def recv_multipart(  # type: ignore[override]
        self, flags: int = 0, copy: bool = True, track: bool = False
    ) -> Future[list[Any]]:
        """Receive the rest of a message, or a whole new one (Frames with ``copy=False``)."""
        return self._receive_message(flags, copy, None, track)

    def recv_into(  # type: ignore[override]
        self, buf: Any, /, *, nbytes: int = 0, flags: int = 0
    ) -> Future[int]:
        """Receive one frame into ``buf`` (see the blocking ``recv_into``); the frame's size."""

        def attempt(_future: Future[Any]) -> int:
            received = _Blocking.recv_into(self, buf, nbytes=nbytes, flags=flags | _DONTWAIT)
            self._received += 1
            return received

        return self._start(self._recv_futures, attempt, flags, SocketOption.RCVTIMEO)

    def recv_string(self, flags: int = 0, encoding: str = "utf-8") -> Future[str]:  # type: ignore[override]
        """Receive a frame and decode it."""
        return self._receive_frame(flags, True, lambda data: data.decode(encoding))

    recv_unicode = recv_string  # type: ignore[assignment]

    def recv_json(self, flags: int = 0, **kwargs: Any) -> Future[Any]:
        """Receive a frame and parse it as JSON."""
        return self._receive_frame(flags, True, lambda data: json.loads(data, **kwargs))

    def recv_pyobj(self, flags: int = 0) -> Future[Any]:
        """Receive a frame and unpickle it (only from peers you trust)."""
        return self._receive_frame(flags, True, pickle.loads)

    def recv_serialized(
        self, deserialize: Callable[[list[Any]], _T], flags: int = 0, copy: bool = True
    ) -> Future[_T]:
        """Receive a message and return ``deserialize(frames)``."""
        return self._receive_message(flags, copy, deserialize)

    def _receive_frame(
        self, flags: int, copy: bool, load: Callable[[Any], Any] | None, track: bool = False
    ) -> Future[Any]:
        def attempt(future: Future[Any]) -> Any:
            frame = _Blocking.recv(self, flags | _DONTWAIT, copy, track)
            self._took(future, [frame])
            return frame if load is None else load(frame)

        return self._start(self._recv_futures, attempt, flags, SocketOption.RCVTIMEO)

    def _receive_message(
        self, flags: int, copy: bool, load: Callable[[list[Any]], Any] | None, track: bool = False
    ) -> Future[Any]:
        def attempt(future: Future[Any]) -> Any:
            frames = _Blocking.recv_multipart(self, flags | _DONTWAIT, copy, track)
            self._took(future, frames)
            return frames if load is None else load(frames)

        return self._start(self._recv_futures, attempt, flags, SocketOption.RCVTIMEO)

    def _took(self, future: Future[Any], frames: list[Any]) -> None:
        """Note a receive, and what to give back if the task awaiting ``future`` is cancelled."""
        self._received += 1
        future._taken = (self, self._received, frames)

    def _give_back(self, mark: int, frames: list[Any]) -> None:
        """Put received frames back in front of the socket's input (see the module docstring)."""
        if self._closed:
            return
        if mark != self._received:
            warnings.warn(
                "a message received for a task that was then cancelled is dropped: the socket"
                " received again before the message could be given back",
                RuntimeWarning,
                stacklevel=2,
            )
            return
        self._received += 1
        with self._lock:
            self._receiving[0:0] = [bytes(frame) for frame in frames]
        self._notify()  # whoever waits on the socket (this one's queue included) sees it

    # -- polling ------------------------------------------------------------------------------

    def poll(self, timeout: int | None = None, flags: int = PollEvent.POLLIN) -> Future[int]:  # type: ignore[override]
        """Wait up to ``timeout`` ms (None or negative: forever) for ``flags``; the events.

        The Future's result is 0 on timeout; closing the socket cancels it.
        """
        if self._closed:
            raise ZMQError(Errno.ENOTSUP, "cannot poll a closed socket")
        loop = self._use_loop()
        future: Future[int] = Future(loop=loop)

        def attempt(_future: Future[Any]) -> int:
            if self._terminated:
                raise ContextTerminated()
            events = self._events() & flags
            if not events:
                raise Again()
            return events

        try:
            future.set_result(attempt(future))
        except Again:
            if timeout == 0:
                future.set_result(0)
        except ZMQError as exc:
            future.set_exception(exc)
        if future.done():
            return future
        queues = []
        if flags & _POLLIN or not flags & _POLLOUT:
            queues.append(self._recv_futures)
        if flags & _POLLOUT:
            queues.append(self._send_futures)
        waiting = _Waiting(future, attempt, is_poll=True)
        self._enqueue(queues, waiting, -1 if timeout is None else timeout)
        return future

    # -- the queues ---------------------------------------------------------------------------

    def _start(
        self,
        queue: deque[_Waiting],
        attempt: Callable[[Future[Any]], Any],
        flags: int,
        timeout_option: SocketOption,
    ) -> Future[Any]:
        """Run an operation now if nothing queued goes first and it can; else queue it."""
        future: Future[Any] = Future(loop=self._use_loop())
        blocked = False
        if queue:
            self._serve(queue)
            blocked = any(not w.is_poll and not w.future.done() for w in queue)
        if blocked:
            if flags & _DONTWAIT:
                # Operations queued earlier go first; one that may not wait cannot.
                future.set_exception(Again())
                return future
        else:
            try:
                future.set_result(attempt(future))
                return future
            except Again as exc:
                if flags & _DONTWAIT:
                    future.set_exception(exc)
                    return future
            except Exception as exc:  # the operation failed: the Future carries why
                future.set_exception(exc)
                return future
        self._enqueue([queue], _Waiting(future, attempt), self._int(timeout_option))
        return future

    def _enqueue(self, queues: list[deque[_Waiting]], waiting: _Waiting, timeout_ms: int) -> None:
        for queue in queues:
            queue.append(waiting)
        self._watch(True)
        # A change between the first attempt and _watch() woke nobody: look once more.
        for queue in queues:
            self._serve(queue)
        future = waiting.future
        if future.done():
            self._watch(bool(self._recv_futures or self._send_futures))
            return
        if timeout_ms >= 0:
            waiting.timer = future.get_loop().call_later(timeout_ms / 1000, self._expire, waiting)
        future.add_done_callback(functools.partial(self._forget, waiting))

    def _serve(self, queue: deque[_Waiting]) -> None:
        """Complete queued operations in order, until one would block."""
        polls: list[_Waiting] = []
        while queue:
            waiting = queue.popleft()
            future = waiting.future
            if future.done():
                continue
            try:
                result = waiting.attempt(future)
            except Again:
                if waiting.is_poll:
                    polls.append(waiting)
                    continue
                queue.appendleft(waiting)
                break
            except Exception as exc:  # the operation failed: the Future carries why
                self._settled(waiting)
                future.set_exception(exc)
            else:
                self._settled(waiting)
                future.set_result(result)
        queue.extendleft(reversed(polls))

    def _settled(self, waiting: _Waiting) -> None:
        if waiting.timer is not None:
            waiting.timer.cancel()
            waiting.timer = None
        if waiting.is_poll:  # a poll may sit in both queues
            self._discard(waiting)

    def _discard(self, waiting: _Waiting) -> None:
        for queue in (self._recv_futures, self._send_futures):
            with contextlib.suppress(ValueError):
                queue.remove(waiting)

    def _expire(self, waiting: _Waiting) -> None:
        """RCVTIMEO/SNDTIMEO (Again) or a poll's timeout (no events) ran out."""
        waiting.timer = None
        self._discard(waiting)
        future = waiting.future
        if not future.done():
            if waiting.is_poll:
                future.set_result(0)
            else:
                future.set_exception(Again())
        self._watch(bool(self._recv_futures or self._send_futures))

    def _forget(self, waiting: _Waiting, future: Future[Any]) -> None:
        """Drop a cancelled Future from the queues at once: it must not wait for traffic."""
        if not future.cancelled():
            return  # settled here, and already off the queues
        if waiting.timer is not None:
            waiting.timer.cancel()
            waiting.timer = None
        self._discard(waiting)
        self._watch(bool(self._recv_futures or self._send_futures))

    # -- waking -------------------------------------------------------------------------------

    def _use_loop(self) -> asyncio.AbstractEventLoop:
        loop = _event_loop()
        if loop is not self._loop:
            self._switch_loop(loop)
        return loop

    def _switch_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        """Serve ``loop`` from now on; what waited on the previous loop is cancelled."""
        previous, self._loop = self._loop, loop
        self._wake_scheduled = False
        stale = [*self._recv_futures, *self._send_futures]
        self._recv_futures.clear()
        self._send_futures.clear()
        self._watch(False)
        for waiting in stale:
            if waiting.timer is not None:
                waiting.timer.cancel()
            if previous is not None and not previous.is_closed():
                with contextlib.suppress(RuntimeError):
                    previous.call_soon_threadsafe(waiting.future.cancel)

    def _watch(self, wanted: bool) -> None:
        """Have the socket's wake-ups reach this loop only while something is queued."""
        if wanted == self._watching:
            return
        self._watching = wanted
        with self._lock:
            if wanted:
                # A blocking recv() may have left connections lent: this loop waits on the
                # socket's wake-ups, which only the I/O thread's reading produces.
                self._engine.lending.take_back()
                self._watchers.add(self._wake)
            else:
                self._watchers.discard(self._wake)

    def _wake(self) -> None:
        """Schedule one serving of the queues: the socket changed (called from any thread)."""
        loop = self._loop
        if self._wake_scheduled or loop is None:
            return
        self._wake_scheduled = True
        try:
            loop.call_soon_threadsafe(self._run_queues, loop)
        except RuntimeError:  # the loop is closed: nothing waits on it any more
            self._wake_scheduled = False

    def _run_queues(self, loop: asyncio.AbstractEventLoop) -> None:
        # Cleared before serving: a change from now on schedules another call.
        self._wake_scheduled = False
        if loop is not self._loop:
            return
        if self._recv_futures:
            self._serve(self._recv_futures)
        if self._send_futures:
            self._serve(self._send_futures)
        self._watch(bool(self._recv_futures or self._send_futures))

    # -- closing ------------------------------------------------------------------------------

    def close(self, linger: int | None = None) -> None:
        """Cancel the queued Futures, then close the socket as the blocking API does."""
        if self._closed:
            return
        queued = [*self._recv_futures, *self._send_futures]
        self._recv_futures.clear()
        self._send_futures.clear()
        self._watch(False)
        for waiting in queued:
            if waiting.timer is not None:
                waiting.timer.cancel()
            # A Future of a loop that is already closed cannot run its callbacks: leave it.
            with contextlib.suppress(RuntimeError):
                waiting.future.cancel()
        super().close(linger)
        self._notify()  # an asyncio Poller waiting on this socket ends too


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
    """pyzmq's asyncio Poller: ``poll(timeout)`` returns a Future of (socket, events) pairs.

    zmtp sockets (asyncio or blocking) and plain descriptors can be mixed; closing a watched
    socket cancels the Future, as in pyzmq.
    """

    def poll(self, timeout: float | None = None) -> Future[list[tuple[Any, int]]]:  # type: ignore[override]
        """Wait up to ``timeout`` ms (None or negative: forever) without blocking the loop."""
        future: Future[list[tuple[Any, int]]] = Future(loop=_event_loop())
        if timeout == 0:
            try:
                future.set_result(_BlockingPoller.poll(self, 0))
            except ZMQError as exc:
                future.set_exception(exc)
            return future
        _PollerWait(self, future).start(timeout)
        return future


class _PollerWait:
    """One pending ``Poller.poll``: looks again whenever a watched socket or descriptor stirs."""

    def __init__(self, poller: Poller, future: Future[list[tuple[Any, int]]]) -> None:
        self.poller = poller
        self.future = future
        self.loop = future.get_loop()
        self.sockets = [s for s, _ in poller.sockets if isinstance(s, zmtp.Socket)]
        self.descriptors = [(s, f) for s, f in poller.sockets if not isinstance(s, zmtp.Socket)]
        self.scheduled = False
        self.timer: asyncio.TimerHandle | None = None

    def start(self, timeout: float | None) -> None:
        for sock in self.sockets:
            with sock._lock:
                sock._watchers.add(self.wake)
        for fd, flags in self.descriptors:
            if flags & _POLLIN:
                self.loop.add_reader(fd, self.check)
            if flags & _POLLOUT:
                self.loop.add_writer(fd, self.check)
        if timeout is not None and timeout > 0:
            self.timer = self.loop.call_later(timeout / 1000, self.expire)
        self.future.add_done_callback(self.stop)
        self.check()  # after the watching starts, so no change falls between

    def wake(self) -> None:
        """Schedule one more look: a watched socket changed (called from the I/O thread)."""
        if self.scheduled:
            return
        self.scheduled = True
        try:
            self.loop.call_soon_threadsafe(self.check)
        except RuntimeError:  # the loop is closed: nobody waits any more
            self.scheduled = False

    def check(self) -> None:
        self.scheduled = False
        future = self.future
        if future.done():
            return
        if any(sock._closed for sock in self.sockets):
            future.cancel()
            return
        try:
            ready = _BlockingPoller.poll(self.poller, 0)
        except ZMQError as exc:
            future.set_exception(exc)
            return
        if ready:
            future.set_result(ready)

    def expire(self) -> None:
        self.timer = None
        if not self.future.done():
            self.future.set_result([])

    def stop(self, _future: Future[list[tuple[Any, int]]]) -> None:
        for sock in self.sockets:
            with sock._lock:
                sock._watchers.discard(self.wake)
        if self.timer is not None:
            self.timer.cancel()
        if self.descriptors and not self.loop.is_closed():
            for fd, flags in self.descriptors:
                if flags & _POLLIN:
                    self.loop.remove_reader(fd)
                if flags & _POLLOUT:
                    self.loop.remove_writer(fd)


__all__ = ["Context", "Future", "Poller", "Socket"]
