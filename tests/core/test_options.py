"""zmtp.options states libzmq's option facts; each one is checked against a real libzmq.

pyzmq's bundled libzmq 4.3.5 is the reference: for every option and every socket type it can
create, a fresh socket's getsockopt must return the table's default (or fail with EINVAL where
the table says libzmq refuses), setsockopt must be accepted exactly where the table says, and
values at and beyond each limit in the table must be accepted or refused as libzmq does.
Where pyzmq cannot show what libzmq does, the case is listed with the reason.
"""

from __future__ import annotations

import ctypes
import enum
import errno
import glob
import os
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import zmq
from zmq import constants as pyzmq_constants
from zmq.utils import z85

from zmtp.constants import SocketOption, SocketType
from zmtp.errors import ConfigurationError, OptionTypeError
from zmtp.options import (
    HWM_OPTIONS,
    OPTIONS,
    Access,
    BytesForm,
    BytesRule,
    IntRule,
    OptionSpec,
    ValueType,
    initial_values,
    option_spec,
    validate,
)

STANDARD_TYPES = [
    SocketType.PAIR,
    SocketType.PUB,
    SocketType.SUB,
    SocketType.REQ,
    SocketType.REP,
    SocketType.DEALER,
    SocketType.ROUTER,
    SocketType.PULL,
    SocketType.PUSH,
    SocketType.XPUB,
    SocketType.XSUB,
]
# STREAM is not DRAFT, so pyzmq can create it and we check it too.
TESTED_TYPES = [*STANDARD_TYPES, SocketType.STREAM]
ALL_OPTIONS = sorted(set(SocketOption))

# pyzmq reads every bytes option into a 255-byte buffer; libzmq copies a CURVE key out only
# into a 32-byte (raw) or 41-byte (Z85 + NUL) buffer and fails with EINVAL otherwise.
# test_curve_key_defaults_match_libzmq_c_api reads them through libzmq's C API instead.
PYZMQ_CANNOT_READ = {
    SocketOption.CURVE_PUBLICKEY: "pyzmq's 255-byte buffer; libzmq wants 32 or 41 bytes",
    SocketOption.CURVE_SECRETKEY: "pyzmq's 255-byte buffer; libzmq wants 32 or 41 bytes",
    SocketOption.CURVE_SERVERKEY: "pyzmq's 255-byte buffer; libzmq wants 32 or 41 bytes",
}

# A value each option accepts where its default is not one (or there is no default).
SAMPLES: dict[SocketOption, int | bytes] = {
    SocketOption.HWM: 1,
    SocketOption.BLOCKY: 1,
    SocketOption.FD: 1,
    SocketOption.SUBSCRIBE: b"topic",
    SocketOption.UNSUBSCRIBE: b"topic",
    SocketOption.CONNECT_ROUTING_ID: b"peer",
    SocketOption.ZAP_DOMAIN: b"global",
    SocketOption.PLAIN_USERNAME: b"admin",
    SocketOption.PLAIN_PASSWORD: b"secret",
    SocketOption.ROUTING_ID: b"me",
    SocketOption.GSSAPI_PRINCIPAL: b"principal",
    SocketOption.GSSAPI_SERVICE_PRINCIPAL: b"service",
    SocketOption.SOCKS_PROXY: b"127.0.0.1:1080",
    SocketOption.BINDTODEVICE: b"lo",
    SocketOption.HEARTBEAT_TIMEOUT: 1000,
    SocketOption.TCP_ACCEPT_FILTER: b"127.0.0.1",
    SocketOption.IPC_FILTER_PID: 1,
    SocketOption.IPC_FILTER_UID: 0,
    SocketOption.IPC_FILTER_GID: 0,
    SocketOption.METADATA: b"X-Colour:blue",
}


def libzmq_builds(spec: OptionSpec) -> bool:
    """Whether pyzmq's libzmq was built with what libzmq needs for this option."""
    return all(zmq.has(feature) for feature in spec.requires)


@pytest.fixture(scope="module")
def ctx() -> Iterator[zmq.Context[zmq.Socket[bytes]]]:
    context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
    yield context
    context.destroy(linger=0)


@contextmanager
def fresh(ctx: zmq.Context[zmq.Socket[bytes]], socket_type: int) -> Iterator[zmq.Socket[bytes]]:
    sock = ctx.socket(socket_type)
    try:
        yield sock
    finally:
        sock.close(linger=0)


def libzmq_get(sock: zmq.Socket[bytes], option: int) -> int | bytes:
    """Getsockopt through pyzmq (libzmq's EINVAL surfaces as zmq.ZMQError)."""
    value = sock.get(option)
    assert isinstance(value, int | bytes)
    return value


def sample_value(spec: OptionSpec, socket_type: SocketType) -> int | bytes:
    if spec.option in SAMPLES:
        return SAMPLES[spec.option]
    default = spec.default_for(socket_type)
    assert default is not None, f"add a sample for {spec.option.name}"
    return default


def option_id(option: SocketOption) -> str:
    return option.name


def param_id(value: object) -> str | None:
    """Name enum parameters (SocketOption values print as bare numbers otherwise)."""
    return value.name if isinstance(value, enum.Enum) else None


# --- the table itself ------------------------------------------------------------------------


def test_every_option_number_has_exactly_one_row():
    assert set(OPTIONS) == set(SocketOption)
    for option, spec in OPTIONS.items():
        assert spec.option is option


def test_aliases_find_the_current_names_row():
    assert OPTIONS[SocketOption.IDENTITY] is OPTIONS[SocketOption.ROUTING_ID]
    assert option_spec(zmq.IDENTITY).option is SocketOption.ROUTING_ID
    assert option_spec(zmq.FAIL_UNROUTABLE).option is SocketOption.ROUTER_MANDATORY


def test_every_settable_row_has_a_rule_of_its_type():
    for spec in OPTIONS.values():
        if spec.settable:
            expected = BytesRule if spec.value_type is ValueType.BYTES else IntRule
            assert isinstance(spec.rule, expected), spec.option.name


def test_draft_rows_are_zmq_h_draft_numbers():
    for spec in OPTIONS.values():
        assert spec.draft == (spec.option >= 93), spec.option.name


@pytest.mark.parametrize("option", ALL_OPTIONS, ids=option_id)
def test_value_type_is_pyzmqs(option: SocketOption):
    # pyzmq tags each option with the C type it passes to libzmq; a file descriptor is an int.
    pyzmq_type = pyzmq_constants.SocketOption(option)._opt_type.value
    expected = {"int": ValueType.INT, "fd": ValueType.INT, "int64": ValueType.INT64}
    assert OPTIONS[option].value_type is expected.get(pyzmq_type, ValueType.BYTES)
    assert pyzmq_type in {"int", "fd", "int64", "bytes"}


# --- defaults, per option and socket type ----------------------------------------------------


@pytest.mark.parametrize("socket_type", TESTED_TYPES, ids=lambda t: t.name)
@pytest.mark.parametrize("option", ALL_OPTIONS, ids=option_id)
def test_fresh_socket_reads_the_table_default(ctx, option: SocketOption, socket_type: SocketType):
    spec = OPTIONS[option]
    readable = spec.gettable_on(socket_type) and libzmq_builds(spec)
    with fresh(ctx, socket_type) as sock:
        if not readable or option in PYZMQ_CANNOT_READ:
            with pytest.raises(zmq.ZMQError) as refused:
                sock.get(option)
            assert refused.value.errno == errno.EINVAL
            return
        value = libzmq_get(sock, option)
    assert isinstance(value, spec.value_type.python_type)
    if option is SocketOption.FD:
        assert spec.default_for(socket_type) is None
        assert isinstance(value, int) and value >= 0
    else:
        assert value == spec.default_for(socket_type)


def _libzmq_c_api() -> ctypes.CDLL:
    """The libzmq that pyzmq loaded, opened again through ctypes (the same library image)."""
    libs = os.path.join(os.path.dirname(zmq.__file__), os.pardir, "pyzmq.libs")
    found = glob.glob(os.path.join(libs, "libzmq*"))
    if not found:
        pytest.skip("pyzmq has no separate libzmq library here to call through ctypes")
    lib = ctypes.CDLL(found[0])
    lib.zmq_getsockopt.argtypes = [
        ctypes.c_void_p,
        ctypes.c_int,
        ctypes.c_void_p,
        ctypes.POINTER(ctypes.c_size_t),
    ]
    return lib


@pytest.mark.parametrize("option", sorted(PYZMQ_CANNOT_READ), ids=option_id)
def test_curve_key_defaults_match_libzmq_c_api(ctx, option: SocketOption):
    lib = _libzmq_c_api()
    with fresh(ctx, zmq.DEALER) as sock:
        for size, expected in ((32, OPTIONS[option].default), (41, b"0" * 40 + b"\0")):
            buffer = ctypes.create_string_buffer(size)
            length = ctypes.c_size_t(size)
            assert lib.zmq_getsockopt(sock.underlying, option, buffer, ctypes.byref(length)) == 0
            assert buffer.raw[: length.value] == expected


def test_initial_values_are_the_fresh_socket_defaults(ctx):
    for socket_type in TESTED_TYPES:
        values = initial_values(socket_type)
        with fresh(ctx, socket_type) as sock:
            for option, value in values.items():
                spec = OPTIONS[option]
                readable = spec.gettable_on(socket_type) and libzmq_builds(spec)
                if readable and option not in PYZMQ_CANNOT_READ:
                    assert libzmq_get(sock, option) == value, option.name
    assert initial_values(SocketType.SUB)[SocketOption.LINGER] == 0
    assert initial_values(SocketType.DEALER)[SocketOption.LINGER] == -1
    assert SocketOption.ROUTER_MANDATORY not in initial_values(SocketType.DEALER)


# --- where each option may be set ------------------------------------------------------------


@pytest.mark.parametrize("socket_type", TESTED_TYPES, ids=lambda t: t.name)
@pytest.mark.parametrize("option", ALL_OPTIONS, ids=option_id)
def test_option_is_accepted_on_the_types_libzmq_accepts(
    ctx, option: SocketOption, socket_type: SocketType
):
    spec = OPTIONS[option]
    value = sample_value(spec, socket_type)
    conditional = socket_type in spec.enabled_by
    libzmq_accepts = spec.settable_on(socket_type) and libzmq_builds(spec) and not conditional
    with fresh(ctx, socket_type) as sock:
        if libzmq_accepts:
            sock.set(option, value)
        else:
            with pytest.raises(zmq.ZMQError) as refused:
                sock.set(option, value)
            assert refused.value.errno == errno.EINVAL
    # zmtp accepts what a libzmq built with every feature accepts.
    if spec.settable_on(socket_type):
        validate(option, value, socket_type)
    else:
        with pytest.raises(ConfigurationError, match=spec.option.name):
            validate(option, value, socket_type)


@pytest.mark.parametrize(
    ("option", "socket_type"),
    [(o, t) for o, spec in OPTIONS.items() for t in spec.enabled_by if t in TESTED_TYPES],
    ids=param_id,
)
def test_conditional_option_is_accepted_once_enabled(
    ctx, option: SocketOption, socket_type: SocketType
):
    for enabler in OPTIONS[option].enabled_by[socket_type]:
        with fresh(ctx, socket_type) as sock:
            sock.set(enabler, 1)
            sock.set(option, sample_value(OPTIONS[option], socket_type))


# --- values at and beyond each limit ---------------------------------------------------------


def _int_candidates(spec: OptionSpec) -> list[int]:
    rule = spec.rule
    assert isinstance(rule, IntRule)
    low, high = spec.value_type.limits
    points = {-7, -2, -1, 0, 1, 2, 3, 7, 100, 1234, low, high}
    for bound in (rule.low, rule.high):
        if bound is not None:
            points |= {bound - 1, bound, bound + 1}
    for choice in rule.choices or ():
        points |= {choice - 1, choice, choice + 1}
    return sorted(point for point in points if low <= point <= high)


_CURVE_PUBLIC, _CURVE_SECRET = zmq.curve_keypair()

# Values of the options whose content libzmq parses.
FORM_CANDIDATES: dict[BytesForm, list[bytes]] = {
    BytesForm.CURVE_KEY: [
        _CURVE_PUBLIC,
        _CURVE_SECRET,
        _CURVE_PUBLIC + b"\0",
        _CURVE_PUBLIC + b"x",
        _CURVE_PUBLIC[:39] + b"~",
        b"#" * 40,  # every digit 84: the 5-digit group exceeds 2**32 - 1
        b"0" * 40,
        bytes(32),
        bytes(31),
        bytes(33),
        b"x" * 39,
    ],
    BytesForm.METADATA: [
        b"X-a:b",
        b"X-Colour:blue:green",
        b"X-:vv",
        b"X-:v",
        b"Y-a:b",
        b"x-a:b",
        b"X-a:",
        b":X-a",
        b"X-a",
        b"X-" + b"k" * 253 + b":v",
        b"X-" + b"k" * 254 + b":v",
    ],
    BytesForm.ADDRESS_MASK: [
        b"127.0.0.1",
        b"10.0.0.0/8",
        b"10.0.0.0/0",
        b"10.0.0.0/32",
        b"10.0.0.0/8x",
        b"127.1",
        b"10.0.0.0/",
        b"10.0.0.0/33",
        b"10.0.0.0/00",
        b"10.0.0.0/-1",
        b"localhost",
        b"not an address",
    ],
}


def _bytes_candidates(spec: OptionSpec) -> list[bytes]:
    rule = spec.rule
    assert isinstance(rule, BytesRule)
    if rule.form is not BytesForm.ANY:
        return FORM_CANDIDATES[rule.form]
    lengths = {0, 1, 5, 255, 256, rule.min_len, rule.min_len + 1}
    if rule.min_len:
        lengths.add(rule.min_len - 1)
    if rule.max_len is not None:
        lengths |= {rule.max_len - 1, rule.max_len, rule.max_len + 1}
    return [b"x" * length for length in sorted(lengths)]


def _checkable(spec: OptionSpec) -> bool:
    return spec.settable and libzmq_builds(spec)


def _socket_type_for(spec: OptionSpec) -> SocketType:
    """A socket type that takes the option, preferring one pyzmq can create."""
    candidates = [t for t in TESTED_TYPES if spec.settable_on(t)]
    return candidates[0]


def _enable(sock: zmq.Socket[bytes], spec: OptionSpec, socket_type: SocketType) -> None:
    """Switch on what a conditional option needs first (XPUB_MANUAL for SUBSCRIBE on XPUB)."""
    enablers = spec.enabled_by.get(socket_type)
    if enablers:
        sock.set(min(enablers), 1)


@pytest.mark.parametrize(
    "option", [o for o in ALL_OPTIONS if _checkable(OPTIONS[o])], ids=option_id
)
def test_values_are_accepted_and_stored_as_libzmq_does(ctx, option: SocketOption):
    spec = OPTIONS[option]
    socket_type = _socket_type_for(spec)
    candidates: list[int] | list[bytes]
    if spec.value_type is ValueType.BYTES:
        candidates = _bytes_candidates(spec)
    else:
        candidates = _int_candidates(spec)
    for value in candidates:
        with fresh(ctx, socket_type) as sock:
            _enable(sock, spec, socket_type)
            try:
                sock.set(option, value)
            except zmq.ZMQError as refused:
                assert refused.errno == errno.EINVAL
                with pytest.raises(ConfigurationError, match=spec.option.name):
                    validate(option, value, socket_type)
                continue
            stored = validate(option, value, socket_type)
            # A 255-byte string cannot be read back through pyzmq: libzmq wants room for the
            # terminating NUL in pyzmq's 255-byte buffer (ROUTING_ID has no NUL and is fine).
            too_long_to_read = (
                isinstance(value, bytes)
                and len(value) >= 255
                and option is not SocketOption.ROUTING_ID
            )
            readable = spec.gettable_on(socket_type) and option not in PYZMQ_CANNOT_READ
            if readable and not too_long_to_read:
                assert libzmq_get(sock, option) == stored, value


def test_a_z85_key_with_a_nul_inside_is_refused_where_libzmq_keeps_part_of_it(ctx):
    # Deliberate deviation: libzmq decodes Z85 up to the first NUL and accepts the 28 bytes
    # that 35 characters give, leaving the rest of the old key in place.
    partial = _CURVE_PUBLIC[:35] + b"\0" + _CURVE_PUBLIC[36:]
    with fresh(ctx, zmq.DEALER) as sock:
        sock.set(zmq.CURVE_PUBLICKEY, partial)
    with pytest.raises(ConfigurationError, match="CURVE_PUBLICKEY"):
        validate(SocketOption.CURVE_PUBLICKEY, partial)


def test_curve_keys_are_stored_raw_whatever_form_they_came_in():
    raw = z85.decode(_CURVE_PUBLIC)
    assert validate(SocketOption.CURVE_PUBLICKEY, _CURVE_PUBLIC) == raw
    assert validate(SocketOption.CURVE_PUBLICKEY, _CURVE_PUBLIC + b"\0") == raw
    assert validate(SocketOption.CURVE_PUBLICKEY, raw) == raw


def test_ipv6_address_masks_need_ipv6_in_libzmq_but_zmtp_checks_only_the_form(ctx):
    for mask, valid in ((b"::1", True), (b"[::1]", True), (b"fd00::/8", True), (b"::/129", False)):
        with fresh(ctx, zmq.DEALER) as sock:
            with pytest.raises(zmq.ZMQError):
                sock.set(zmq.TCP_ACCEPT_FILTER, mask)
            sock.set(zmq.IPV6, 1)
            if valid:
                sock.set(zmq.TCP_ACCEPT_FILTER, mask)
                assert validate(SocketOption.TCP_ACCEPT_FILTER, mask) == mask
            else:
                with pytest.raises(zmq.ZMQError):
                    sock.set(zmq.TCP_ACCEPT_FILTER, mask)
                with pytest.raises(ConfigurationError, match="TCP_ACCEPT_FILTER"):
                    validate(SocketOption.TCP_ACCEPT_FILTER, mask)


@pytest.mark.parametrize(
    ("option", "value", "stored"),
    [
        (SocketOption.HEARTBEAT_TTL, 1234, 1200),
        (SocketOption.HEARTBEAT_TTL, -99, 0),
        (SocketOption.HEARTBEAT_TTL, 6553599, 6553500),
        (SocketOption.INVERT_MATCHING, -5, 1),
        (SocketOption.ZAP_ENFORCE_DOMAIN, 7, 1),
        (SocketOption.IPV4ONLY, 0, 0),
        (SocketOption.ROUTING_ID, b"\0abc", b"\0abc"),
        (SocketOption.SNDHWM, True, 1),
    ],
    ids=param_id,
)
def test_stored_value_is_what_libzmq_reads_back(ctx, option, value, stored):
    with fresh(ctx, zmq.DEALER) as sock:
        sock.set(option, value)
        assert sock.get(option) == stored
    assert validate(option, value) == stored
    assert type(validate(option, value)) is type(stored)


@pytest.mark.parametrize(
    ("option", "value"),
    [
        (SocketOption.LINGER, -2),
        (SocketOption.SNDHWM, -1),
        (SocketOption.RATE, 0),
        (SocketOption.ROUTING_ID, b""),
        (SocketOption.ROUTING_ID, b"x" * 256),
        (SocketOption.IPV6, 2),
        (SocketOption.TCP_KEEPALIVE, 2),
        (SocketOption.HEARTBEAT_TTL, 6553600),
        (SocketOption.HEARTBEAT_TTL, -100),
        (SocketOption.HEARTBEAT_TIMEOUT, -1),
        (SocketOption.ZAP_DOMAIN, b""),
        (SocketOption.ZAP_DOMAIN, b"d" * 256),
        (SocketOption.PLAIN_USERNAME, b""),
        (SocketOption.CURVE_SERVERKEY, bytes(31)),
        (SocketOption.BINDTODEVICE, b"x" * 17),
        (SocketOption.METADATA, b"Y-key:value"),
        (SocketOption.USE_FD, -2),
    ],
    ids=param_id,
)
def test_out_of_range_values_are_refused_as_libzmq_refuses_them(ctx, option, value):
    with fresh(ctx, zmq.DEALER) as sock, pytest.raises(zmq.ZMQError) as refused:
        sock.set(option, value)
    assert refused.value.errno == errno.EINVAL
    with pytest.raises(ConfigurationError, match=option.name):
        validate(option, value)


@pytest.mark.parametrize(
    ("option", "value"),
    [(SocketOption.LINGER, 2**31), (SocketOption.LINGER, -(2**31) - 1)],
    ids=param_id,
)
def test_values_beyond_the_c_type_are_refused(ctx, option, value):
    # pyzmq refuses these itself (OverflowError) before libzmq sees them.
    with fresh(ctx, zmq.DEALER) as sock, pytest.raises(OverflowError):
        sock.set(option, value)
    with pytest.raises(ConfigurationError, match="C int"):
        validate(option, value)
    assert validate(SocketOption.MAXMSGSIZE, 2**40) == 2**40


@pytest.mark.parametrize(
    ("option", "value"),
    [
        (SocketOption.ROUTING_ID, "text"),
        (SocketOption.ROUTING_ID, bytearray(b"id")),
        (SocketOption.ROUTING_ID, 5),
        (SocketOption.LINGER, b"0"),
        (SocketOption.LINGER, 1.5),
        (SocketOption.LINGER, "0"),
    ],
    ids=param_id,
)
def test_a_value_of_the_wrong_python_type_is_a_type_error(ctx, option, value):
    with fresh(ctx, zmq.DEALER) as sock, pytest.raises(TypeError):
        sock.set(option, value)
    with pytest.raises(OptionTypeError, match=option.name) as refused:
        validate(option, value)
    assert isinstance(refused.value, TypeError)
    assert isinstance(refused.value, ConfigurationError)


# --- options that are not socket options in libzmq 4 -----------------------------------------


def test_hwm_is_refused_and_stands_for_sndhwm_and_rcvhwm(ctx):
    with fresh(ctx, zmq.DEALER) as sock:
        with pytest.raises(zmq.ZMQError):
            sock.setsockopt(zmq.HWM, 5)
        sock.hwm = 7  # pyzmq's attribute sets each option in HWM_OPTIONS
        assert [sock.get(option) for option in HWM_OPTIONS] == [7, 7]
    assert OPTIONS[SocketOption.HWM].access is Access.NONE
    with pytest.raises(ConfigurationError, match="HWM"):
        validate(SocketOption.HWM, 5)


def test_read_only_options_cannot_be_set():
    for spec in OPTIONS.values():
        if not spec.settable:
            with pytest.raises(ConfigurationError, match=spec.option.name):
                validate(spec.option, 1)


def test_an_unknown_option_number_is_refused(ctx):
    with fresh(ctx, zmq.DEALER) as sock, pytest.raises(zmq.ZMQError) as refused:
        sock.set(999, 1)
    assert refused.value.errno == errno.EINVAL
    with pytest.raises(ConfigurationError, match="999"):
        validate(999, 1)


def test_options_without_effect_say_why():
    stored_only = [spec for spec in OPTIONS.values() if spec.effect]
    assert {SocketOption.AFFINITY, SocketOption.RATE, SocketOption.TCP_MAXRT} <= {
        spec.option for spec in stored_only
    }
    for spec in OPTIONS.values():
        if spec.option in {SocketOption.LINGER, SocketOption.ROUTING_ID, SocketOption.SNDHWM}:
            assert spec.effect == ""
