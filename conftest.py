"""Hypothesis profiles and the CURVE backend fixture, shared by tests/ and interop/.

``ci`` (the default) keeps the property tests fast; ``fuzz`` is for long runs by hand:
``HYPOTHESIS_PROFILE=fuzz .venv/bin/pytest tests/core/test_properties.py``.
"""

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from zmtp import curve_crypto

settings.register_profile("ci", max_examples=200, deadline=None, print_blob=True)
settings.register_profile("dev", max_examples=50, deadline=None)
settings.register_profile(
    "fuzz",
    max_examples=100_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(params=curve_crypto.available_backends())
def curve_backend(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run a CURVE test once per box backend (pure Python, and PyNaCl where installed)."""
    previous = curve_crypto.backend
    curve_crypto.use_backend(request.param)
    try:
        yield request.param
    finally:
        curve_crypto.use_backend(previous)
