"""Burns some CPU, prints READY, then waits (mostly busy) until killed.

With argv[1] == 'own-handler' it first installs its own SIGTERM handler,
which ends the wait normally (exit status 0)."""
import signal
import sys
import time

stop = []
if sys.argv[1:] == ["own-handler"]:
    def on_term(signum, frame):
        stop.append(signum)

    signal.signal(signal.SIGTERM, on_term)


def burn(seconds):
    end = time.thread_time() + seconds
    n = 0
    while time.thread_time() < end:
        for i in range(1000):  # @BURN
            n += i * i
    return n


burn(0.3)
print("READY", flush=True)
deadline = time.monotonic() + 30
while time.monotonic() < deadline and not stop:
    burn(0.02)
    time.sleep(0.01)
if stop:
    print(f"HANDLED {stop[0]}", flush=True)
    sys.exit(0)
print("NOT KILLED", flush=True)
sys.exit(7)
