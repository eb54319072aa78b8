"""``zmq.devices.basedevice``: the device base classes, from :mod:`zmtp.devices`."""

from __future__ import annotations

from zmtp.devices import BackgroundDevice, Device, ProcessDevice, ThreadDevice

__all__ = ["BackgroundDevice", "Device", "ProcessDevice", "ThreadDevice"]
