"""Benchmarks of zmtp against pyzmq, run side by side; ``python -m bench.run`` (see README)."""
