"""The transport registry: endpoint strings to the :class:`StreamTransport` for their scheme.

Transports are found through the ``zmtp.transports`` entry-point group, so another package
can add a scheme by declaring, in its own metadata::

    [project.entry-points."zmtp.transports"]
    myscheme = "mypackage.transport:MyTransport"

tcp and ipc are declared the same way by zmtp's own ``pyproject.toml``, and are also built in
here, so they work from a source tree or an install whose metadata predates the entry points.
``inproc`` is recognised by :func:`parse_endpoint` but has no transport: the engine connects
in-process sockets itself.

This module must not import :mod:`zmtp` at import time: ``zmtp/__init__`` imports the engine,
which imports this registry, so a module-level import would be circular when ``transports``
is imported first.
"""

from __future__ import annotations

import functools
import logging
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING

from transports.base import StreamTransport

if TYPE_CHECKING:
    from zmtp.errors import ZMQError

__all__ = [
    "ENGINE_SCHEMES",
    "ENTRY_POINT_GROUP",
    "available_schemes",
    "get_transport",
    "parse_endpoint",
]

ENTRY_POINT_GROUP = "zmtp.transports"

# Schemes the engine handles itself, without a stream transport.
ENGINE_SCHEMES = frozenset({"inproc"})

_BUILTIN = {
    "tcp": "transports.tcp:TcpTransport",
    "ipc": "transports.ipc:IpcTransport",
}

log = logging.getLogger(__name__)


def _error(errno_name: str, message: str) -> ZMQError:
    # Imported here, not at module level: see the module docstring.
    from zmtp.constants import Errno  # noqa: PLC0415
    from zmtp.errors import zmq_error  # noqa: PLC0415

    return zmq_error(Errno[errno_name], message)


@functools.cache
def _entry_points() -> dict[str, EntryPoint]:
    """Read the entry-point group once; built-ins fill the schemes nobody declared.

    When two installed distributions declare the same scheme, the first one that
    importlib.metadata lists wins and the other is logged, so the choice is visible.
    """
    found: dict[str, EntryPoint] = {}
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        if entry.name in ENGINE_SCHEMES:
            log.warning("ignoring transport %s for %r: the engine handles it", entry, entry.name)
        elif entry.name in found and found[entry.name].value != entry.value:
            log.warning(
                "two transports for %r: using %s, ignoring %s",
                entry.name,
                found[entry.name].value,
                entry.value,
            )
        else:
            found.setdefault(entry.name, entry)
    for name, value in _BUILTIN.items():
        found.setdefault(name, EntryPoint(name, value, ENTRY_POINT_GROUP))
    return found


def available_schemes() -> frozenset[str]:
    """Return every scheme an endpoint may use: registered transports plus ``inproc``."""
    return frozenset(_entry_points()) | ENGINE_SCHEMES


@functools.cache
def get_transport(scheme: str) -> StreamTransport:
    """Return the (shared, stateless apart from ipc's bound files) transport for ``scheme``.

    Raises ZMQError(EPROTONOSUPPORT) for a scheme without a transport, including ``inproc``,
    and for a plugin that cannot be loaded or is not a StreamTransport for that scheme (the
    import error is chained as the cause).
    """
    entry = _entry_points().get(scheme)
    if entry is None:
        if scheme in ENGINE_SCHEMES:
            raise _error(
                "EPROTONOSUPPORT", f"{scheme}:// has no stream transport: the engine handles it"
            )
        raise _error("EPROTONOSUPPORT", f"no transport for {scheme}:// is installed")
    try:
        loaded = entry.load()
    except Exception as exc:
        raise _error(
            "EPROTONOSUPPORT",
            f"the transport for {scheme}:// ({entry.value}) failed to load: {exc}",
        ) from exc
    if not (isinstance(loaded, type) and issubclass(loaded, StreamTransport)):
        raise _error(
            "EPROTONOSUPPORT",
            f"the transport for {scheme}:// ({entry.value}) is not a StreamTransport class",
        )
    if getattr(loaded, "scheme", None) != scheme:
        raise _error(
            "EPROTONOSUPPORT",
            f"the transport registered for {scheme}:// ({entry.value}) declares scheme "
            f"{getattr(loaded, 'scheme', None)!r}",
        )
    try:
        return loaded()
    except Exception as exc:
        raise _error(
            "EPROTONOSUPPORT",
            f"the transport for {scheme}:// ({entry.value}) failed to start: {exc}",
        ) from exc


def parse_endpoint(endpoint: str) -> tuple[str, str]:
    """Split ``scheme://address``, with libzmq's errors and in libzmq's order.

    libzmq (socket_base_t::parse_uri, then check_protocol): no ``://``, an empty scheme or an
    empty address is EINVAL, even for an unknown scheme (``foo://`` is EINVAL); then a scheme
    it does not know is EPROTONOSUPPORT. Schemes are case-sensitive (``TCP://`` is
    EPROTONOSUPPORT). The address is returned untouched: the transport reads it.
    """
    scheme, separator, address = endpoint.partition("://")
    if not separator:
        raise _error("EINVAL", f"endpoint {endpoint!r} has no '://' between transport and address")
    if not scheme:
        raise _error("EINVAL", f"endpoint {endpoint!r} has no transport before '://'")
    if not address:
        raise _error("EINVAL", f"endpoint {endpoint!r} has no address after '://'")
    if scheme not in available_schemes():
        known = ", ".join(sorted(available_schemes()))
        raise _error(
            "EPROTONOSUPPORT",
            f"endpoint {endpoint!r}: transport {scheme!r} is not supported (known: {known})",
        )
    return scheme, address


def _clear_caches() -> None:
    """Forget loaded entry points and transports (for tests that install plugins)."""
    _entry_points.cache_clear()
    get_transport.cache_clear()
