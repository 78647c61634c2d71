"""Starts 200 threads one after another; each allocates a small list and
ends.  The program allocates little (its Thread objects, thread states and
lists: well under 20 KB a thread), however many threads it starts.
TRUTH: the number of threads."""
import json
import threading

THREADS = 200


def work():
    x = [0] * 10  # @SMALL
    return len(x)


for _ in range(THREADS):
    t = threading.Thread(target=work)
    t.start()
    t.join()

print("TRUTH " + json.dumps({"threads": THREADS}))
