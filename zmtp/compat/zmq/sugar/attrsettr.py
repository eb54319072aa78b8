"""``zmq.sugar.attrsettr``: pyzmq's mixin that maps option names to attributes.

zmtp's Context and Socket implement the attribute protocol themselves; this mixin is for
pyzmq programs that reuse it on classes of their own, which define ``get`` and ``set``.
"""

from __future__ import annotations

import errno
from typing import Any

from zmtp import constants
from zmtp.errors import ZMQError

__all__ = ["AttributeSetter"]


def _option(owner: object, name: str) -> int:
    """Return the libzmq constant spelt ``name`` in upper case, or raise AttributeError."""
    try:
        value = getattr(constants, name.upper())
    except AttributeError:
        raise AttributeError(f"{type(owner).__name__} has no such option: {name.upper()}") from None
    if not isinstance(value, int):
        raise AttributeError(f"{type(owner).__name__} has no such option: {name.upper()}")
    return value


class AttributeSetter:
    """``obj.linger = 0`` calls ``obj.set(LINGER, 0)``; ``obj.linger`` calls ``obj.get``.

    Names already on the instance or declared by a class (attributes, annotations) stay
    ordinary attributes, so subclasses can keep state of their own.
    """

    def __setattr__(self, key: str, value: Any) -> None:
        if key in self.__dict__ or any(
            key in klass.__dict__ or key in getattr(klass, "__annotations__", {})
            for klass in type(self).__mro__
        ):
            object.__setattr__(self, key, value)
            return
        self._set_attr_opt(key.upper(), _option(self, key), value)

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):
            raise AttributeError(key)
        option = _option(self, key)
        try:
            return self._get_attr_opt(key.upper(), option)
        except ZMQError as e:
            # libzmq answers EINVAL for write-only options (SUBSCRIBE): to Python, and to
            # mock's introspection, that attribute simply does not exist.
            if e.errno in {errno.EINVAL, errno.EFAULT}:
                raise AttributeError(f"{key} attribute is write-only") from None
            raise

    def _set_attr_opt(self, name: str, opt: int, value: Any) -> None:
        """Store an option set as an attribute; override to do something else."""
        self.set(opt, value)

    def _get_attr_opt(self, name: str, opt: int) -> Any:
        """Read an option read as an attribute; override to do something else."""
        return self.get(opt)

    def get(self, option: int) -> Any:
        """Return ``option``'s value: subclasses implement it."""
        raise NotImplementedError(f"{type(self).__name__} must implement get()")

    def set(self, option: int, value: Any) -> None:
        """Set ``option``: subclasses implement it."""
        raise NotImplementedError(f"{type(self).__name__} must implement set()")
