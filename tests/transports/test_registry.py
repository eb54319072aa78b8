"""The transport registry: endpoint parsing as libzmq does it, and entry-point plugins."""

from __future__ import annotations

import errno
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import pytest
import zmq

import transports
from transports import (
    ENTRY_POINT_GROUP,
    available_schemes,
    get_transport,
    parse_endpoint,
)
from transports.base import StreamTransport
from transports.ipc import IpcTransport
from transports.tcp import TcpTransport
from zmtp.errors import ZMQError

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def fresh_registry() -> Iterator[None]:
    transports._clear_caches()
    yield
    transports._clear_caches()


@pytest.fixture(scope="module")
def zctx() -> Iterator[zmq.Context[zmq.Socket[bytes]]]:
    context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
    yield context
    context.term()


def libzmq_result(context: zmq.Context[zmq.Socket[bytes]], op: str, endpoint: str) -> int | None:
    sock = context.socket(zmq.PAIR)
    sock.setsockopt(zmq.LINGER, 0)
    try:
        getattr(sock, op)(endpoint)
    except zmq.ZMQError as exc:
        return exc.errno
    finally:
        sock.close()
    return None


def our_result(endpoint: str) -> int | None:
    try:
        parse_endpoint(endpoint)
    except ZMQError as exc:
        return exc.errno
    return None


# Strings whose fate libzmq decides before any transport looks at the address.
ENDPOINTS = [
    "127.0.0.1:5555",  # no scheme
    "tcp:/127.0.0.1:5555",
    "tcp//127.0.0.1:5555",
    "://127.0.0.1:5555",  # empty scheme
    "tcp://",  # empty address
    "ipc://",
    "inproc://",
    "foo://",  # empty address wins over the unknown scheme
    "foo://127.0.0.1:5555",  # unknown scheme
    "TCP://127.0.0.1:5555",  # schemes are case-sensitive
    "Ipc://x",
    " tcp://127.0.0.1:5555",
    "pgm://127.0.0.1:5555",  # not built into pyzmq's libzmq either
    "epgm://127.0.0.1:5555",
    "norm://x",
    "vmci://x",
    "ws://127.0.0.1:5555",
    "",
]


@pytest.mark.parametrize("op", ["bind", "connect"])
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_errno_matches_libzmq(zctx: zmq.Context[zmq.Socket[bytes]], endpoint: str, op: str) -> None:
    theirs = libzmq_result(zctx, op, endpoint)
    assert theirs is not None
    assert our_result(endpoint) == theirs


# Schemes libzmq implements and zmtp does not: zmtp has no transport for them, so they are
# EPROTONOSUPPORT here, where libzmq fails later and differently for a PAIR socket.
NOT_IMPLEMENTED = [
    ("udp://127.0.0.1:5555", "ENOCOMPATPROTO: udp is for RADIO/DISH only"),
    ("tipc://x", "EAGAIN: libzmq has tipc, this kernel does not"),
]


@pytest.mark.parametrize(("endpoint", "libzmq_says"), NOT_IMPLEMENTED)
def test_schemes_zmtp_does_not_implement(
    zctx: zmq.Context[zmq.Socket[bytes]], endpoint: str, libzmq_says: str
) -> None:
    theirs = libzmq_result(zctx, "bind", endpoint)
    assert theirs is not None and theirs != errno.EPROTONOSUPPORT, libzmq_says
    assert our_result(endpoint) == errno.EPROTONOSUPPORT


@pytest.mark.parametrize(
    ("endpoint", "expected"),
    [
        ("tcp://127.0.0.1:5555", ("tcp", "127.0.0.1:5555")),
        ("ipc:///tmp/x.sock", ("ipc", "/tmp/x.sock")),
        ("ipc://@name", ("ipc", "@name")),
        ("inproc://name", ("inproc", "name")),
        ("inproc://a://b", ("inproc", "a://b")),  # split at the first '://', as libzmq
        ("tcp://[::1]:5555", ("tcp", "[::1]:5555")),
    ],
)
def test_parse_endpoint_splits_without_touching_the_address(
    endpoint: str, expected: tuple[str, str]
) -> None:
    assert parse_endpoint(endpoint) == expected


def test_inproc_is_recognised_but_has_no_transport(zctx: zmq.Context[zmq.Socket[bytes]]) -> None:
    assert "inproc" in available_schemes()
    assert libzmq_result(zctx, "bind", "inproc://registry-test") is None
    with pytest.raises(ZMQError) as caught:
        get_transport("inproc")
    assert caught.value.errno == errno.EPROTONOSUPPORT
    assert "engine" in str(caught.value)


@pytest.mark.parametrize(
    ("endpoint", "words"),
    [
        ("127.0.0.1:5555", "no '://'"),
        ("://x", "no transport"),
        ("tcp://", "no address"),
        ("foo://x", "'foo' is not supported"),
    ],
)
def test_messages_name_the_endpoint_and_the_problem(endpoint: str, words: str) -> None:
    with pytest.raises(ZMQError) as caught:
        parse_endpoint(endpoint)
    assert repr(endpoint) in str(caught.value)
    assert words in str(caught.value)


def test_builtin_transports_are_shared_instances() -> None:
    tcp = get_transport("tcp")
    assert isinstance(tcp, TcpTransport)
    assert get_transport("tcp") is tcp
    assert isinstance(get_transport("ipc"), IpcTransport)
    with pytest.raises(ZMQError) as caught:
        get_transport("foo")
    assert caught.value.errno == errno.EPROTONOSUPPORT


def test_builtins_work_without_package_metadata(monkeypatch: pytest.MonkeyPatch) -> None:
    # A source tree, or an install made before the entry points were declared.
    monkeypatch.setattr(transports, "entry_points", lambda group: [])
    assert {"tcp", "ipc", "inproc"} <= available_schemes()
    assert isinstance(get_transport("tcp"), TcpTransport)
    assert isinstance(get_transport("ipc"), IpcTransport)


# -- plugins through entry points ---------------------------------------------------------

PLUGIN = """
import asyncio
from transports.base import StreamTransport


class Fake(StreamTransport):
    scheme = "fake"

    def check_bind(self, address, options):
        pass

    def check_connect(self, address, options):
        pass

    async def listen(self, address, options, factory):
        raise NotImplementedError

    async def open(self, address, options, factory):
        raise NotImplementedError


class Mislabelled(Fake):
    scheme = "other"


class NotATransport:
    scheme = "notone"
"""


def _install_plugin(
    directory: Path, monkeypatch: pytest.MonkeyPatch, entries: dict[str, str]
) -> None:
    """Put a distribution with ``entries`` in the zmtp.transports group on sys.path."""
    (directory / "zmtp_fake_plugin.py").write_text(PLUGIN)
    info = directory / "zmtp_fake_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: zmtp-fake-plugin\nVersion: 1.0\n")
    lines = "".join(f"{name} = {value}\n" for name, value in entries.items())
    (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\n{lines}")
    monkeypatch.syspath_prepend(str(directory))
    monkeypatch.delitem(sys.modules, "zmtp_fake_plugin", raising=False)


def test_a_plugin_adds_a_scheme(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _install_plugin(tmp_path, monkeypatch, {"fake": "zmtp_fake_plugin:Fake"})
    assert parse_endpoint("fake://anything") == ("fake", "anything")
    transport = get_transport("fake")
    assert isinstance(transport, StreamTransport)
    assert type(transport).__name__ == "Fake"
    assert isinstance(get_transport("tcp"), TcpTransport)  # built-ins still there


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("zmtp_fake_plugin_missing:Fake", "failed to load"),
        ("zmtp_fake_plugin:NotATransport", "not a StreamTransport"),
        ("zmtp_fake_plugin:Mislabelled", "declares scheme 'other'"),
    ],
)
def test_a_broken_plugin_is_eprotonosupport_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str, words: str
) -> None:
    _install_plugin(tmp_path, monkeypatch, {"broken": value})
    assert parse_endpoint("broken://x") == ("broken", "x")
    with pytest.raises(ZMQError) as caught:
        get_transport("broken")
    assert caught.value.errno == errno.EPROTONOSUPPORT
    assert "broken://" in str(caught.value) and words in str(caught.value)


def test_a_plugin_cannot_claim_inproc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _install_plugin(tmp_path, monkeypatch, {"inproc": "zmtp_fake_plugin:Fake"})
    with pytest.raises(ZMQError):
        get_transport("inproc")


def test_the_registry_is_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert "fake" not in available_schemes()
    _install_plugin(tmp_path, monkeypatch, {"fake": "zmtp_fake_plugin:Fake"})
    assert "fake" not in available_schemes()  # read once per process
    transports._clear_caches()
    assert "fake" in available_schemes()


# -- packaging ------------------------------------------------------------------------------


def _pyproject() -> dict[str, object]:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        return tomllib.load(handle)


def test_pyproject_declares_the_builtin_entry_points() -> None:
    project = _pyproject()["project"]
    assert isinstance(project, dict)
    declared = project["entry-points"][ENTRY_POINT_GROUP]
    assert declared == transports._BUILTIN
    tool = _pyproject()["tool"]
    assert isinstance(tool, dict)
    assert "transports" in tool["hatch"]["build"]["targets"]["wheel"]["packages"]
    assert "transports" in tool["mypy"]["files"]


def test_installed_metadata_agrees_when_present() -> None:
    try:
        installed = distribution("zmtp").entry_points.select(group=ENTRY_POINT_GROUP)
    except PackageNotFoundError:
        pytest.skip("zmtp is not installed (running from a source tree)")
    if not installed:
        pytest.skip("the installed metadata predates the entry points (reinstall to refresh)")
    assert {entry.name: entry.value for entry in installed} == transports._BUILTIN


@pytest.mark.parametrize(
    "code",
    [
        "import transports.tcp, transports.ipc",
        "import transports; import zmtp",
        "import zmtp; import transports.tcp",
        "from transports import get_transport; get_transport('tcp'); get_transport('ipc')",
    ],
)
def test_import_order_does_not_matter(code: str) -> None:
    # zmtp/__init__ imports the engine, which imports this registry: no cycle may bite.
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
