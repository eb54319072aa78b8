"""Which NaCl box CURVE uses: libsodium through PyNaCl when it is installed, else pure Python.

Both backends give identical bytes and raise the same :class:`~zmtp.curve_box.BoxError`
(tests/core/test_curve_backends.py holds them to it). The choice is process-wide: the
environment variable ``ZMTP_CURVE_BACKEND`` (``python`` or ``pynacl``) or :func:`use_backend`
overrides the default, for benchmarks and tests of each.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from types import ModuleType

from zmtp import curve_box

__all__ = ["available_backends", "backend", "open_box", "seal", "shared_key", "use_backend"]

_MODULES = {"pynacl": "zmtp.curve_nacl", "python": "zmtp.curve_box"}

seal: Callable[[bytes, bytes, bytes], bytes] = curve_box.seal
open_box: Callable[[bytes, bytes, bytes], bytes] = curve_box.open_box
shared_key: Callable[[bytes, bytes], bytes] = curve_box.shared_key
backend = "python"


def _load(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(_MODULES[name])
    except ImportError:
        return None


def available_backends() -> list[str]:
    """Return the backends this process can use, fastest first."""
    return [name for name in _MODULES if _load(name) is not None]


def use_backend(name: str) -> None:
    """Switch every CURVE connection made from now on to backend ``name``."""
    global seal, open_box, shared_key, backend  # noqa: PLW0603  (the module is the switch)
    if name not in _MODULES:
        raise ValueError(f"unknown CURVE backend {name!r}; choose from {sorted(_MODULES)}")
    module = _load(name)
    if module is None:
        raise ValueError(f"CURVE backend {name!r} is not available (is PyNaCl installed?)")
    seal, open_box, shared_key = module.seal, module.open_box, module.shared_key
    backend = name


use_backend(os.environ.get("ZMTP_CURVE_BACKEND") or available_backends()[0])
