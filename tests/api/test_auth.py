"""``zmtp.auth``: the ZAP policy, CURVE certificates, and the thread and asyncio handlers.

The policy is checked frame by frame through ``handle_zap_message`` (no sockets), one test per
branch, with pyzmq's status texts. Certificates are checked against pyzmq's ``zmq.auth.certs``
in both directions. The handlers are checked over real sockets: a ZAP request sent straight to
``inproc://zeromq.zap.01``, and PLAIN servers and clients in one context. CURVE credentials
callbacks are checked plain, as coroutines and as functions returning a future, in the policy
and in both handlers. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import logging
import os
import re
import stat
import threading
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest
import zmq
import zmq.auth

import zmtp
import zmtp.asyncio
from zmtp import z85
from zmtp.auth import (
    CURVE_ALLOW_ANY,
    AsyncioAuthenticator,
    Authenticator,
    ThreadAuthenticator,
    create_certificates,
    load_certificate,
    load_certificates,
)
from zmtp.curve_keys import curve_keypair, curve_public
from zmtp.zap import ZapReply

WAIT_S = 5.0
WAIT_MS = int(WAIT_S * 1000)
LOCAL = b"127.0.0.1"


def request(
    mechanism: bytes,
    *credentials: bytes,
    domain: bytes = b"",
    address: bytes = LOCAL,
    version: bytes = b"1.0",
    request_id: bytes = b"7",
) -> list[bytes]:
    """A ZAP request as a REP handler receives it (no envelope)."""
    return [version, request_id, domain, address, b"", mechanism, *credentials]


def status(reply: list[bytes]) -> tuple[bytes, bytes, bytes]:
    """(status code, status text, user id) of a reply, after checking its framing."""
    assert len(reply) == 6
    assert reply[0] == b"1.0"
    assert reply[5] == b""
    return reply[2], reply[3], reply[4]


def refused(text: bytes) -> tuple[bytes, bytes, bytes]:
    return b"400", text, b""


@pytest.fixture
def ctx() -> Iterator[zmtp.Context]:
    context = zmtp.Context()
    yield context
    closing = threading.Thread(target=context.destroy, args=(0,), daemon=True)
    closing.start()
    closing.join(WAIT_S)
    assert not closing.is_alive(), "ctx.destroy(linger=0) hung"


@pytest.fixture
def auth(ctx: zmtp.Context) -> Authenticator:
    """A policy that is never started: handle_zap_message needs no socket."""
    return Authenticator(ctx)


@pytest.fixture
def client_key() -> tuple[bytes, bytes]:
    """(raw 32-byte public key, its Z85 text)."""
    public, _secret = curve_keypair()
    return z85.decode(public), public


# -- the policy ---------------------------------------------------------------------------------


def test_null_is_accepted_until_configured(auth: Authenticator) -> None:
    reply = auth.handle_zap_message(request(b"NULL"))
    assert status(reply) == (b"200", b"OK", b"anonymous")
    assert reply[1] == b"7", "the reply carries the request's id"
    ZapReply.from_frames(reply, b"7")  # what a zmtp server would accept


def test_plain_and_curve_are_refused_until_configured(
    auth: Authenticator, client_key: tuple[bytes, bytes]
) -> None:
    assert status(auth.handle_zap_message(request(b"PLAIN", b"admin", b"secret"))) == refused(
        b"No passwords defined"
    )
    assert status(auth.handle_zap_message(request(b"CURVE", client_key[0]))) == refused(
        b"Unknown domain"
    )


def test_malformed_requests(auth: Authenticator) -> None:
    short = auth.handle_zap_message([b"1.0", b"9", b"", LOCAL])
    assert status(short) == refused(b"Not enough frames")
    assert short[1] == b"9"
    assert status(auth.handle_zap_message(request(b"NULL", version=b"2.0"))) == refused(
        b"Invalid version"
    )


def test_allow_list(auth: Authenticator) -> None:
    auth.allow("127.0.0.1", "10.0.0.1")
    assert status(auth.handle_zap_message(request(b"NULL")))[0] == b"200"
    assert status(auth.handle_zap_message(request(b"NULL", address=b"10.0.0.1")))[0] == b"200"
    assert status(auth.handle_zap_message(request(b"NULL", address=b"10.0.0.2"))) == refused(
        b"Address not allowed"
    )


def test_deny_list(auth: Authenticator) -> None:
    auth.deny("10.0.0.2")
    assert status(auth.handle_zap_message(request(b"NULL", address=b"10.0.0.2"))) == refused(
        b"Address denied"
    )
    assert status(auth.handle_zap_message(request(b"NULL")))[0] == b"200"


def test_allow_and_deny_are_exclusive(ctx: zmtp.Context) -> None:
    allowing = Authenticator(ctx)
    allowing.allow("127.0.0.1")
    with pytest.raises(ValueError, match="not both"):
        allowing.deny("10.0.0.2")
    denying = Authenticator(ctx)
    denying.deny("10.0.0.2")
    with pytest.raises(ValueError, match="not both"):
        denying.allow("127.0.0.1")


def test_address_check_comes_before_credentials(auth: Authenticator) -> None:
    auth.deny("127.0.0.1")
    auth.configure_plain(passwords={"admin": "secret"})
    assert status(auth.handle_zap_message(request(b"PLAIN", b"admin", b"secret"))) == refused(
        b"Address denied"
    )


def test_allowed_address_must_still_authenticate(auth: Authenticator) -> None:
    auth.allow("127.0.0.1")
    auth.configure_plain(passwords={"admin": "secret"})
    assert status(auth.handle_zap_message(request(b"PLAIN", b"admin", b"wrong"))) == refused(
        b"Invalid password"
    )


def test_plain(auth: Authenticator) -> None:
    auth.configure_plain(passwords={"admin": "secret", "ünï": "cödé"})
    ok = auth.handle_zap_message(request(b"PLAIN", b"admin", b"secret"))
    assert status(ok) == (b"200", b"OK", b"admin")
    utf8 = auth.handle_zap_message(request(b"PLAIN", "ünï".encode(), "cödé".encode()))
    assert status(utf8) == (b"200", b"OK", "ünï".encode())
    for credentials, text in [
        ((b"admin", b"wrong"), b"Invalid password"),
        ((b"nobody", b"secret"), b"Invalid username"),
        ((b"admin",), b"Invalid credentials"),
        ((b"admin", b"secret", b"extra"), b"Invalid credentials"),
    ]:
        reply = auth.handle_zap_message(request(b"PLAIN", *credentials))
        assert status(reply) == refused(text), credentials


def test_plain_domains(auth: Authenticator) -> None:
    auth.configure_plain("global", {"admin": "secret"})
    assert status(auth.handle_zap_message(request(b"PLAIN", b"admin", b"secret")))[0] == b"400"
    assert status(
        auth.handle_zap_message(request(b"PLAIN", b"admin", b"secret", domain=b"other"))
    ) == refused(b"Invalid domain")
    ok = auth.handle_zap_message(request(b"PLAIN", b"admin", b"secret", domain=b"global"))
    assert status(ok)[0] == b"200"

    # '*' covers every domain without a table of its own, the empty one included ...
    auth.configure_plain("*", {"guest": "guest"})
    for domain in (b"", b"other"):
        reply = auth.handle_zap_message(request(b"PLAIN", b"guest", b"guest", domain=domain))
        assert status(reply) == (b"200", b"OK", b"guest"), domain
    # ... but a domain with its own table uses only that one.
    reply = auth.handle_zap_message(request(b"PLAIN", b"guest", b"guest", domain=b"global"))
    assert status(reply) == refused(b"Invalid username")


def test_curve_allow_any(auth: Authenticator, client_key: tuple[bytes, bytes]) -> None:
    raw, text = client_key
    auth.configure_curve(domain="*", location=CURVE_ALLOW_ANY)
    reply = auth.handle_zap_message(request(b"CURVE", raw, domain=b"anything"))
    assert status(reply) == (b"200", b"OK", text)
    assert status(auth.handle_zap_message(request(b"CURVE", raw[:31]))) == refused(
        b"Invalid credentials"
    )
    assert status(auth.handle_zap_message(request(b"CURVE", raw, raw))) == refused(
        b"Invalid credentials"
    )


def test_curve_certificate_directory(auth: Authenticator, tmp_path: Path) -> None:
    public_file, _ = create_certificates(tmp_path, "client")
    known_text, _ = load_certificate(public_file)
    stranger_text, _ = curve_keypair()
    auth.configure_curve(domain="*", location=tmp_path)
    known = auth.handle_zap_message(request(b"CURVE", z85.decode(known_text)))
    assert status(known) == (b"200", b"OK", known_text)
    stranger = auth.handle_zap_message(request(b"CURVE", z85.decode(stranger_text)))
    assert status(stranger) == refused(b"Unknown key")
    assert auth.certs == {"*": {known_text: True}}


def test_curve_domains(
    auth: Authenticator, tmp_path: Path, client_key: tuple[bytes, bytes]
) -> None:
    raw, _ = client_key
    auth.configure_curve(domain="strict", location=tmp_path)  # no certificates: nobody
    assert status(auth.handle_zap_message(request(b"CURVE", raw))) == refused(b"Unknown domain")
    auth.configure_curve(domain="*", location=CURVE_ALLOW_ANY)
    assert status(auth.handle_zap_message(request(b"CURVE", raw)))[0] == b"200"
    strict = auth.handle_zap_message(request(b"CURVE", raw, domain=b"strict"))
    assert status(strict) == refused(b"Unknown key")
    # Reconfiguring a domain replaces its policy.
    auth.configure_curve(domain="strict", location=CURVE_ALLOW_ANY)
    strict = auth.handle_zap_message(request(b"CURVE", raw, domain=b"strict"))
    assert status(strict)[0] == b"200"


def test_curve_missing_directory_raises(auth: Authenticator, tmp_path: Path) -> None:
    with pytest.raises(NotADirectoryError, match="no CURVE certificate directory"):
        auth.configure_curve(location=tmp_path / "missing")


class Provider:
    def __init__(self, allowed: set[bytes]) -> None:
        self.allowed = allowed
        self.calls: list[tuple[str, bytes]] = []

    def callback(self, domain: str, key: bytes) -> bool:
        self.calls.append((domain, key))
        return key in self.allowed


def test_curve_callback(auth: Authenticator, client_key: tuple[bytes, bytes]) -> None:
    raw, text = client_key
    provider = Provider({text})
    auth.configure_curve_callback("*", provider)
    assert status(auth.handle_zap_message(request(b"CURVE", raw))) == (b"200", b"OK", text)
    other = z85.decode(curve_keypair()[0])
    assert status(auth.handle_zap_message(request(b"CURVE", other, domain=b"d"))) == refused(
        b"Unknown key"
    )
    assert provider.calls == [("*", text), ("d", z85.encode(other))]
    with pytest.raises(ValueError, match="needs a provider"):
        auth.configure_curve_callback("*", None)


class AsyncProvider:
    """Answers after a turn of the loop, as a provider asking a service would."""

    def __init__(self, allowed: set[bytes]) -> None:
        self.allowed = allowed
        self.loops: list[asyncio.AbstractEventLoop] = []
        self.threads: list[str] = []

    async def callback(self, domain: str, key: bytes) -> bool:
        self.loops.append(asyncio.get_running_loop())
        self.threads.append(threading.current_thread().name)
        await asyncio.sleep(0)
        return key in self.allowed


class FutureProvider:
    """A plain function answering with an awaitable that is not a coroutine."""

    def __init__(self, allowed: set[bytes]) -> None:
        self.allowed = allowed

    def callback(self, domain: str, key: bytes) -> asyncio.Future[bool]:
        answer = asyncio.get_running_loop().create_future()
        answer.set_result(key in self.allowed)
        return answer


class BrokenAsync:
    async def callback(self, domain: str, key: bytes) -> bool:
        await asyncio.sleep(0)
        raise RuntimeError("async database down")


def make_provider(kind: str, allowed: set[bytes]) -> Provider | AsyncProvider | FutureProvider:
    if kind == "async":
        return AsyncProvider(allowed)
    if kind == "future":
        return FutureProvider(allowed)
    return Provider(allowed)


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", ["sync", "async", "future"])
async def test_handle_zap_message_async_awaits_the_callback(
    auth: Authenticator, client_key: tuple[bytes, bytes], kind: str
) -> None:
    raw, text = client_key
    auth.configure_curve_callback("*", make_provider(kind, {text}))
    ok = await auth.handle_zap_message_async(request(b"CURVE", raw))
    assert status(ok) == (b"200", b"OK", text)
    other = z85.decode(curve_keypair()[0])
    refused_reply = await auth.handle_zap_message_async(request(b"CURVE", other))
    assert status(refused_reply) == refused(b"Unknown key")
    assert status(await auth.handle_zap_message_async(request(b"NULL")))[0] == b"200"


def test_handle_zap_message_refuses_an_awaitable_callback(
    auth: Authenticator, client_key: tuple[bytes, bytes]
) -> None:
    """The blocking call starts no loop: a clear TypeError, the coroutine closed unawaited.

    Closing it spares the caller Python's "coroutine was never awaited" warning.
    """
    made: list[Coroutine[Any, Any, bool]] = []

    class Recording:
        def callback(self, domain: str, key: bytes) -> Coroutine[Any, Any, bool]:
            made.append(AsyncProvider({key}).callback(domain, key))
            return made[-1]

    auth.configure_curve_callback("vip", Recording())
    with pytest.raises(TypeError, match=r"'vip' returned an awaitable.*_async"):
        auth.handle_zap_message(request(b"CURVE", client_key[0], domain=b"vip"))
    assert [inspect.getcoroutinestate(coroutine) for coroutine in made] == [inspect.CORO_CLOSED]


class Broken:
    def callback(self, domain: str, key: bytes) -> bool:
        raise RuntimeError("sync database down")


@pytest.mark.asyncio
@pytest.mark.parametrize("provider", [Broken(), BrokenAsync()], ids=["sync", "async"])
async def test_failing_callback_is_answered_with_500(
    auth: Authenticator,
    client_key: tuple[bytes, bytes],
    caplog: pytest.LogCaptureFixture,
    provider: Broken | BrokenAsync,
) -> None:
    auth.configure_curve_callback("*", provider)
    with caplog.at_level(logging.ERROR, logger="zmtp.auth"):
        reply = await auth._answer_async(request(b"CURVE", client_key[0]))
    assert status(reply) == (b"500", b"Internal error", b"")
    assert "database down" in caplog.text


def test_curve_user_id_can_be_overridden(
    ctx: zmtp.Context, client_key: tuple[bytes, bytes]
) -> None:
    class Named(Authenticator):
        def curve_user_id(self, client_public_key: bytes) -> str:
            return "alice"

    auth = Named(ctx)
    auth.configure_curve(location=CURVE_ALLOW_ANY)
    assert status(auth.handle_zap_message(request(b"CURVE", client_key[0])))[2] == b"alice"


def test_unknown_mechanism_is_refused_even_when_allowed(auth: Authenticator) -> None:
    auth.allow("127.0.0.1")
    for mechanism in (b"GSSAPI", b"BOGUS"):
        assert status(auth.handle_zap_message(request(mechanism, b"x"))) == refused(b"NO ACCESS")


# -- certificates -------------------------------------------------------------------------------


def _shape(path: str) -> list[str]:
    """A certificate's lines with the date, the generator's name and the keys blanked out."""
    text = Path(path).read_text()
    text = re.sub(r"Generated on .* by \w+", "Generated on DATE by WHO", text)
    text = re.sub(r'(public|secret)-key = ".{40}"', r'\1-key = "KEY"', text)
    return text.splitlines()


def test_certificates_round_trip(tmp_path: Path) -> None:
    public_file, secret_file = create_certificates(tmp_path, "server", {"name": "srv"})
    assert (public_file, secret_file) == (
        str(tmp_path / "server.key"),
        str(tmp_path / "server.key_secret"),
    )
    public, none = load_certificate(public_file)
    same_public, secret = load_certificate(secret_file)
    assert none is None
    assert public == same_public
    assert secret is not None
    assert curve_public(secret) == public
    assert stat.S_IMODE(os.stat(secret_file).st_mode) == 0o600
    assert "    name = srv" in _shape(secret_file)
    assert load_certificates(tmp_path) == {public: True}


def test_certificates_have_pyzmqs_layout(tmp_path: Path) -> None:
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    ours.mkdir()
    theirs.mkdir()
    metadata = {"name": "x", "email": "a@b"}
    our_files = create_certificates(ours, "c", metadata)
    their_files = zmq.auth.create_certificates(theirs, "c", metadata)
    for mine, pyzmqs in zip(our_files, their_files, strict=True):
        assert _shape(mine) == _shape(pyzmqs)


def test_pyzmq_loads_our_certificates(tmp_path: Path) -> None:
    public_file, secret_file = create_certificates(tmp_path, "ours")
    public, secret = load_certificate(secret_file)
    assert zmq.auth.load_certificate(public_file) == (public, None)
    assert zmq.auth.load_certificate(secret_file) == (public, secret)
    assert zmq.auth.load_certificates(str(tmp_path)) == {public: True}


def test_we_load_pyzmqs_certificates(tmp_path: Path) -> None:
    public_file, secret_file = zmq.auth.create_certificates(str(tmp_path), "theirs", {"k": "v"})
    public, secret = zmq.auth.load_certificate(secret_file)
    assert load_certificate(public_file) == (public, None)
    assert load_certificate(secret_file) == (public, secret)
    create_certificates(tmp_path, "ours")
    assert load_certificates(tmp_path) == zmq.auth.load_certificates(str(tmp_path))


def test_handwritten_certificate(tmp_path: Path) -> None:
    """Tabs, single quotes, comments, and an unquoted key with a '#' (a Z85 character)."""
    secret = b"0000#" * 8
    public = curve_public(secret)
    path = tmp_path / "hand.key_secret"
    path.write_text(
        "# a comment\n\ncurve  # the keys\n"
        f"\tpublic-key = '{public.decode()}'   # single quotes\n"
        f"\tsecret-key = {secret.decode()}  # unquoted\n"
    )
    assert load_certificate(path) == (public, secret)


def test_missing_certificate(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no CURVE certificate file") as info:
        load_certificate(tmp_path / "nope.key")
    assert isinstance(info.value, OSError)
    assert "nope.key" in str(info.value)
    with pytest.raises(OSError, match="no CURVE certificate directory"):
        load_certificates(tmp_path / "nowhere")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("metadata\ncurve\n", "no public-key"),
        ('curve\n    secret-key = "x"\n', "no public-key"),
        ('curve\n    public-key = "tooshort"\n', "must be 40 Z85 characters"),
        ('curve\n    public-key = "' + "~" * 40 + '"\n', "not valid Z85"),
        ("    public-key = x\n", "expected 'name = value' in a section"),
        ("curve\n    public-key\n", "expected 'name = value' in a section"),
    ],
)
def test_malformed_certificate(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.key"
    path.write_text(content)
    with pytest.raises(ValueError, match=message) as info:
        load_certificate(path)
    assert "bad.key" in str(info.value)
    with pytest.raises(ValueError, match=message):
        load_certificates(tmp_path)


def test_secret_key_must_match(tmp_path: Path) -> None:
    public, _ = curve_keypair()
    _, other_secret = curve_keypair()
    path = tmp_path / "mixed.key_secret"
    path.write_text(
        f'curve\n    public-key = "{public.decode()}"\n    secret-key = "{other_secret.decode()}"\n'
    )
    with pytest.raises(ValueError, match="does not belong"):
        load_certificate(path)


def test_binary_file_is_not_a_certificate(tmp_path: Path) -> None:
    path = tmp_path / "bin.key"
    path.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ValueError, match="not UTF-8"):
        load_certificate(path)


def test_certificates_of_an_existing_secret_key(tmp_path: Path) -> None:
    public, secret = curve_keypair()
    _, secret_file = create_certificates(tmp_path, "kept", secret_key=secret.decode())
    assert load_certificate(secret_file) == (public, secret)
    _, raw_file = create_certificates(tmp_path, "raw", secret_key=z85.decode(secret))
    assert load_certificate(raw_file) == (public, secret)
    with pytest.raises(ValueError, match="40 Z85 characters"):
        create_certificates(tmp_path, "bad", secret_key="short")
    assert not (tmp_path / "bad.key").exists()


def test_metadata_that_would_break_the_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot be written"):
        create_certificates(tmp_path, "c", {"name": "two\nlines"})


# -- ThreadAuthenticator ------------------------------------------------------------------------


def _auth_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "zmtp-auth"]


def _ask(ctx: zmtp.Context, frames: list[bytes]) -> list[bytes]:
    """Send one ZAP request straight to the context's handler, as a server's DEALER does."""
    with ctx.socket(zmtp.DEALER) as dealer:
        dealer.linger = 0
        dealer.rcvtimeo = dealer.sndtimeo = WAIT_MS
        dealer.connect("inproc://zeromq.zap.01")
        dealer.send_multipart([b"", *frames])
        delimiter, *reply = dealer.recv_multipart()
    assert delimiter == b""
    return reply


def test_thread_authenticator_answers_and_stops_twice(ctx: zmtp.Context) -> None:
    before = len(_auth_threads())
    auth = ThreadAuthenticator(ctx)
    for _ in range(2):
        auth.start()
        assert auth.is_alive()
        auth.configure_plain(passwords={"admin": "secret"})
        ok = _ask(ctx, request(b"PLAIN", b"admin", b"secret"))
        assert status(ok) == (b"200", b"OK", b"admin")
        auth.stop()
        assert not auth.is_alive()
        assert len(_auth_threads()) == before
    auth.stop()  # stopping a stopped authenticator is harmless


def test_thread_authenticator_frees_the_zap_endpoint(ctx: zmtp.Context) -> None:
    first = ThreadAuthenticator(ctx)
    first.start()
    second = ThreadAuthenticator(ctx)
    with pytest.raises(zmtp.ZMQError) as info:
        second.start()
    assert info.value.errno == zmtp.EADDRINUSE
    assert not second.is_alive()
    first.stop()
    second.start()
    assert status(_ask(ctx, request(b"NULL")))[0] == b"200"
    second.stop()


@pytest.mark.parametrize("provider", [Broken(), BrokenAsync()], ids=["sync", "async"])
def test_thread_authenticator_survives_a_failing_policy(
    ctx: zmtp.Context, provider: Broken | BrokenAsync
) -> None:
    auth = ThreadAuthenticator(ctx, log=logging.getLogger("test_auth.silenced"))
    logging.getLogger("test_auth.silenced").disabled = True
    auth.start()
    try:
        auth.configure_curve_callback("*", provider)
        key = z85.decode(curve_keypair()[0])
        assert status(_ask(ctx, request(b"CURVE", key)))[0] == b"500"
        assert status(_ask(ctx, request(b"NULL")))[0] == b"200"
    finally:
        auth.stop()


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_thread_authenticator_curve_callback(ctx: zmtp.Context, kind: str) -> None:
    raw = z85.decode(curve_keypair()[0])
    text = z85.encode(raw)
    auth = ThreadAuthenticator(ctx)
    auth.start()
    try:
        auth.configure_curve_callback("*", make_provider(kind, {text}))
        assert status(_ask(ctx, request(b"CURVE", raw))) == (b"200", b"OK", text)
        stranger = z85.decode(curve_keypair()[0])
        assert status(_ask(ctx, request(b"CURVE", stranger))) == refused(b"Unknown key")
    finally:
        auth.stop()


def test_thread_authenticator_keeps_one_loop_for_async_callbacks(ctx: zmtp.Context) -> None:
    """Awaitables run in the handler thread, on a loop it keeps until it stops."""
    provider = AsyncProvider(set())
    auth = ThreadAuthenticator(ctx)
    auth.start()
    try:
        auth.configure_curve_callback("*", provider)
        for _ in range(2):
            key = z85.decode(curve_keypair()[0])
            assert status(_ask(ctx, request(b"CURVE", key)))[0] == b"400"
    finally:
        auth.stop()
    assert provider.threads == ["zmtp-auth", "zmtp-auth"]
    first, second = provider.loops
    assert first is second
    assert first.is_closed()


def test_thread_authenticator_ends_with_its_context() -> None:
    """ctx.term() without stop() neither hangs nor leaves the thread behind."""
    context = zmtp.Context()
    auth = ThreadAuthenticator(context)
    auth.start()
    thread = auth.thread
    assert thread is not None
    closing = threading.Thread(target=context.term, daemon=True)
    closing.start()
    closing.join(WAIT_S)
    assert not closing.is_alive(), "ctx.term() hung on a running authenticator"
    thread.join(WAIT_S)
    assert not thread.is_alive()
    auth.stop()


def test_thread_authenticator_plain_end_to_end(ctx: zmtp.Context) -> None:
    auth = ThreadAuthenticator(ctx)
    auth.start()
    try:
        auth.configure_plain(passwords={"admin": "secret"})
        server = ctx.socket(zmtp.ROUTER, plain_server=True, linger=0, rcvtimeo=WAIT_MS)
        server.bind("tcp://127.0.0.1:*")
        endpoint = server.getsockopt_string(zmtp.LAST_ENDPOINT)
        good = ctx.socket(zmtp.DEALER, plain_username=b"admin", plain_password=b"secret")
        good.linger = 0
        good.connect(endpoint)
        good.send(b"hello")
        assert server.recv_multipart()[-1] == b"hello"
    finally:
        auth.stop()


# -- AsyncioAuthenticator -----------------------------------------------------------------------


@pytest.fixture
def actx() -> Iterator[zmtp.asyncio.Context]:
    context = zmtp.asyncio.Context()
    yield context
    gc.collect()
    closing = threading.Thread(target=context.destroy, args=(0,), daemon=True)
    closing.start()
    closing.join(WAIT_S)
    assert not closing.is_alive(), "ctx.destroy(linger=0) hung"


@pytest.mark.asyncio
async def test_asyncio_authenticator(actx: zmtp.asyncio.Context) -> None:
    auth = AsyncioAuthenticator(actx)
    auth.start()
    assert auth.is_alive()
    auth.configure_plain(passwords={"admin": "secret"})
    server = actx.socket(zmtp.REP, plain_server=True, linger=0)
    server.bind("tcp://127.0.0.1:*")
    endpoint = server.getsockopt_string(zmtp.LAST_ENDPOINT)
    liar = actx.socket(zmtp.REQ, plain_username=b"admin", plain_password=b"wrong", linger=0)
    liar.connect(endpoint)
    await liar.send(b"must not arrive")
    client = actx.socket(zmtp.REQ, plain_username=b"admin", plain_password=b"secret", linger=0)
    client.connect(endpoint)
    await client.send(b"hello")
    assert await asyncio.wait_for(server.recv(), WAIT_S) == b"hello"
    await server.send(b"welcome")
    assert await asyncio.wait_for(client.recv(), WAIT_S) == b"welcome"
    assert await server.poll(200) == 0, "the refused client's request arrived"

    auth.stop()
    await asyncio.sleep(0)  # one turn of the loop: the task takes its cancellation
    assert not auth.is_alive()
    assert auth.zap_socket is None
    auth.start()  # the endpoint is free again
    assert auth.is_alive()
    auth.stop()


@pytest.mark.asyncio
async def test_asyncio_authenticator_in_a_blocking_context(ctx: zmtp.Context) -> None:
    """Any zmtp context will do: the handler socket is an asyncio one regardless."""
    auth = AsyncioAuthenticator(ctx)
    auth.start()
    try:
        reply = await asyncio.to_thread(_ask, ctx, request(b"NULL"))
        assert status(reply) == (b"200", b"OK", b"anonymous")
    finally:
        auth.stop()


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", ["sync", "async", "future"])
async def test_asyncio_authenticator_curve_callback(ctx: zmtp.Context, kind: str) -> None:
    raw = z85.decode(curve_keypair()[0])
    text = z85.encode(raw)
    provider = make_provider(kind, {text})
    auth = AsyncioAuthenticator(ctx)
    auth.start()
    try:
        auth.configure_curve_callback("*", provider)
        ok = await asyncio.to_thread(_ask, ctx, request(b"CURVE", raw))
        assert status(ok) == (b"200", b"OK", text)
        stranger = z85.decode(curve_keypair()[0])
        no = await asyncio.to_thread(_ask, ctx, request(b"CURVE", stranger))
        assert status(no) == refused(b"Unknown key")
    finally:
        auth.stop()
    if isinstance(provider, AsyncProvider):
        assert provider.loops == [asyncio.get_running_loop()] * 2


@pytest.mark.asyncio
@pytest.mark.parametrize("provider", [Broken(), BrokenAsync()], ids=["sync", "async"])
async def test_asyncio_authenticator_survives_a_failing_policy(
    ctx: zmtp.Context, provider: Broken | BrokenAsync
) -> None:
    auth = AsyncioAuthenticator(ctx, log=logging.getLogger("test_auth.silenced"))
    logging.getLogger("test_auth.silenced").disabled = True
    auth.start()
    try:
        auth.configure_curve_callback("*", provider)
        key = z85.decode(curve_keypair()[0])
        assert status(await asyncio.to_thread(_ask, ctx, request(b"CURVE", key)))[0] == b"500"
        assert status(await asyncio.to_thread(_ask, ctx, request(b"NULL")))[0] == b"200"
    finally:
        auth.stop()


def test_asyncio_authenticator_needs_a_loop(ctx: zmtp.Context) -> None:
    with pytest.raises(RuntimeError):
        AsyncioAuthenticator(ctx).start()


def test_bound_sender_flushes_after_a_zap_verdict(ctx: zmtp.Context) -> None:
    # The binder's handshake completes inside the ZAP reply, not on bytes read: its new pipe
    # must still wake the writer, or a PUSH's messages wait for the peer to speak (PULL never
    # does). Each round is a fresh connection through the authenticator.
    auth = ThreadAuthenticator(ctx)
    auth.start()
    try:
        auth.allow("127.0.0.1")
        for _ in range(5):
            with ctx.socket(zmtp.PUSH) as server, ctx.socket(zmtp.PULL) as client:
                server.linger = client.linger = 0
                server.zap_domain = b"global"
                port = server.bind_to_random_port("tcp://127.0.0.1")
                client.connect(f"tcp://127.0.0.1:{port}")
                assert server.poll(5000, zmtp.POLLOUT)
                server.send(b"after the verdict", zmtp.NOBLOCK)
                assert client.poll(5000)
                assert client.recv() == b"after the verdict"
    finally:
        auth.stop()
