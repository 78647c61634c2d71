"""Forks while other threads allocate: four threads allocate and free
bytearrays in a loop; the main thread forks FORKS times.  Each child (only
the forking thread lives on in it) allocates and frees 50 MiB, keeps 10 MiB,
and ends with status CHILD_CODE + i: through sys.exit (argv[2] == 'exit')
or os._exit (argv[2] == '_exit').  The parent waits for each child with a
deadline (a child that hangs is killed and reported), checks that no child
wrote the profile (argv[1]) and then keeps allocating itself.
TRUTH: each child's raw wait status, whether the profile existed after the
children, how many children hung, how many allocations the threads made."""
import json
import os
import signal
import sys
import threading
import time

outfile, how = sys.argv[1], sys.argv[2]
FORKS = 5
CHILD_CODE = 20
CHILD_DEADLINE = 20.0  # seconds; a child takes well under one

stop = threading.Event()
counts = [0] * 4


def allocator(k):
    held = []
    while not stop.is_set():
        held.append(bytearray(64 * 1024 + k))  # @THREAD
        if len(held) > 32:
            del held[0]
        counts[k] += 1


def child(i):
    junk = [bytearray(1024 * 1024) for _ in range(50)]  # @CHILD
    del junk
    kept = bytearray(10 * 1024 * 1024)  # @CHILDKEEP
    print(f"CHILD {i} pid={os.getpid()} kept={len(kept)}", flush=True)
    if how == "exit":
        sys.exit(CHILD_CODE + i)
    os._exit(CHILD_CODE + i)


def wait_with_deadline(pid):
    end = time.monotonic() + CHILD_DEADLINE
    while time.monotonic() < end:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status, False
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    return os.waitpid(pid, 0)[1], True


threads = [threading.Thread(target=allocator, args=(k,), name=f"alloc-{k}")
           for k in range(len(counts))]
for t in threads:
    t.start()
time.sleep(0.3)  # the threads are allocating now

statuses, hung = [], 0
for i in range(FORKS):
    pid = os.fork()
    if pid == 0:
        child(i)
    status, was_hung = wait_with_deadline(pid)
    statuses.append(status)
    hung += was_hung
    time.sleep(0.05)
exists = os.path.exists(outfile)
stop.set()
for t in threads:
    t.join()
parent_kept = bytearray(30 * 1024 * 1024)  # @PARENT
print("TRUTH " + json.dumps({
    "statuses": statuses, "hung": hung, "exists_after_children": exists,
    "thread_allocs": sum(counts), "child_code": CHILD_CODE,
}), flush=True)
