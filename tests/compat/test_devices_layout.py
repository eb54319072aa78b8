"""``zmq.devices`` in the compatibility package: pyzmq's layout over ``zmtp.devices``."""

from __future__ import annotations

import os
import subprocess
import sys

import zmtp.compat

SOURCE = """
import sys, zmq
print("zmq.devices" in sys.modules)
from zmq import devices
import zmtp.devices
from zmq.devices.basedevice import Device, ThreadDevice, ProcessDevice
from zmq.devices.proxydevice import Proxy, ProxyBase
from zmq.devices.proxysteerabledevice import ProxySteerable
from zmq.devices.monitoredqueuedevice import MonitoredQueue
from zmq.devices.monitoredqueue import monitored_queue
print(all(getattr(devices, name) is getattr(zmtp.devices, name) for name in devices.__all__
          if not name.islower() or name == "monitored_queue"))
print(ProxyBase is Proxy, monitored_queue is zmtp.devices.monitored_queue)
print(Device.context_factory == zmq.Context.instance, ProcessDevice.context_factory is zmq.Context)
"""


def test_zmq_devices_is_zmtp_devices_under_pyzmqs_module_names() -> None:
    """As in pyzmq, ``import zmq`` leaves ``zmq.devices`` to be imported when wanted."""
    result = subprocess.run(
        [sys.executable, "-c", SOURCE],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "PYTHONPATH": zmtp.compat.path()},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True", "True", "True", "True", "True"]
