"""``zmq.utils.monitor``: reading socket monitor events, from :mod:`zmtp.monitor`."""

from __future__ import annotations

from zmtp.monitor import parse_monitor_message, recv_monitor_message

__all__ = ["parse_monitor_message", "recv_monitor_message"]
