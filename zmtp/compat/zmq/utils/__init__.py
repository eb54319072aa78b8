"""``zmq.utils``: the helpers pyzmq programs import (z85, monitor, jsonapi)."""
