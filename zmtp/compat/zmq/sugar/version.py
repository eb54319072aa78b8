"""``zmq.sugar.version``: which versions answer when a pyzmq program asks.

Two different things are reported, and neither is pyzmq's own build:

* the *libzmq* version, ``zmq_version_info()``: the libzmq release whose behaviour zmtp
  reproduces on the wire and in the API (4.3.5; zmtp speaks ZMTP 3.1 as it does);
* the *pyzmq* version, ``pyzmq_version_info()``: the pyzmq API level this package follows
  (27.2.0), marked with zmtp's own version as a local part (``27.2.0+zmtp.0.1.0``) so that no
  one mistakes it for pyzmq's release. As pyzmq does for any version with an extra part, the
  tuple then carries a fourth element, ``inf``, which keeps ``>= (27, 2, 0)`` checks true.
"""

from __future__ import annotations

import zmtp

__all__ = [
    "__revision__",
    "__version__",
    "pyzmq_version",
    "pyzmq_version_info",
    "zmq_version",
    "zmq_version_info",
]

_LIBZMQ = (4, 3, 5)
VERSION_MAJOR = 27
VERSION_MINOR = 2
VERSION_PATCH = 0
#: The local part naming the implementation behind the API (PEP 440 ``+local``).
VERSION_EXTRA = f"zmtp.{zmtp.__version__}"

__version__ = f"{VERSION_MAJOR}.{VERSION_MINOR}.{VERSION_PATCH}+{VERSION_EXTRA}"
#: pyzmq's VCS revision of a development build; zmtp's version is in VERSION_EXTRA instead.
__revision__ = ""
version_info: tuple[int, int, int, float] = (
    VERSION_MAJOR,
    VERSION_MINOR,
    VERSION_PATCH,
    float("inf"),
)


def zmq_version_info() -> tuple[int, int, int]:
    """Return the libzmq release whose behaviour zmtp reproduces on the wire and in the API."""
    return _LIBZMQ


def zmq_version() -> str:
    """Return :func:`zmq_version_info` as text."""
    return ".".join(map(str, _LIBZMQ))


def pyzmq_version_info() -> tuple[int, int, int, float]:
    """Return the pyzmq API level followed, with ``inf`` marking the zmtp local part."""
    return version_info


def pyzmq_version() -> str:
    """Return the pyzmq API level, marked as zmtp's (``27.2.0+zmtp.<zmtp version>``)."""
    return __version__
