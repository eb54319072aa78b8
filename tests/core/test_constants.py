"""zmtp.constants carries libzmq's numbers under pyzmq's names (pyzmq is the fact source here).

Every name is compared with pyzmq's enum of the same name; a name only one side has must be
listed below with the reason, so a name can neither go missing nor appear unnoticed.
"""

from __future__ import annotations

import enum
import errno

import pytest
import zmq
from zmq import constants as pyzmq_constants

from zmtp import constants, errors

# (zmtp enum, pyzmq enum) pairs, compared name by name.
ENUM_PAIRS = [
    (constants.SocketType, pyzmq_constants.SocketType),
    (constants.SocketOption, pyzmq_constants.SocketOption),
    (constants.ContextOption, pyzmq_constants.ContextOption),
    (constants.Errno, pyzmq_constants.Errno),
    (constants.Event, pyzmq_constants.Event),
    (constants.PollEvent, pyzmq_constants.PollEvent),
    (constants.Flag, pyzmq_constants.Flag),
    (constants.MessageOption, pyzmq_constants.MessageOption),
    (constants.SecurityMechanism, pyzmq_constants.SecurityMechanism),
    (constants.RouterNotify, pyzmq_constants.RouterNotify),
    (constants.ReconnectStop, pyzmq_constants.ReconnectStop),
    (constants.NormMode, pyzmq_constants.NormMode),
    (constants.DeviceType, pyzmq_constants.DeviceType),
]

_LIBZMQ_SETS_IT = "a platform errno libzmq 4.3.5 sets itself (src/*.cpp 'errno = {}')"

# Names zmtp's enum has and pyzmq's lacks.
ONLY_IN_ZMTP: dict[tuple[str, str], str] = {
    ("ContextOption", "ZERO_COPY_RECV"): "DRAFT context option (zmq.h, 10) pyzmq does not list",
    ("ContextOption", "IPV6"): "zmq_ctx_set takes socket option 42; pyzmq only has SocketOption",
    ("ContextOption", "BLOCKY"): "zmq_ctx_set takes option 70; pyzmq lists it as a SocketOption",
    ("Errno", "EINTR"): _LIBZMQ_SETS_IT.format("EINTR") + ", interrupted blocking call",
    ("Errno", "ENOENT"): _LIBZMQ_SETS_IT.format("ENOENT") + ", unbind of an unknown endpoint",
    ("Errno", "ENOMEM"): _LIBZMQ_SETS_IT.format("ENOMEM"),
    ("Errno", "EMFILE"): _LIBZMQ_SETS_IT.format("EMFILE") + ", MAX_SOCKETS reached",
    ("Errno", "ENODEV"): _LIBZMQ_SETS_IT.format("ENODEV") + ", unknown interface in bind",
    ("Errno", "ENAMETOOLONG"): _LIBZMQ_SETS_IT.format("ENAMETOOLONG") + ", long ipc path",
    ("Errno", "EPROTO"): _LIBZMQ_SETS_IT.format("EPROTO") + ", in handshake monitor events",
    ("Errno", "EACCES"): "bind() passes it through (privileged port, ipc path permissions)",
}

# Names pyzmq's enum has and zmtp's lacks.
ONLY_IN_PYZMQ: dict[tuple[str, str], str] = {
    ("SocketType", "XREQ"): "SocketType is frozen (other modules use it); XREQ is module-level",
    ("SocketType", "XREP"): "SocketType is frozen (other modules use it); XREP is module-level",
}

# pyzmq's module-level name for a member; bare names would be ambiguous for these enums.
_PREFIXES = {
    "Event": "EVENT_",
    "RouterNotify": "NOTIFY_",
    "ReconnectStop": "RECONNECT_STOP_",
    "NormMode": "NORM_",
}


def module_name(enum_name: str, member_name: str) -> str:
    if enum_name == "Event" and member_name.startswith("PROTOCOL_ERROR_"):
        return member_name
    return _PREFIXES.get(enum_name, "") + member_name


def pair_id(pair: tuple[type[enum.Enum], type[enum.Enum]]) -> str:
    return pair[0].__name__


@pytest.mark.parametrize("pair", ENUM_PAIRS, ids=pair_id)
def test_every_shared_name_has_pyzmqs_number(pair: tuple[type[enum.Enum], type[enum.Enum]]):
    ours, theirs = pair
    shared = ours.__members__.keys() & theirs.__members__.keys()
    assert shared
    for name in shared:
        assert int(ours.__members__[name].value) == int(theirs.__members__[name].value), name


@pytest.mark.parametrize("pair", ENUM_PAIRS, ids=pair_id)
def test_names_missing_on_either_side_are_the_listed_ones(
    pair: tuple[type[enum.Enum], type[enum.Enum]],
):
    ours, theirs = pair
    only_ours = {(ours.__name__, n) for n in ours.__members__.keys() - theirs.__members__.keys()}
    only_theirs = {(ours.__name__, n) for n in theirs.__members__.keys() - ours.__members__.keys()}
    assert only_ours == {key for key in ONLY_IN_ZMTP if key[0] == ours.__name__}
    assert only_theirs == {key for key in ONLY_IN_PYZMQ if key[0] == ours.__name__}


@pytest.mark.parametrize("pair", ENUM_PAIRS, ids=pair_id)
def test_a_number_with_two_names_is_called_what_pyzmq_calls_it(
    pair: tuple[type[enum.Enum], type[enum.Enum]],
):
    # SocketOption(5).name is ROUTING_ID, not IDENTITY; ContextOption(3) is SOCKET_LIMIT.
    ours, theirs = pair
    their_values = {int(member.value) for member in theirs}
    for member in ours:
        if int(member.value) in their_values:
            assert member.name == theirs(int(member.value)).name


def test_listed_zmtp_only_errnos_are_the_platform_errnos():
    for enum_name, name in ONLY_IN_ZMTP:
        if enum_name == "Errno":
            assert constants.Errno[name] == getattr(errno, name)


def test_posix_errnos_are_the_platform_numbers_and_libzmq_own_start_at_hausnumero():
    hausnumero = 156384712
    own = {"EFSM": 51, "ENOCOMPATPROTO": 52, "ETERM": 53, "EMTHREAD": 54}
    for member in constants.Errno:
        if member.name in own:
            assert member == hausnumero + own[member.name]
        else:
            assert member == getattr(errno, member.name)


def test_context_ipv6_and_blocky_are_the_socket_option_numbers():
    assert constants.ContextOption.IPV6 == constants.SocketOption.IPV6 == 42
    assert constants.ContextOption.BLOCKY == constants.SocketOption.BLOCKY == 70
    assert constants.ContextOption.ZERO_COPY_RECV == 10


@pytest.mark.parametrize(
    "enum_class",
    [pair[0] for pair in ENUM_PAIRS if pair[0] is not constants.SocketType],
    ids=lambda e: e.__name__,
)
def test_every_member_has_a_module_level_alias(enum_class: type[enum.Enum]):
    for member_name, member in enum_class.__members__.items():
        alias = module_name(enum_class.__name__, member_name)
        assert getattr(constants, alias) == member.value, alias
        # IPV6 and BLOCKY are shared with SocketOption, which pyzmq's module level uses.
        if (enum_class.__name__, member_name) not in {
            ("ContextOption", "IPV6"),
            ("ContextOption", "BLOCKY"),
        }:
            assert getattr(constants, alias) is member, alias


def test_every_pyzmq_module_level_constant_exists_with_the_same_number():
    missing = []
    for name in pyzmq_constants.__all__:
        value = getattr(pyzmq_constants, name)
        if not isinstance(value, int):
            continue
        if not hasattr(constants, name):
            missing.append(name)
            continue
        assert getattr(constants, name) == value, name
    assert missing == []


def test_module_level_aliases_match_pyzmqs_top_level_names():
    assert constants.LINGER == zmq.LINGER == 17
    assert constants.EAGAIN == zmq.EAGAIN == errno.EAGAIN
    assert constants.POLLIN == zmq.POLLIN == 1
    assert constants.NOBLOCK == constants.DONTWAIT == zmq.NOBLOCK
    assert constants.IDENTITY is constants.ROUTING_ID
    assert constants.EVENT_ALL == zmq.EVENT_ALL == 0xFFFF
    assert constants.NOTIFY_DISCONNECT == zmq.NOTIFY_DISCONNECT
    assert constants.XREQ is constants.DEALER


def test_existing_socket_type_aliases_are_unchanged():
    for name in ("PAIR", "PUB", "SUB", "REQ", "REP", "DEALER", "ROUTER", "PULL", "PUSH"):
        assert getattr(constants, name) is constants.SocketType[name]
    assert constants.STREAM is constants.SocketType.STREAM


def test_flags_combine_like_pyzmqs():
    assert constants.POLLIN | constants.POLLOUT == zmq.POLLIN | zmq.POLLOUT == 3
    assert constants.DONTWAIT | constants.SNDMORE == 3
    assert constants.EVENT_CONNECTED | constants.EVENT_DISCONNECTED == 0x201
    assert isinstance(constants.POLLIN | constants.POLLOUT, constants.PollEvent)


def test_protocol_error_codes_agree_with_zmtp_errors():
    # zmtp.errors names the codes a ProtocolError reports; they must be the monitor's numbers.
    for name in dir(errors):
        if name.startswith(("ZMTP_", "ZAP_")):
            assert getattr(errors, name) == getattr(constants, f"PROTOCOL_ERROR_{name}"), name
