"""Hypothesis profiles shared by tests/ and interop/.

``ci`` (the default) keeps the property tests fast; ``fuzz`` is for long runs by hand:
``HYPOTHESIS_PROFILE=fuzz .venv/bin/pytest tests/core/test_properties.py``.
"""

import os

from hypothesis import HealthCheck, settings

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
