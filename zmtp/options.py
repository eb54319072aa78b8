"""Every socket option libzmq 4.3.5 defines, as one table: value type, access, default, limits.

The blocking API promises that code written for pyzmq can set and read any option libzmq has,
get libzmq's answer back (the same default, the same EINVAL for a value out of range, the same
refusal of an option on a socket type it does not belong to), and that zmtp says plainly when
an option is accepted only so that such code keeps running. One row per option keeps those
facts in one place, where the socket layer reads them and ``tests/core/test_options.py``
checks each of them against a real libzmq (through pyzmq).

The facts come from libzmq 4.3.5's ``src/options.cpp`` (generic options: defaults in
``options_t::options_t``, limits in ``options_t::setsockopt``) and the socket classes'
``xsetsockopt``/``xgetsockopt`` (type-specific options). Type-specific options follow libzmq's
class hierarchy, which is why REP accepts the ROUTER_* options (``rep_t`` derives from
``router_t``), REQ accepts PROBE_ROUTER (``req_t`` derives from ``dealer_t``) and PUB accepts the
XPUB_* options, while SUB refuses ONLY_FIRST_SUBSCRIBE (``sub_t`` overrides XSUB's handler).
Rows for the DRAFT socket types come from reading the source only: pyzmq's bundled libzmq is
built without the DRAFT API, so the tests cannot create those sockets.

Values are what pyzmq's ``Socket.set``/``Socket.get`` take and return: ``int`` for C ``int``
and ``int64_t`` options, ``bytes`` for the rest (LAST_ENDPOINT included; pyzmq decodes to
``str`` only in ``get_string``).
"""

from __future__ import annotations

import enum
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from zmtp import z85
from zmtp.constants import Errno
from zmtp.constants import SocketOption as O
from zmtp.constants import SocketType as T
from zmtp.errors import ConfigurationError, OptionTypeError, ZMQError

INT_MIN = -(2**31)
INT_MAX = 2**31 - 1
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

OptionValue = int | bytes


class ValueType(enum.Enum):
    """The C type libzmq reads an option as, which fixes the Python type and the range."""

    INT = "int"
    INT64 = "int64"
    BYTES = "bytes"

    @property
    def python_type(self) -> type[int] | type[bytes]:
        """What the blocking API takes and returns for an option of this type."""
        return bytes if self is ValueType.BYTES else int

    @property
    def limits(self) -> tuple[int, int]:
        """The range the C type can carry; pyzmq refuses anything outside it before libzmq."""
        return (INT64_MIN, INT64_MAX) if self is ValueType.INT64 else (INT_MIN, INT_MAX)


class Access(enum.Flag):
    """Whether libzmq's ``zmq_setsockopt`` and ``zmq_getsockopt`` accept an option at all."""

    NONE = 0
    GET = 1
    SET = 2
    BOTH = 3


@dataclass(frozen=True, slots=True)
class IntRule:
    """The values libzmq accepts for an integer option, and what it stores for them.

    ``low``/``high`` default to the limits of the C type. ``as_bool`` means libzmq stores
    ``value != 0``, so reading the option back gives 0 or 1. ``unit`` is for HEARTBEAT_TTL,
    which libzmq keeps in deciseconds: it truncates the milliseconds towards zero *before*
    checking the range, so -99..-1 are accepted (as 0) and 6553599 is the largest value.
    """

    low: int | None = None
    high: int | None = None
    choices: frozenset[int] | None = None
    as_bool: bool = False
    unit: int = 1

    def normalise(self, name: str, value: int, value_type: ValueType) -> int:
        """Return what libzmq would store for ``value``, or raise naming the option."""
        type_low, type_high = value_type.limits
        if not type_low <= value <= type_high:
            raise ConfigurationError(
                f"{name} takes a C {value_type.value} ({type_low}..{type_high}), got {value}"
            )
        if self.choices is not None and value not in self.choices:
            allowed = ", ".join(str(choice) for choice in sorted(self.choices))
            raise ConfigurationError(f"{name} must be one of {allowed}, got {value}")
        low = type_low if self.low is None else self.low
        high = type_high if self.high is None else self.high
        if not low <= value <= high:
            if high == type_high:
                bound = f">= {low}"
            elif low == type_low:
                bound = f"<= {high}"
            else:
                bound = f"between {low} and {high}"
            raise ConfigurationError(f"{name} must be {bound}, got {value}")
        if self.as_bool:
            return int(value != 0)
        if self.unit != 1:
            # C division truncates towards zero; so must we, for negative values.
            magnitude = abs(value) // self.unit * self.unit
            return magnitude if value >= 0 else -magnitude
        return value


class BytesForm(enum.Enum):
    """Byte-string options whose content libzmq parses, not only measures."""

    ANY = "any"
    CURVE_KEY = "curve key"
    METADATA = "metadata"
    ADDRESS_MASK = "address mask"


@dataclass(frozen=True, slots=True)
class BytesRule:
    """The byte strings libzmq accepts for an option: a length range and maybe a format.

    Through pyzmq an empty value always reaches libzmq as a non-NULL pointer of length 0, so
    the C API's "NULL clears it" cases (PLAIN_USERNAME, SOCKS_PROXY, TCP_ACCEPT_FILTER) are
    out of reach and an empty value is refused wherever ``min_len`` is 1.
    """

    min_len: int = 0
    max_len: int | None = None
    form: BytesForm = BytesForm.ANY

    def normalise(self, name: str, value: bytes) -> bytes:
        """Return what libzmq would store for ``value``, or raise naming the option."""
        size = len(value)
        if size < self.min_len or (self.max_len is not None and size > self.max_len):
            if self.max_len is None:
                bound = f"at least {self.min_len} bytes long"
            elif self.min_len == 0:
                bound = f"at most {self.max_len} bytes long"
            else:
                bound = f"{self.min_len} to {self.max_len} bytes long"
            raise ConfigurationError(f"{name} must be {bound}, got {size} bytes")
        if self.form is BytesForm.CURVE_KEY:
            return _curve_key(name, value)
        if self.form is BytesForm.METADATA:
            _check_metadata(name, value)
        elif self.form is BytesForm.ADDRESS_MASK:
            _check_address_mask(name, value)
        return value


@dataclass(frozen=True, slots=True)
class OptionSpec:
    """One socket option: libzmq's type, access, defaults and limits, and zmtp's support.

    ``default`` is libzmq's initial value, which is what ``getsockopt`` returns on a fresh
    socket for a gettable option (None where there is no such value: FD, actions such as
    SUBSCRIBE, accumulating filters); ``type_defaults`` overrides it per socket type.
    ``set_types``/``get_types`` are the socket types libzmq accepts the option on (None: all);
    on ``enabled_by`` types it is accepted only once one of those options was set nonzero.
    ``accumulates`` marks options where each set adds to a list instead of replacing.
    ``draft`` is zmq.h's DRAFT section; ``requires`` names the libzmq build features
    (``zmq_has`` names) without which libzmq answers EINVAL. ``effect`` is empty when zmtp
    is meant to honour the option, else why setting it changes nothing; ``note`` records a
    libzmq behaviour worth knowing when implementing it.
    """

    option: O
    value_type: ValueType
    access: Access
    default: OptionValue | None = None
    rule: IntRule | BytesRule | None = None
    type_defaults: Mapping[T, OptionValue] = field(default_factory=dict)
    set_types: frozenset[T] | None = None
    get_types: frozenset[T] | None = None
    enabled_by: Mapping[T, frozenset[O]] = field(default_factory=dict)
    accumulates: bool = False
    draft: bool = False
    requires: frozenset[str] = frozenset()
    effect: str = ""
    note: str = ""

    @property
    def settable(self) -> bool:
        """Whether libzmq's setsockopt knows this option on some socket type."""
        return Access.SET in self.access

    @property
    def gettable(self) -> bool:
        """Whether libzmq's getsockopt knows this option on some socket type."""
        return Access.GET in self.access

    def settable_on(self, socket_type: T) -> bool:
        """Whether a ``socket_type`` socket accepts this option (maybe after ``enabled_by``)."""
        return self.settable and (self.set_types is None or socket_type in self.set_types)

    def gettable_on(self, socket_type: T) -> bool:
        """Whether getsockopt on a ``socket_type`` socket returns this option."""
        return self.gettable and (self.get_types is None or socket_type in self.get_types)

    def default_for(self, socket_type: T) -> OptionValue | None:
        """Return libzmq's initial value of this option on a fresh ``socket_type`` socket."""
        return self.type_defaults.get(socket_type, self.default)


# --- shapes shared by many rows --------------------------------------------------------------

_NONE, _GET, _SET, _BOTH = Access.NONE, Access.GET, Access.SET, Access.BOTH
_INT, _INT64, _BYTES = ValueType.INT, ValueType.INT64, ValueType.BYTES

_ANY_INT = IntRule()
_NON_NEGATIVE = IntRule(low=0)
_POSITIVE = IntRule(low=1)
_FROM_MINUS_ONE = IntRule(low=-1)
# do_setsockopt_int_as_bool_strict: 0 or 1 only.
_STRICT_BOOL = IntRule(choices=frozenset({0, 1}))
# do_setsockopt_int_as_bool_relaxed: any int, stored as value != 0.
_RELAXED_BOOL = IntRule(as_bool=True)
# The ROUTER/DEALER/REQ/XPUB flags: any int >= 0, stored as value != 0.
_FLAG = IntRule(low=0, as_bool=True)
_GSSAPI_NAME_TYPE = IntRule(choices=frozenset({0, 1, 2}))

_ANY_BYTES = BytesRule()
_SHORT_STRING = BytesRule(1, 255)
_CURVE_KEY = BytesRule(32, 41, BytesForm.CURVE_KEY)

_ALL_TYPES = frozenset(T)
# Types built on libzmq's thread-safe socket base: no ZMQ_FD, and THREAD_SAFE reads 1.
_THREAD_SAFE_TYPES = frozenset(
    {T.SERVER, T.CLIENT, T.RADIO, T.DISH, T.GATHER, T.SCATTER, T.PEER, T.CHANNEL}
)
_ROUTERS = frozenset({T.ROUTER, T.REP})
_ROUTING_ID_TABLES = _ROUTERS | {T.STREAM}
_PROBERS = frozenset({T.DEALER, T.REQ, T.ROUTER, T.REP})
_XPUBS = frozenset({T.XPUB, T.PUB})
_TOPIC_COUNTERS = frozenset({T.PUB, T.SUB, T.XPUB, T.XSUB})
# Types whose has_out() is true without any peer, so EVENTS reads POLLOUT on a fresh socket.
_WRITABLE_WHEN_ALONE = frozenset(
    {T.PUB, T.XPUB, T.XSUB, T.ROUTER, T.STREAM, T.SERVER, T.PEER, T.RADIO, T.DISH}
)

_SUBSCRIBERS = frozenset({T.SUB}) | _XPUBS
# XPUB (and PUB) take SUBSCRIBE/UNSUBSCRIBE only in manual mode, for the last pipe that spoke.
_MANUAL_XPUB = {t: frozenset({O.XPUB_MANUAL, O.XPUB_MANUAL_LAST_VALUE}) for t in _XPUBS}

_DRAFT_BUILD = frozenset({"draft"})
_CURVE_BUILD = frozenset({"curve"})
_GSSAPI_BUILD = frozenset({"gssapi"})
_VMCI_BUILD = frozenset({"vmci"})
_WSS_BUILD = frozenset({"draft", "wss"})
_NORM_BUILD = frozenset({"draft", "norm"})

_MULTICAST = "stored only: zmtp has no multicast transport (pgm, epgm, norm, udp)"
_GSSAPI = "stored only: zmtp has no GSSAPI mechanism"
_SOCKS = "stored only: zmtp has no SOCKS5 client"
_VMCI = "stored only: zmtp has no vmci:// transport"
_WSS = "stored only: zmtp has no ws:// or wss:// transport"
_NORM = "stored only: zmtp has no norm:// transport"
_DEPRECATED_FILTER = "stored only: deprecated in libzmq in favour of ZAP"
_KEY_READBACK = "stored as 32 raw bytes; libzmq reads it back raw or as Z85, by buffer size"

# The option pyzmq's ``Socket.hwm`` attribute stands for: setting it sets both, reading it
# reads SNDHWM. ``setsockopt(HWM, n)`` itself is EINVAL in libzmq 4, as in pyzmq.
HWM_OPTIONS = (O.SNDHWM, O.RCVHWM)

# One row per option, in zmq.h's order; laid out by hand, so the formatter keeps out.
# fmt: off
_ROWS = (
    OptionSpec(O.HWM, _INT, _NONE,
               effect="not an option in libzmq 4: use SNDHWM and RCVHWM (hwm sets both)"),
    OptionSpec(O.AFFINITY, _INT64, _BOTH, 0, _ANY_INT,
               effect="stored only: zmtp has no pool of I/O threads to pin connections to",
               note="a uint64_t bitmask in libzmq; pyzmq passes it as int64_t"),
    OptionSpec(O.ROUTING_ID, _BYTES, _BOTH, b"", _SHORT_STRING,
               note="sent as Identity; ids starting with 0x00 are reserved for ROUTER-made "
                    "ids, but libzmq's setsockopt does not check that"),
    OptionSpec(O.SUBSCRIBE, _BYTES, _SET, None, _ANY_BYTES, set_types=_SUBSCRIBERS,
               enabled_by=_MANUAL_XPUB, accumulates=True,
               note="an action, not a value; XSUB subscribes by sending, not by this option"),
    OptionSpec(O.UNSUBSCRIBE, _BYTES, _SET, None, _ANY_BYTES, set_types=_SUBSCRIBERS,
               enabled_by=_MANUAL_XPUB, accumulates=True, note="an action, not a value"),
    OptionSpec(O.RATE, _INT, _BOTH, 100, _POSITIVE, effect=_MULTICAST),
    OptionSpec(O.RECOVERY_IVL, _INT, _BOTH, 10000, _NON_NEGATIVE, effect=_MULTICAST),
    OptionSpec(O.SNDBUF, _INT, _BOTH, -1, _FROM_MINUS_ONE, note="-1 leaves the OS default"),
    OptionSpec(O.RCVBUF, _INT, _BOTH, -1, _FROM_MINUS_ONE, note="-1 leaves the OS default"),
    OptionSpec(O.RCVMORE, _INT, _GET, 0),
    OptionSpec(O.FD, _INT, _GET, None, get_types=_ALL_TYPES - _THREAD_SAFE_TYPES,
               note="a file descriptor, so no fixed default; thread-safe types have none"),
    OptionSpec(O.EVENTS, _INT, _GET, 0, type_defaults={t: 2 for t in _WRITABLE_WHEN_ALONE},
               note="POLLIN|POLLOUT; a fresh PUB, XPUB, XSUB, ROUTER or STREAM reads POLLOUT, "
                    "since it can send (or drop) without a peer"),
    OptionSpec(O.TYPE, _INT, _GET, None, type_defaults={t: int(t) for t in T}),
    OptionSpec(O.LINGER, _INT, _BOTH, -1, _FROM_MINUS_ONE,
               type_defaults={T.SUB: 0, T.XSUB: 0, T.DISH: 0},
               note="subscribers default to 0, so close() never waits to send subscriptions"),
    OptionSpec(O.RECONNECT_IVL, _INT, _BOTH, 100, _FROM_MINUS_ONE,
               note="-1 disables reconnection"),
    OptionSpec(O.BACKLOG, _INT, _BOTH, 100, _NON_NEGATIVE),
    OptionSpec(O.RECONNECT_IVL_MAX, _INT, _BOTH, 0, _NON_NEGATIVE),
    OptionSpec(O.MAXMSGSIZE, _INT64, _BOTH, -1, _ANY_INT,
               note="any negative value means no limit"),
    OptionSpec(O.SNDHWM, _INT, _BOTH, 1000, _NON_NEGATIVE, note="0 means no limit"),
    OptionSpec(O.RCVHWM, _INT, _BOTH, 1000, _NON_NEGATIVE, note="0 means no limit"),
    OptionSpec(O.MULTICAST_HOPS, _INT, _BOTH, 1, _POSITIVE, effect=_MULTICAST),
    OptionSpec(O.RCVTIMEO, _INT, _BOTH, -1, _FROM_MINUS_ONE),
    OptionSpec(O.SNDTIMEO, _INT, _BOTH, -1, _FROM_MINUS_ONE),
    OptionSpec(O.LAST_ENDPOINT, _BYTES, _GET, b""),
    OptionSpec(O.ROUTER_MANDATORY, _INT, _SET, 0, _FLAG, set_types=_ROUTERS),
    OptionSpec(O.TCP_KEEPALIVE, _INT, _BOTH, -1, IntRule(choices=frozenset({-1, 0, 1})),
               note="-1 leaves the OS default"),
    OptionSpec(O.TCP_KEEPALIVE_CNT, _INT, _BOTH, -1, _FROM_MINUS_ONE),
    OptionSpec(O.TCP_KEEPALIVE_IDLE, _INT, _BOTH, -1, _FROM_MINUS_ONE),
    OptionSpec(O.TCP_KEEPALIVE_INTVL, _INT, _BOTH, -1, _FROM_MINUS_ONE),
    OptionSpec(O.IMMEDIATE, _INT, _BOTH, 0, _STRICT_BOOL),
    OptionSpec(O.XPUB_VERBOSE, _INT, _SET, 0, _FLAG, set_types=_XPUBS),
    OptionSpec(O.ROUTER_RAW, _INT, _SET, 0, _FLAG, set_types=_ROUTERS,
               note="deprecated in favour of STREAM; setting it nonzero cannot be undone"),
    OptionSpec(O.IPV6, _INT, _BOTH, 0, _STRICT_BOOL,
               note="the context's IPV6 option is the default for new sockets"),
    OptionSpec(O.MECHANISM, _INT, _GET, 0, note="follows the PLAIN_* and CURVE_* options set"),
    OptionSpec(O.PLAIN_SERVER, _INT, _BOTH, 0, _STRICT_BOOL,
               note="selects PLAIN (1) or NULL (0); reads 1 only while PLAIN is selected"),
    OptionSpec(O.PLAIN_USERNAME, _BYTES, _BOTH, b"", _SHORT_STRING,
               note="makes the socket a PLAIN client"),
    OptionSpec(O.PLAIN_PASSWORD, _BYTES, _BOTH, b"", _SHORT_STRING,
               note="makes the socket a PLAIN client"),
    OptionSpec(O.CURVE_SERVER, _INT, _BOTH, 0, _STRICT_BOOL, requires=_CURVE_BUILD,
               note="selects CURVE (1) or NULL (0); reads 1 only while CURVE is selected"),
    OptionSpec(O.CURVE_PUBLICKEY, _BYTES, _BOTH, bytes(32), _CURVE_KEY, requires=_CURVE_BUILD,
               note=_KEY_READBACK),
    OptionSpec(O.CURVE_SECRETKEY, _BYTES, _BOTH, bytes(32), _CURVE_KEY, requires=_CURVE_BUILD,
               note=_KEY_READBACK),
    OptionSpec(O.CURVE_SERVERKEY, _BYTES, _BOTH, bytes(32), _CURVE_KEY, requires=_CURVE_BUILD,
               note=_KEY_READBACK + "; setting it makes the socket a CURVE client"),
    OptionSpec(O.PROBE_ROUTER, _INT, _SET, 0, _FLAG, set_types=_PROBERS),
    OptionSpec(O.REQ_CORRELATE, _INT, _SET, 0, _FLAG, set_types=frozenset({T.REQ})),
    OptionSpec(O.REQ_RELAXED, _INT, _SET, 0, _FLAG, set_types=frozenset({T.REQ})),
    OptionSpec(O.CONFLATE, _INT, _BOTH, 0, _STRICT_BOOL),
    OptionSpec(O.ZAP_DOMAIN, _BYTES, _BOTH, b"", _SHORT_STRING,
               note="cannot be set back to empty: libzmq refuses a zero-length value"),
    OptionSpec(O.ROUTER_HANDOVER, _INT, _SET, 0, _FLAG, set_types=_ROUTERS),
    OptionSpec(O.TOS, _INT, _BOTH, 0, _NON_NEGATIVE),
    OptionSpec(O.CONNECT_ROUTING_ID, _BYTES, _SET, b"", BytesRule(1),
               set_types=_ROUTING_ID_TABLES,
               note="for the next connect() only; never sent, so libzmq sets no maximum"),
    OptionSpec(O.GSSAPI_SERVER, _INT, _BOTH, 0, _STRICT_BOOL, requires=_GSSAPI_BUILD,
               effect=_GSSAPI),
    OptionSpec(O.GSSAPI_PRINCIPAL, _BYTES, _BOTH, b"", _SHORT_STRING, requires=_GSSAPI_BUILD,
               effect=_GSSAPI),
    OptionSpec(O.GSSAPI_SERVICE_PRINCIPAL, _BYTES, _BOTH, b"", _SHORT_STRING,
               requires=_GSSAPI_BUILD, effect=_GSSAPI),
    OptionSpec(O.GSSAPI_PLAINTEXT, _INT, _BOTH, 0, _STRICT_BOOL, requires=_GSSAPI_BUILD,
               effect=_GSSAPI),
    OptionSpec(O.HANDSHAKE_IVL, _INT, _BOTH, 30000, _NON_NEGATIVE, note="0 means no limit"),
    OptionSpec(O.SOCKS_PROXY, _BYTES, _BOTH, b"", BytesRule(1), effect=_SOCKS),
    OptionSpec(O.XPUB_NODROP, _INT, _SET, 0, _FLAG, set_types=_XPUBS | {T.RADIO}),
    OptionSpec(O.BLOCKY, _INT, _NONE,
               effect="a context option (zmq_ctx_set), not a socket option: sockets refuse it"),
    OptionSpec(O.XPUB_MANUAL, _INT, _SET, 0, _FLAG, set_types=_XPUBS),
    OptionSpec(O.XPUB_WELCOME_MSG, _BYTES, _SET, b"", _ANY_BYTES, set_types=_XPUBS,
               note="empty means no welcome message"),
    OptionSpec(O.STREAM_NOTIFY, _INT, _SET, 1, _STRICT_BOOL, set_types=frozenset({T.STREAM})),
    OptionSpec(O.INVERT_MATCHING, _INT, _BOTH, 0, _RELAXED_BOOL),
    OptionSpec(O.HEARTBEAT_IVL, _INT, _BOTH, 0, _NON_NEGATIVE, note="0 disables heartbeats"),
    OptionSpec(O.HEARTBEAT_TTL, _INT, _BOTH, 0, IntRule(low=-99, high=6553599, unit=100),
               note="milliseconds, kept (and sent in PING) as deciseconds, so reads back "
                    "truncated"),
    OptionSpec(O.HEARTBEAT_TIMEOUT, _INT, _BOTH, -1, _NON_NEGATIVE,
               note="the default -1 (use HEARTBEAT_IVL) cannot be set back once changed"),
    OptionSpec(O.XPUB_VERBOSER, _INT, _SET, 0, _FLAG, set_types=_XPUBS,
               note="shares XPUB_VERBOSE's state: setting either one overrides the other"),
    OptionSpec(O.CONNECT_TIMEOUT, _INT, _BOTH, 0, _NON_NEGATIVE, note="0 leaves it to the OS"),
    OptionSpec(O.TCP_MAXRT, _INT, _BOTH, 0, _NON_NEGATIVE,
               effect="stored only: zmtp does not set TCP_USER_TIMEOUT yet"),
    OptionSpec(O.THREAD_SAFE, _INT, _GET, 0, type_defaults={t: 1 for t in _THREAD_SAFE_TYPES}),
    OptionSpec(O.MULTICAST_MAXTPDU, _INT, _BOTH, 1500, _POSITIVE, effect=_MULTICAST),
    # libzmq's getsockopt has no VMCI cases: write-only even where VMCI is built in.
    OptionSpec(O.VMCI_BUFFER_SIZE, _INT64, _SET, 0, _ANY_INT, requires=_VMCI_BUILD,
               effect=_VMCI),
    OptionSpec(O.VMCI_BUFFER_MIN_SIZE, _INT64, _SET, 0, _ANY_INT, requires=_VMCI_BUILD,
               effect=_VMCI),
    OptionSpec(O.VMCI_BUFFER_MAX_SIZE, _INT64, _SET, 0, _ANY_INT, requires=_VMCI_BUILD,
               effect=_VMCI),
    OptionSpec(O.VMCI_CONNECT_TIMEOUT, _INT, _SET, -1, _ANY_INT, requires=_VMCI_BUILD,
               effect=_VMCI),
    OptionSpec(O.USE_FD, _INT, _BOTH, -1, _FROM_MINUS_ONE,
               effect="stored only: zmtp does not adopt pre-opened listening sockets yet"),
    OptionSpec(O.GSSAPI_PRINCIPAL_NAMETYPE, _INT, _BOTH, 0, _GSSAPI_NAME_TYPE,
               requires=_GSSAPI_BUILD, effect=_GSSAPI),
    OptionSpec(O.GSSAPI_SERVICE_PRINCIPAL_NAMETYPE, _INT, _BOTH, 0, _GSSAPI_NAME_TYPE,
               requires=_GSSAPI_BUILD, effect=_GSSAPI),
    OptionSpec(O.BINDTODEVICE, _BYTES, _BOTH, b"", BytesRule(1, 16),
               note="an interface name, at most IFNAMSIZ (16) bytes"),
    # Deprecated options that kept their own numbers.
    OptionSpec(O.TCP_ACCEPT_FILTER, _BYTES, _SET, None, BytesRule(1, 255, BytesForm.ADDRESS_MASK),
               accumulates=True, effect=_DEPRECATED_FILTER,
               note="libzmq resolves the mask when it is set, so an IPv6 mask needs IPV6=1 "
                    "first; zmtp checks the form only"),
    OptionSpec(O.IPC_FILTER_PID, _INT, _SET, None, _ANY_INT, accumulates=True,
               effect=_DEPRECATED_FILTER),
    OptionSpec(O.IPC_FILTER_UID, _INT, _SET, None, _ANY_INT, accumulates=True,
               effect=_DEPRECATED_FILTER),
    OptionSpec(O.IPC_FILTER_GID, _INT, _SET, None, _ANY_INT, accumulates=True,
               effect=_DEPRECATED_FILTER),
    OptionSpec(O.IPV4ONLY, _INT, _BOTH, 1, _STRICT_BOOL,
               note="a view of IPV6: stored as IPV6 = not value, and read back that way"),
    # zmq.h's DRAFT section. Several are handled outside libzmq's DRAFT #ifdefs, so a stable
    # build accepts them too; ``requires`` marks the ones it does not.
    OptionSpec(O.ZAP_ENFORCE_DOMAIN, _INT, _BOTH, 0, _RELAXED_BOOL, draft=True),
    OptionSpec(O.LOOPBACK_FASTPATH, _INT, _BOTH, 0, _RELAXED_BOOL, draft=True,
               effect="stored only: a Windows TCP loopback setting, nothing to do elsewhere"),
    OptionSpec(O.METADATA, _BYTES, _SET, None, BytesRule(1, None, BytesForm.METADATA),
               accumulates=True, draft=True,
               note="'X-key:value', one property per set; a repeated key keeps its first value"),
    OptionSpec(O.MULTICAST_LOOP, _INT, _BOTH, 1, _RELAXED_BOOL, draft=True, effect=_MULTICAST),
    OptionSpec(O.ROUTER_NOTIFY, _INT, _BOTH, 0, IntRule(low=0, high=3), set_types=_ROUTERS,
               draft=True, requires=_DRAFT_BUILD,
               note="NOTIFY_CONNECT | NOTIFY_DISCONNECT; readable on every type"),
    OptionSpec(O.XPUB_MANUAL_LAST_VALUE, _INT, _SET, 0, _FLAG, set_types=_XPUBS, draft=True),
    OptionSpec(O.SOCKS_USERNAME, _BYTES, _BOTH, b"", BytesRule(0, 255), draft=True,
               effect=_SOCKS),
    OptionSpec(O.SOCKS_PASSWORD, _BYTES, _BOTH, b"", BytesRule(0, 255), draft=True,
               effect=_SOCKS),
    OptionSpec(O.IN_BATCH_SIZE, _INT, _BOTH, 8192, _POSITIVE, draft=True, requires=_DRAFT_BUILD,
               effect="stored only: libzmq's engine buffer size; zmtp sizes its own reads"),
    OptionSpec(O.OUT_BATCH_SIZE, _INT, _BOTH, 8192, _POSITIVE, draft=True, requires=_DRAFT_BUILD,
               effect="stored only: libzmq's engine buffer size; zmtp batches its own writes"),
    OptionSpec(O.WSS_KEY_PEM, _BYTES, _SET, b"", _ANY_BYTES, draft=True, requires=_WSS_BUILD,
               effect=_WSS),
    OptionSpec(O.WSS_CERT_PEM, _BYTES, _SET, b"", _ANY_BYTES, draft=True, requires=_WSS_BUILD,
               effect=_WSS),
    OptionSpec(O.WSS_TRUST_PEM, _BYTES, _SET, b"", _ANY_BYTES, draft=True, requires=_WSS_BUILD,
               effect=_WSS),
    OptionSpec(O.WSS_HOSTNAME, _BYTES, _SET, b"", _ANY_BYTES, draft=True, requires=_WSS_BUILD,
               effect=_WSS),
    OptionSpec(O.WSS_TRUST_SYSTEM, _INT, _SET, 0, _STRICT_BOOL, draft=True,
               requires=_WSS_BUILD, effect=_WSS),
    OptionSpec(O.ONLY_FIRST_SUBSCRIBE, _INT, _SET, 0, _FLAG, set_types=_XPUBS | {T.XSUB},
               draft=True, note="SUB refuses it: sub_t's handler does not fall back to XSUB's"),
    OptionSpec(O.RECONNECT_STOP, _INT, _BOTH, 0, _ANY_INT, draft=True,
               note="RECONNECT_STOP_* bits; libzmq does not check them"),
    OptionSpec(O.HELLO_MSG, _BYTES, _SET, b"", _ANY_BYTES, draft=True, requires=_DRAFT_BUILD,
               note="sent to each new peer, by ROUTER, DEALER, SERVER, CLIENT and PEER only"),
    OptionSpec(O.DISCONNECT_MSG, _BYTES, _SET, b"", _ANY_BYTES, draft=True,
               requires=_DRAFT_BUILD,
               note="received in a gone peer's name, by ROUTER, SERVER and PEER only"),
    OptionSpec(O.PRIORITY, _INT, _BOTH, 0, _NON_NEGATIVE, draft=True, requires=_DRAFT_BUILD,
               effect="stored only: zmtp does not set SO_PRIORITY yet"),
    OptionSpec(O.BUSY_POLL, _INT, _SET, 0, _ANY_INT, draft=True, requires=_DRAFT_BUILD,
               effect="stored only: zmtp does not set SO_BUSY_POLL",
               note="libzmq's getsockopt case lacks its 'return 0': reading it is EINVAL"),
    OptionSpec(O.HICCUP_MSG, _BYTES, _SET, b"", _ANY_BYTES, draft=True, requires=_DRAFT_BUILD,
               note="delivered when a connection comes back, by DEALER, CLIENT and PEER only"),
    OptionSpec(O.XSUB_VERBOSE_UNSUBSCRIBE, _INT, _SET, 0, _RELAXED_BOOL,
               set_types=frozenset({T.XSUB}), draft=True, requires=_DRAFT_BUILD),
    OptionSpec(O.TOPICS_COUNT, _INT, _GET, 0, get_types=_TOPIC_COUNTERS, draft=True,
               note="the number of subscriptions; a stable libzmq build answers it too"),
    OptionSpec(O.NORM_MODE, _INT, _BOTH, 1, IntRule(low=0, high=4), draft=True,
               requires=_NORM_BUILD, effect=_NORM),
    OptionSpec(O.NORM_UNICAST_NACK, _INT, _BOTH, 0, _STRICT_BOOL, draft=True,
               requires=_NORM_BUILD, effect=_NORM),
    OptionSpec(O.NORM_BUFFER_SIZE, _INT, _BOTH, 2048, _POSITIVE, draft=True,
               requires=_NORM_BUILD, effect=_NORM),
    OptionSpec(O.NORM_SEGMENT_SIZE, _INT, _BOTH, 1400, _POSITIVE, draft=True,
               requires=_NORM_BUILD, effect=_NORM),
    OptionSpec(O.NORM_BLOCK_SIZE, _INT, _BOTH, 16, IntRule(low=1, high=255), draft=True,
               requires=_NORM_BUILD, effect=_NORM),
    OptionSpec(O.NORM_NUM_PARITY, _INT, _BOTH, 4, IntRule(low=0, high=254), draft=True,
               requires=_NORM_BUILD, effect=_NORM),
    OptionSpec(O.NORM_NUM_AUTOPARITY, _INT, _BOTH, 0, IntRule(low=0, high=254), draft=True,
               requires=_NORM_BUILD, effect=_NORM),
    OptionSpec(O.NORM_PUSH, _INT, _BOTH, 0, _STRICT_BOOL, draft=True, requires=_NORM_BUILD,
               effect=_NORM),
)
# fmt: on

# Options zmtp means to honour but does not yet: stored and returned, with no effect. Each
# reason names what is missing, so the gap is visible in getsockopt's docs and in tests.
NOT_YET: Mapping[O, str] = MappingProxyType(
    {
        O.SNDBUF: "stored only: not applied to the OS socket yet",
        O.RCVBUF: "stored only: not applied to the OS socket yet",
        O.TOS: "stored only: not applied to the OS socket yet",
        O.BINDTODEVICE: "stored only: not applied to the OS socket yet",
        O.ROUTER_RAW: "stored only: raw TCP (ROUTER_RAW, STREAM) is not implemented yet",
        O.STREAM_NOTIFY: "stored only: raw TCP (ROUTER_RAW, STREAM) is not implemented yet",
        O.XPUB_MANUAL_LAST_VALUE: "stored only: XPUB_MANUAL_LAST_VALUE is not implemented yet",
        O.ONLY_FIRST_SUBSCRIBE: "stored only: not implemented yet",
        O.XSUB_VERBOSE_UNSUBSCRIBE: "stored only: not implemented yet",
        O.ROUTER_NOTIFY: "stored only: ROUTER_NOTIFY is not implemented yet",
        O.HELLO_MSG: "stored only: not implemented yet",
        O.DISCONNECT_MSG: "stored only: not implemented yet",
        O.HICCUP_MSG: "stored only: not implemented yet",
        O.RECONNECT_STOP: "stored only: not implemented yet",
        O.METADATA: "stored only: application metadata is not sent in READY yet",
        O.ZAP_ENFORCE_DOMAIN: "stored only: ZAP_ENFORCE_DOMAIN's strict rules are not applied",
    }
)

OPTIONS: Mapping[O, OptionSpec] = MappingProxyType(
    {
        row.option: replace(row, effect=NOT_YET[row.option]) if row.option in NOT_YET else row
        for row in _ROWS
    }
)
"""Every socket option, by :class:`~zmtp.constants.SocketOption` (aliases included)."""


def option_spec(option: int) -> OptionSpec:
    """Return the row for ``option``; an unknown number is a ConfigurationError (EINVAL)."""
    try:
        return OPTIONS[O(option)]
    except (ValueError, KeyError):
        raise ConfigurationError(f"{option!r} is not a socket option") from None


def validate(option: int, value: object, socket_type: int | None = None) -> OptionValue:
    """Check ``value`` as libzmq's setsockopt would, and return what the socket stores.

    The returned value is what getsockopt reads back: booleans collapse to 0/1, HEARTBEAT_TTL
    is truncated to whole deciseconds, CURVE keys become 32 raw bytes. With ``socket_type``,
    an option libzmq refuses on that type is refused too (the XPUB manual-mode condition of
    SUBSCRIBE is state, and is left to the socket). Raises :class:`ConfigurationError`
    (:class:`OptionTypeError` for a value of the wrong Python type) naming the option.
    """
    spec = option_spec(option)
    name = spec.option.name
    if not spec.settable:
        reason = spec.effect or "it is read-only"
        raise ConfigurationError(f"{name} cannot be set: {reason}")
    if socket_type is not None:
        kind = T(socket_type)
        if not spec.settable_on(kind):
            raise ConfigurationError(f"{name} is not an option of {kind.name} sockets")
    if spec.value_type is ValueType.BYTES:
        if isinstance(value, str):
            raise OptionTypeError(f"{name} takes bytes, not str: encode it (or use set_string)")
        # pyzmq takes exactly bytes (not bytearray or memoryview) and so do we.
        if not isinstance(value, bytes):
            raise OptionTypeError(f"{name} takes bytes, not {type(value).__name__}")
        assert isinstance(spec.rule, BytesRule)
        return spec.rule.normalise(name, value)
    if not isinstance(value, int):
        raise OptionTypeError(f"{name} takes an int, not {type(value).__name__}")
    assert isinstance(spec.rule, IntRule)
    return spec.rule.normalise(name, int(value), spec.value_type)


def checked_setsockopt(option: int, value: object, socket_type: int) -> OptionValue:
    """:func:`validate` with the errors a setsockopt call raises (pyzmq's, over libzmq's).

    A value of the wrong Python type is a TypeError; anything libzmq refuses is ZMQError
    EINVAL. Every front end sets options through this, so they fail alike.
    """
    try:
        return validate(option, value, socket_type)
    except OptionTypeError as exc:
        raise TypeError(str(exc)) from None
    except ConfigurationError as exc:
        raise ZMQError(Errno.EINVAL, str(exc)) from None


def initial_values(socket_type: int) -> dict[O, OptionValue]:
    """Return libzmq's starting value of every option a fresh ``socket_type`` socket has."""
    kind = T(socket_type)
    values: dict[O, OptionValue] = {}
    for option, spec in OPTIONS.items():
        value = spec.default_for(kind)
        if value is not None and (spec.settable_on(kind) or spec.gettable_on(kind)):
            values[option] = value
    return values


# --- the few formats libzmq parses -----------------------------------------------------------


def _curve_key(name: str, value: bytes) -> bytes:
    """Return the raw key from 32 raw bytes, 40 Z85 characters, or those 40 plus a NUL.

    libzmq decodes the Z85 forms up to the first NUL, so a NUL inside the text makes it keep
    a partial key; zmtp refuses such a value instead.
    """
    text = value[:40] if len(value) == 41 and value[40] == 0 else value
    if len(text) == 32 and text is value:
        return value
    if len(text) != 40:
        raise ConfigurationError(
            f"{name} must be 32 raw bytes or 40 Z85 characters, got {len(value)} bytes"
        )
    try:
        return z85.decode(text)
    except ValueError as exc:
        raise ConfigurationError(f"{name} is not a valid Z85 key: {exc}") from None


def _check_metadata(name: str, value: bytes) -> None:
    """Apply libzmq's METADATA rule: ``X-key:value``, the key 'X-' prefixed, <= 255 bytes."""
    colon = value.find(b":")
    if colon <= 0 or colon == len(value) - 1:
        raise ConfigurationError(f"{name} must be 'X-key:value' with a non-empty value")
    key = value[:colon]
    if not key.startswith(b"X-") or len(key) > 255:
        raise ConfigurationError(f"{name} key must start with 'X-' and be at most 255 bytes")
    # libzmq reads any 4-byte value as an int and refuses it; only 'X-:v' is affected.
    if len(value) == 4:
        raise ConfigurationError(f"{name} of exactly 4 bytes is refused by libzmq")


_STRTOL_PREFIX = re.compile(r"\s*([+-]?\d+)")


def _check_address_mask(name: str, value: bytes) -> None:
    """Apply libzmq's TCP_ACCEPT_FILTER rule: a numeric IP address, optionally ``/bits``."""
    try:
        text = value.decode("ascii")
    except UnicodeDecodeError:
        raise ConfigurationError(f"{name} must be an ASCII address mask") from None
    address, slash, mask = text.rpartition("/")
    if not slash:
        address, mask = text, ""
    elif not mask:
        raise ConfigurationError(f"{name} has an empty mask after '/'")
    if len(address) >= 2 and address[0] == "[" and address[-1] == "]":
        address = address[1:-1]
    try:
        family = socket.getaddrinfo(
            address, None, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST
        )[0][0]
    except (OSError, UnicodeError, ValueError):
        raise ConfigurationError(f"{name} needs a numeric IP address, got {address!r}") from None
    if not slash or mask == "0":
        return
    # libzmq parses the mask with strtol: leading digits count, the rest is ignored, and
    # anything that parses as 0 ("00", "x") is refused.
    digits = _STRTOL_PREFIX.match(mask)
    bits = int(digits.group(1)) if digits else 0
    widest = 128 if family == socket.AF_INET6 else 32
    if not 1 <= bits <= widest:
        raise ConfigurationError(f"{name} mask must be 0 to {widest} bits, got {mask!r}")
