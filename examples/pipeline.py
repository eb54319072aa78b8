"""PUSH/PULL fan-out to two workers and fan-in to a sink, written for pyzmq."""

import threading

import zmtp as zmq

context = zmq.Context()
ventilator = context.socket(zmq.PUSH)
ventilator.bind("inproc://tasks")
sink = context.socket(zmq.PULL)
sink.bind("inproc://results")


def worker(name: str) -> None:
    """Square numbers from the ventilator until it sends None."""
    tasks = context.socket(zmq.PULL)
    tasks.connect("inproc://tasks")
    results = context.socket(zmq.PUSH)
    results.connect("inproc://results")
    results.send_json({"ready": name})
    while (number := tasks.recv_json()) is not None:
        results.send_json({"task": number, "square": number * number, "by": name})
    tasks.close()
    results.close()


workers = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(2)]
for thread in workers:
    thread.start()
# Wait until both workers are connected, so that PUSH's round-robin includes both.
for _ in workers:
    sink.recv_json()
for number in range(6):
    ventilator.send_json(number)
results = sorted((sink.recv_json() for _ in range(6)), key=lambda result: result["task"])
print([result["square"] for result in results])
print("both workers helped:", len({result["by"] for result in results}) == 2)
for _ in workers:
    ventilator.send_json(None)
for thread in workers:
    thread.join()
ventilator.close()
sink.close()
context.term()
