"""A request/reply service on zmtp.twisted, written in both styles the API offers.

- subclass style: override a method (``gotRequest`` here, ``messageReceived`` for plain
  sockets) in a connection class;
- callback style: pass ``callback=`` to the connection.

A client asks each service a few questions with ``request()``, whose Deferred fires with the
reply, then the reactor stops. Run it: ``python examples/twisted/service.py``.
"""

from twisted.internet import defer, reactor

from zmtp.twisted import ZmqFactory, ZmqRepConnection, ZmqReqConnection, ZmqXREPConnection


class UpperService(ZmqXREPConnection):
    """Subclass style: a ROUTER-based service that may answer many requests at once."""

    def gotRequest(self, message_id: bytes, parts: list[bytes]) -> None:
        """Answer with the request's frames in upper case."""
        self.reply(message_id, [part.upper() for part in parts])


def reverse_service(factory: ZmqFactory) -> ZmqRepConnection:
    """Make the callback-style service: a real REP socket answering one request at a time."""
    rep = ZmqRepConnection(factory)
    rep.callback = lambda message_id, parts: rep.reply(message_id, [part[::-1] for part in parts])
    return rep


async def main(factory: ZmqFactory) -> None:
    """Start both services, ask each of them, then shut everything down."""
    upper = UpperService(factory)
    port = upper.bind_to_random_port("tcp://127.0.0.1")
    reverse = reverse_service(factory)
    reverse.bind("inproc://reverse")

    client = ZmqReqConnection(factory)
    client.connect(f"tcp://127.0.0.1:{port}")
    for word in (b"twisted", b"zeromq"):
        reply = await client.request([word], timeout=5)
        print("upper:", reply)

    other = ZmqReqConnection(factory)
    other.connect("inproc://reverse")
    replies = await defer.gatherResults([other.request(w) for w in (b"stressed", b"drawer")])
    print("reverse:", replies)
    await factory.shutdown()


if __name__ == "__main__":
    factory = ZmqFactory()
    finished = defer.Deferred.fromCoroutine(main(factory))
    finished.addErrback(lambda failure: print("failed:", failure.getErrorMessage()))
    finished.addBoth(lambda _: reactor.stop())
    reactor.run()
