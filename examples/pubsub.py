"""PUB/SUB with a topic filter, written for pyzmq: only the import line says zmtp."""

import zmtp as zmq

context = zmq.Context()
publisher = context.socket(zmq.PUB)
publisher.bind("tcp://127.0.0.1:*")
subscriber = context.socket(zmq.SUB)
subscriber.setsockopt(zmq.SUBSCRIBE, b"weather.")
subscriber.connect(publisher.getsockopt_string(zmq.LAST_ENDPOINT))

# A subscription takes a moment to reach the publisher: publish until one arrives.
poller = zmq.Poller()
poller.register(subscriber, zmq.POLLIN)
while not poller.poll(10):
    publisher.send_multipart([b"weather.warmup", b""])
    publisher.send_multipart([b"sports.warmup", b""])
while subscriber.poll(50):
    subscriber.recv_multipart()

for topic, body in [
    (b"sports.ski", b"snow"),
    (b"weather.oslo", b"-3 C"),
    (b"weather.rome", b"14 C"),
]:
    publisher.send_multipart([topic, body])
for _ in range(2):
    topic, body = subscriber.recv_multipart()
    print(topic.decode(), body.decode())
print("more?", bool(subscriber.poll(100)))
subscriber.close()
publisher.close()
context.term()
