"""``zmtp.Context`` where pyzmq's own semantics decide: shadows, attribute options, repr, dir.

pyzmq's Context is a handle on a libzmq context: ``Context.shadow(ctx.underlying)`` makes a
second handle on the same one (same inproc namespace, same I/O thread), and terminating any
handle terminates it. Default socket options, the sockets made through a handle and its
``closed`` flag belong to the handle. real pyzmq (installed for the tests) is asked where its
answer is the reference.
"""

from __future__ import annotations

import copy
import gc
import sys
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
import zmq
from api_support import Worker

import zmtp
import zmtp.asyncio
import zmtp.context
from zmtp.monitor import recv_monitor_message

WAIT = 5000  # ms


@pytest.fixture
def ctx() -> Iterator[zmtp.Context]:
    context = zmtp.Context()
    yield context
    if not context.closed:
        assert Worker(context.destroy, 0).join(), "ctx.destroy(linger=0) hung"


# -- shadows ----------------------------------------------------------------------------------


def test_a_shadow_shares_the_inproc_namespace(ctx: zmtp.Context) -> None:
    shadow = zmtp.Context.shadow(ctx.underlying)
    pull = ctx.socket(zmtp.PULL)
    pull.bind("inproc://shared")
    push = shadow.socket(zmtp.PUSH)
    push.connect("inproc://shared")
    pull.rcvtimeo = WAIT
    push.send(b"across handles")
    assert pull.recv() == b"across handles"
    assert push.context is shadow and pull.context is ctx
    push.close(0)
    pull.close(0)


def test_every_way_of_shadowing_reaches_the_same_context(ctx: zmtp.Context) -> None:
    shadows = [
        zmtp.Context.shadow(ctx.underlying),
        zmtp.Context.shadow(ctx),
        zmtp.Context(ctx),
        zmtp.Context(shadow=ctx.underlying),
        copy.copy(ctx),
        copy.deepcopy(ctx),
    ]
    assert all(s.underlying == ctx.underlying and s._shadow for s in shadows)
    assert not ctx._shadow
    assert zmtp.Context().underlying != ctx.underlying


def test_a_shadow_of_an_asyncio_context_makes_blocking_sockets(ctx: zmtp.Context) -> None:
    actx = zmtp.asyncio.Context()
    blocking = zmtp.Context(actx)
    sock = blocking.socket(zmtp.PAIR)
    assert type(sock) is zmtp.Socket
    sock.close(0)
    actx.term()


def test_collecting_a_shadow_leaves_the_context_running(ctx: zmtp.Context) -> None:
    shadow = zmtp.Context.shadow(ctx.underlying)
    shadow.socket(zmtp.PUB).close()
    del shadow
    gc.collect()
    assert not ctx.closed
    ctx.socket(zmtp.PUB).close()


def test_after_term_through_one_handle_a_shadow_gets_efault(ctx: zmtp.Context) -> None:
    """libzmq's answer for a context pointer that was terminated (pyzmq: EFAULT)."""
    shadow = zmtp.Context.shadow(ctx)
    ctx.term()
    with pytest.raises(zmtp.ZMQError) as info:
        shadow.socket(zmtp.PUB)
    assert info.value.errno == zmtp.EFAULT
    with pytest.raises(zmtp.ZMQError) as info:
        zmtp.Context.shadow(ctx.underlying)
    assert info.value.errno == zmtp.EFAULT
    shadow.term()  # already ended: only marks this handle closed
    assert shadow.closed


def test_term_through_a_shadow_waits_for_every_handles_sockets(ctx: zmtp.Context) -> None:
    shadow = zmtp.Context.shadow(ctx)
    sock = ctx.socket(zmtp.PULL)
    terming = Worker(shadow.term)
    assert not terming.join(0.2), "term returned with a socket of the other handle open"
    with pytest.raises(zmtp.ContextTerminated):
        sock.recv()
    sock.close()
    terming.result()
    ctx.term()
    assert ctx.closed


def test_shadow_refuses_what_is_no_context() -> None:
    with pytest.raises(TypeError):
        zmtp.Context.shadow("tcp://nowhere")  # type: ignore[arg-type]
    with pytest.raises(zmtp.ZMQError) as info:
        zmtp.Context.shadow(12345)
    assert info.value.errno == zmtp.EFAULT


def test_a_failed_init_is_einval_and_leaves_nothing_to_report(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with zmq.Context() as theirs:  # the reference accepts 1 and refuses -1 alike
        assert theirs.get(zmq.IO_THREADS) == 1
    with pytest.raises(zmq.ZMQError) as expected:
        zmq.Context(-1)
    unraisable: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    with pytest.raises(zmtp.ZMQError) as info:
        zmtp.Context(-1)
    assert info.value.errno == expected.value.errno == zmtp.EINVAL
    gc.collect()
    assert unraisable == []


# -- handles and their sockets ----------------------------------------------------------------


def test_socket_keyword_arguments_go_to_the_socket_class_as_in_pyzmq(ctx: zmtp.Context) -> None:
    class Tagged(zmtp.Socket):
        tag: str

        def __init__(self, context: zmtp.Context, kind: int, tag: str = "") -> None:
            super().__init__(context, kind)
            self.tag = tag

    sock = ctx.socket(zmtp.DEALER, socket_class=Tagged, tag="mine")
    assert isinstance(sock, Tagged) and sock.tag == "mine"
    sock.close()


def test_repr_counts_this_handles_sockets_and_says_closed() -> None:
    context = zmtp.Context()
    assert repr(context).startswith("<zmtp.Context() at 0x")
    first, second = context.socket(zmtp.PUSH), context.socket(zmtp.PULL)
    assert "zmtp.Context(2 sockets)" in repr(context)
    first.close()
    assert "zmtp.Context(1 socket)" in repr(context)
    second.close()
    context.term()
    assert repr(context).endswith(" closed>")
    assert repr(zmtp.asyncio.Context()).startswith("<zmtp.asyncio.Context()")


def test_dir_lists_the_context_options(ctx: zmtp.Context) -> None:
    assert {"socket", "term", "IO_THREADS", "MAX_SOCKETS"} <= set(dir(ctx))


def test_instance_is_renewed_in_a_forked_child(monkeypatch: pytest.MonkeyPatch) -> None:
    """The parent's I/O thread does not exist after fork(): pyzmq gives the child a new one."""
    parent = zmtp.Context.instance()
    try:
        with monkeypatch.context() as forked:
            forked.setattr(zmtp.context.os, "getpid", lambda: -1)
            child = zmtp.Context.instance()
            assert zmtp.Context.instance() is child
        assert child is not parent
        child.term()
    finally:
        parent.term()


def test_leaving_a_with_block_warns_about_sockets_left_open() -> None:
    with pytest.warns(ResourceWarning, match="unclosed socket"), zmtp.Context() as context:
        sock = context.socket(zmtp.PUSH)
    assert sock.closed and context.closed


def test_destroy_itself_does_not_warn() -> None:
    context = zmtp.Context()
    context.socket(zmtp.PUSH)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        context.destroy()


def test_a_context_dropped_unterminated_warns(recwarn: pytest.WarningsRecorder) -> None:
    zmtp.Context()
    gc.collect()
    assert any(issubclass(w.category, ResourceWarning) for w in recwarn.list)


# -- attribute options ------------------------------------------------------------------------


def test_socket_option_attributes_are_defaults_for_new_sockets(ctx: zmtp.Context) -> None:
    """``linger`` is also the name of no Context method: the option is not shadowed."""
    ctx.linger = 5
    assert ctx.linger == 5 == ctx.getsockopt(zmtp.LINGER)
    sock = ctx.socket(zmtp.REQ)
    assert sock.linger == 5
    sock.close()
    del ctx.linger
    with pytest.raises(AttributeError):
        ctx.linger  # noqa: B018
    assert ctx.socket(zmtp.REQ).close(0) is None


def test_context_attributes_follow_pyzmqs_rules(ctx: zmtp.Context) -> None:
    theirs = zmq.Context()
    try:
        for context in (theirs, ctx):
            assert not hasattr(context, "rcvtimeo")  # a socket default not set
            assert not hasattr(context, "thread_affinity_cpu_add")  # a set-only context option
            with pytest.raises(AttributeError):
                context.no_such_option = 1
            context.max_sockets = 100
            assert context.max_sockets == 100 == context.get(zmtp.MAX_SOCKETS)
    finally:
        theirs.term()


def test_subclass_attributes_declared_by_annotation_are_plain_attributes() -> None:
    class Named(zmtp.Context):
        label: str

    context = Named()
    context.label = "x"
    assert context.label == "x"
    context.term()


@pytest.mark.parametrize(
    ("option", "value"),
    [(o, v) for o in [*zmtp.ContextOption, 0, 11, 9999] for v in (-1, 0, 5)],
)
def test_context_options_set_and_read_back_as_libzmq(
    ctx: zmtp.Context, option: int, value: int
) -> None:
    """zmq_ctx_set's ranges, set-only options, booleans: whatever libzmq answers."""
    with zmq.Context() as theirs:
        try:
            theirs.set(option, value)
        except zmq.ZMQError as e:
            with pytest.raises(zmtp.ZMQError) as info:
                ctx.set(option, value)
            assert info.value.errno == e.errno
        else:
            ctx.set(option, value)
        try:
            expected = theirs.get(option)
        except zmq.ZMQError as e:
            if option in (zmtp.THREAD_SCHED_POLICY, zmtp.THREAD_NAME_PREFIX):
                # A value of -1 is a valid answer, which pyzmq reads as an error (errno is
                # whatever the last failed call left).
                assert ctx.get(option) == -1
            else:
                with pytest.raises(zmtp.ZMQError) as info:
                    ctx.get(option)
                assert info.value.errno == e.errno
        else:
            assert ctx.get(option) == expected


# -- monitoring as pyzmq ----------------------------------------------------------------------


def test_get_monitor_socket_returns_the_open_monitor_again(ctx: zmtp.Context) -> None:
    sock = ctx.socket(zmtp.PULL)
    monitor = sock.get_monitor_socket()
    assert sock.get_monitor_socket() is monitor
    sock.disable_monitor()
    monitor.rcvtimeo = WAIT
    assert recv_monitor_message(monitor)["event"] == zmtp.EVENT_MONITOR_STOPPED
    monitor.close()
    again = sock.get_monitor_socket()
    assert again is not monitor
    again.close()
    sock.close()


@pytest.mark.asyncio
async def test_recv_monitor_message_from_an_asyncio_socket_is_awaitable() -> None:
    actx = zmtp.asyncio.Context()
    sock = actx.socket(zmtp.PULL)
    monitor = sock.get_monitor_socket(zmtp.EVENT_LISTENING)
    sock.bind("tcp://127.0.0.1:*")
    event = await recv_monitor_message(monitor)
    assert event["event"] == zmtp.EVENT_LISTENING
    assert event["endpoint"] == sock.last_endpoint
    monitor.close(0)
    sock.close(0)
    actx.term()


# -- constants --------------------------------------------------------------------------------


def test_every_socket_option_has_pyzmqs_c_type() -> None:
    for option in zmtp.SocketOption:
        assert option._opt_type.value == zmq.SocketOption(option)._opt_type.value, option


def test_constants_all_is_pyzmqs_less_its_leaked_enum_helpers() -> None:
    ours = set(zmtp.constants.__all__)
    theirs = set(zmq.constants.__all__) - {"Enum", "IntEnum", "IntFlag"}
    assert theirs <= ours
    # zmtp also names a few errnos libzmq reports and the DRAFT ZERO_COPY_RECV.
    assert ours - theirs <= {
        "EACCES", "EINTR", "EMFILE", "ENAMETOOLONG", "ENODEV", "ENOENT", "ENOMEM", "EPROTO",
        "ZERO_COPY_RECV",
    }  # fmt: skip
    assert not hasattr(zmtp, "IntEnum")
