"""ROUTER/DEALER with identities and multipart envelopes, written for pyzmq."""

import zmtp as zmq

context = zmq.Context()
router = context.socket(zmq.ROUTER)
router.bind("tcp://127.0.0.1:*")
endpoint = (
    router.last_endpoint.decode()
    if isinstance(router.last_endpoint, bytes)
    else router.last_endpoint
)

dealers = []
for name in (b"alpha", b"beta"):
    dealer = context.socket(zmq.DEALER)
    dealer.setsockopt(zmq.IDENTITY, name)
    dealer.connect(endpoint)
    dealer.send_multipart([b"", b"job for " + name])
    dealers.append(dealer)

for _ in dealers:
    identity, empty, body = router.recv_multipart()
    router.send_multipart([identity, empty, body.upper()])
for dealer in dealers:
    print(dealer.recv_multipart())
for dealer in dealers:
    dealer.close()
router.close()
context.term()
