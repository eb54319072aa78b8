"""Fixtures shared by the API tests."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from api_support import Worker

import zmtp


@pytest.fixture
def ctx() -> Iterator[zmtp.Context]:
    """A context destroyed (LINGER 0, bounded) after the test; modules may define their own."""
    context = zmtp.Context()
    yield context
    gc.collect()  # not inside destroy(): see test_context.py's Socket.__del__ deadlock test
    assert Worker(context.destroy, 0).join(), "ctx.destroy(linger=0) hung"
