"""``zmq.decorators``: give a function a Context or a socket for the length of each call.

``@context()`` makes a new Context per call and destroys it afterwards; ``@socket(zmq.PUSH)``
makes a socket per call and closes it afterwards. The object is passed as the next positional
argument, or as a keyword if the decorator is given a name (first positional ``str``, or
``name=``); every other argument goes to ``Context(...)`` or ``ctx.socket(...)``. A socket's
context is the call's keyword ``context`` (``context_name=`` to choose another), else the
first Context among the positional arguments, else ``Context.instance()``::

    @context()
    @socket(zmq.PUSH)
    def work(ctx, push): ...
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, TypeVar

from zmtp.context import Context

__all__ = ["context", "socket"]

_F = TypeVar("_F", bound=Callable[..., Any])


def _split_name(
    args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[str | None, tuple[Any, ...]]:
    """Take the decorator's own ``name`` out of its arguments (mutates ``kwargs``)."""
    if isinstance(kwargs.get("name"), str):
        return kwargs.pop("name"), args
    if args and isinstance(args[0], str):
        return args[0], args[1:]
    return None, args


def _decorator(
    name: str | None, make: Callable[[tuple[Any, ...], dict[str, Any]], AbstractContextManager[Any]]
) -> Callable[[_F], _F]:
    """Wrap functions so each call runs inside ``make(call args, call kwargs)``'s object."""

    def decorate(func: _F) -> _F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with make(args, kwargs) as obj:
                if name is None:
                    return func(*args, obj, **kwargs)
                if name in kwargs:
                    raise TypeError(f"{func.__name__}() got multiple values for argument {name!r}")
                return func(*args, **{name: obj}, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def context(*args: Any, **kwargs: Any) -> Callable[[_F], _F]:
    """Pass a new Context (``Context(*args, **kwargs)``) to each call, destroyed after it."""
    name, args = _split_name(args, kwargs)
    return _decorator(name, lambda _args, _kwargs: Context(*args, **kwargs))


def socket(*args: Any, **kwargs: Any) -> Callable[[_F], _F]:
    """Pass a new socket (``ctx.socket(*args, **kwargs)``) to each call, closed after it."""
    name, args = _split_name(args, kwargs)
    context_name = kwargs.pop("context_name", "context")

    def make(
        call_args: tuple[Any, ...], call_kwargs: dict[str, Any]
    ) -> AbstractContextManager[Any]:
        ctx = call_kwargs.get(context_name)
        if not isinstance(ctx, Context):
            ctx = next((a for a in call_args if isinstance(a, Context)), None)
        if ctx is None:
            ctx = Context.instance()
        return ctx.socket(*args, **kwargs)

    return _decorator(name, make)
