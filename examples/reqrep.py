"""REQ/REP, written for pyzmq: only the import line says zmtp."""

import threading

import zmtp as zmq

context = zmq.Context()
server = context.socket(zmq.REP)
port = server.bind_to_random_port("tcp://127.0.0.1")


def serve() -> None:
    """Answer three requests."""
    for _ in range(3):
        request = server.recv_string()
        server.send_string(f"hello, {request}")


thread = threading.Thread(target=serve)
thread.start()
client = context.socket(zmq.REQ)
client.connect(f"tcp://127.0.0.1:{port}")
for name in ("ada", "grace", "barbara"):
    client.send_string(name)
    print(client.recv_string())
thread.join()
client.close()
server.close()
context.term()
