"""CPU in short-lived threads.  200 threads run one after the other, each
burning 2 ms of its own CPU time in a loop (the SHORT line); then 50
threads burn 40 ms each in another loop (the LONG line); then the main
thread burns 1 s in a third (the MAIN line).  Each loop is a function of
its own: short, long, main_loop.  Each loop measures the CPU
time it used with time.thread_time().
TRUTH: the seconds of CPU each loop used."""
import json
import threading
import time

used = {"short": 0.0, "long": 0.0}
lock = threading.Lock()


def short(seconds):
    t0 = time.thread_time()
    end = t0 + seconds
    while time.thread_time() < end:  # @SHORT
        pass
    with lock:
        used["short"] += time.thread_time() - t0


def long(seconds):
    t0 = time.thread_time()
    end = t0 + seconds
    while time.thread_time() < end:  # @LONG
        pass
    with lock:
        used["long"] += time.thread_time() - t0


for target, n, each in ((short, 200, 0.002), (long, 50, 0.040)):
    for _ in range(n):
        t = threading.Thread(target=target, args=(each,))
        t.start()
        t.join()

def main_loop(seconds):
    t0 = time.thread_time()
    end = t0 + seconds
    while time.thread_time() < end:  # @MAIN
        pass
    used["main"] = time.thread_time() - t0


main_loop(1.0)
print("TRUTH " + json.dumps(used), flush=True)
