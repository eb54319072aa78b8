"""``zmq.log``: publishing Python logging over a PUB socket (see :mod:`zmq.log.handlers`)."""
