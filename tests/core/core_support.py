"""Helpers shared by the sans-IO tests: driving two Connections against each other."""

from __future__ import annotations

from zmtp.connection import Connection


def shuttle(a: Connection, b: Connection, now: float = 0.0) -> tuple[bytes, bytes]:
    """Carry bytes both ways until both sides are quiet; return what each one wrote."""
    wrote_a = wrote_b = b""
    while True:
        out_a, out_b = a.data_to_send(), b.data_to_send()
        if not out_a and not out_b:
            return wrote_a, wrote_b
        wrote_a += out_a
        wrote_b += out_b
        if out_a:
            b.receive_data(out_a, now)
        if out_b:
            a.receive_data(out_b, now)
