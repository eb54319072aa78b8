"""Frames to send and MessageTracker: what ``copy`` and ``track`` mean, as in pyzmq.

A tracker is done exactly when zmtp has let go of the message: never while a Frame, a pipe, a
connection or an inproc peer still holds it. Every wait is bounded.
"""

from __future__ import annotations

import copy
import gc
import threading
from collections.abc import Iterator

import pytest
from api_support import WAIT, socket_maker

import zmtp
from zmtp.tracker import TRACKED, MessageTracker

BIG = zmtp.COPY_THRESHOLD  # the smallest frame copy=False shares instead of copying


@pytest.fixture
def ctx() -> Iterator[zmtp.Context]:
    context = zmtp.Context()
    yield context
    context.destroy(linger=0)


def _pair(ctx: zmtp.Context, url: str) -> tuple[zmtp.Socket, zmtp.Socket]:
    make = socket_maker(ctx, zmtp.Socket)
    push, pull = make(zmtp.PUSH), make(zmtp.PULL)
    pull.bind(url)
    push.connect(pull.last_endpoint.decode())
    return push, pull


def test_a_frame_copies_small_data_and_shares_large_bytes_as_pyzmq_decides() -> None:
    small, large = b"s" * 10, b"L" * BIG
    assert zmtp.Frame(small).bytes is not small
    assert zmtp.Frame(large).bytes is large
    assert zmtp.Frame(large, copy=True).bytes is not large
    assert zmtp.Frame(small, copy=False).bytes is small
    assert zmtp.Frame(small, copy_threshold=0).bytes is small


def test_a_mutable_buffer_is_always_copied_so_later_changes_do_not_reach_the_frame() -> None:
    data = bytearray(b"a" * BIG)
    frame = zmtp.Frame(data, copy=False)
    data[0] = ord("b")
    assert frame.bytes[:1] == b"a"


@pytest.mark.parametrize("bad", [5, object(), "text"])
def test_a_frame_of_something_that_is_not_bytes_like_is_a_type_error(bad: object) -> None:
    with pytest.raises(TypeError):
        zmtp.Frame(bad)


def test_a_frame_of_a_non_contiguous_buffer_is_a_buffer_error() -> None:
    with pytest.raises(BufferError):
        zmtp.Frame(memoryview(bytearray(10))[::2])


def test_frame_repr_shows_short_content_whole_and_long_content_with_its_size() -> None:
    assert repr(zmtp.Frame(b"123")) == "<zmtp.Frame(b'123')>"
    assert repr(zmtp.Frame(b"x" * 20)) == "<zmtp.Frame(b'xxxxxxxxxxxx'...20B)>"
    assert repr(zmtp.Frame(b"x" * 2000)) == "<zmtp.Frame(b'xxxxxxxxxxxx'...2kB)>"
    assert repr(zmtp.Frame(b"x" * 2_000_000)) == "<zmtp.Frame(b'xxxxxxxxxxxx'...2MB)>"


def test_frame_buffer_is_one_view_and_indexing_reads_properties() -> None:
    frame = zmtp.Frame(b"abc")
    assert frame.buffer is frame.buffer
    assert frame.buffer.tobytes() == b"abc"
    assert frame[zmtp.MORE] == 0
    with pytest.raises(zmtp.ZMQError):
        frame["User-Id"]


def test_an_untracked_frame_has_no_tracker_and_cannot_be_watched() -> None:
    frame = zmtp.Frame(b"x" * BIG, copy=False)
    assert frame.tracker is None
    assert copy.copy(frame).tracker is None
    with pytest.raises(ValueError, match="not tracked"):
        MessageTracker(frame)


def test_a_copied_tracked_frame_is_finished_from_the_start() -> None:
    """zmtp never held the caller's buffer, so there is nothing to wait for."""
    assert zmtp.Frame(b"abc", track=True).tracker.done  # type: ignore[union-attr]


def test_a_tracked_frame_is_done_only_when_every_copy_of_it_is_gone() -> None:
    frame = zmtp.Frame(b"x" * 10, copy=False, track=True)
    tracker = MessageTracker(frame)
    twin = copy.copy(frame)
    del frame
    gc.collect()
    assert not tracker.done
    with pytest.raises(zmtp.NotDone):
        tracker.wait(0.05)
    del twin
    tracker.wait(WAIT / 1000)
    assert tracker.done


def test_the_registry_lists_tracked_frames_while_they_are_alive() -> None:
    before = set(TRACKED.refs)
    frame = zmtp.Frame(b"y" * 100, copy=False, track=True)
    (key,) = set(TRACKED.refs) - before
    assert TRACKED.refs[key].nbytes == 100
    del frame
    gc.collect()
    assert key not in TRACKED.refs


def test_a_tracker_watches_events_and_other_trackers() -> None:
    event = threading.Event()
    inner = MessageTracker(event)
    outer = MessageTracker(inner)
    assert not outer.done
    event.set()
    assert outer.done
    with pytest.raises(TypeError):
        MessageTracker(object())


def test_send_copy_false_below_copy_threshold_copies_and_returns_the_finished_tracker(
    ctx: zmtp.Context,
) -> None:
    push, pull = _pair(ctx, "inproc://small")
    tracker = push.send(b"small", copy=False, track=True)
    assert tracker is zmtp.tracker.FINISHED_TRACKER
    assert push.send(b"small") is None
    assert pull.recv() == b"small"


@pytest.mark.parametrize("url", ["inproc://tracked", "tcp://127.0.0.1:*"])
def test_a_tracked_send_is_done_once_the_message_has_left_zmtp(ctx: zmtp.Context, url: str) -> None:
    push, pull = _pair(ctx, url)
    push.copy_threshold = 0
    tracker = push.send_multipart([b"head", b"body"], copy=False, track=True)
    assert isinstance(tracker, MessageTracker)
    received = pull.recv_multipart()
    assert received == [b"head", b"body"]
    assert all(type(frame) is bytes for frame in received)
    tracker.wait(WAIT / 1000)


def test_a_tracked_message_queued_for_an_absent_peer_is_not_done(ctx: zmtp.Context) -> None:
    push = socket_maker(ctx, zmtp.Socket)(zmtp.PUSH)
    push.connect("inproc://nobody-yet")
    push.copy_threshold = 0
    tracker = push.send(b"waiting", copy=False, track=True)
    assert tracker is not None and not tracker.done
    pull = socket_maker(ctx, zmtp.Socket)(zmtp.PULL)
    pull.bind("inproc://nobody-yet")
    assert pull.recv() == b"waiting"
    tracker.wait(WAIT / 1000)


def test_sending_a_tracked_frame_returns_its_tracker_done_after_the_frame_is_gone(
    ctx: zmtp.Context,
) -> None:
    push, pull = _pair(ctx, "tcp://127.0.0.1:*")
    frame = zmtp.Frame(b"again", copy=False, track=True)
    first, second = push.send(frame, copy=False), push.send(frame)
    assert first is frame.tracker and second is frame.tracker
    assert [pull.recv(), pull.recv()] == [b"again", b"again"]
    assert first is not None and not first.done
    del frame
    first.wait(WAIT / 1000)


def test_send_track_true_with_an_untracked_frame_is_a_value_error(ctx: zmtp.Context) -> None:
    push, _ = _pair(ctx, "inproc://untracked")
    with pytest.raises(ValueError, match="tracked Frame"):
        push.send(zmtp.Frame(b"x"), copy=False, track=True)


def test_recv_copy_false_gives_frames_with_more_and_a_tracker_when_asked(
    ctx: zmtp.Context,
) -> None:
    push, pull = _pair(ctx, "inproc://frames")
    push.send_multipart([b"a", b"b"])
    first = pull.recv(copy=False, track=True)
    assert first.more and first.bytes == b"a" and first.tracker.done
    last = pull.recv(copy=False)
    assert not last.more and last.tracker is None
