"""The same kind of service written for txZMQ 1.0, running on zmtp.twisted.txzmq.

A txZMQ 1.0 program ports by changing ``from txzmq import ...`` to the import below; it keeps
txZMQ's wire format, so it still talks to programs running the real txZMQ on libzmq.
Run it: ``python examples/twisted/txzmq_service.py``.
"""

from twisted.internet import defer, reactor

from zmtp.twisted.txzmq import (
    ZmqEndpoint,
    ZmqEndpointType,
    ZmqFactory,
    ZmqREPConnection,
    ZmqREQConnection,
)


class Greeter(ZmqREPConnection):
    """Answer each request with a greeting (txZMQ's gotMessage/reply)."""

    def gotMessage(self, messageId: bytes, *messageParts: bytes) -> None:
        """Greet whoever is named in the request."""
        self.reply(messageId, b"hello, " + b" ".join(messageParts))


def main() -> None:
    """Serve on inproc, ask twice, print the answers, stop."""
    factory = ZmqFactory()
    factory.registerForShutdown()
    endpoint = "inproc://greeter"
    Greeter(factory, ZmqEndpoint(ZmqEndpointType.bind, endpoint))
    client = ZmqREQConnection(factory, ZmqEndpoint(ZmqEndpointType.connect, endpoint))
    asked = [client.sendMsg(name, timeout=5) for name in (b"txZMQ", b"zmtp")]
    answered = defer.gatherResults(asked)
    answered.addCallback(lambda replies: print("replies:", replies))
    answered.addErrback(lambda failure: print("failed:", failure.getErrorMessage()))
    answered.addBoth(lambda _: reactor.stop())
    reactor.run()


if __name__ == "__main__":
    main()
