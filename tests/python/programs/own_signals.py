"""The program's own signal handlers must keep working under the profiler.

Counts its handler calls for: signal.alarm (SIGALRM), an ITIMER_REAL
interval timer (SIGALRM), an ITIMER_PROF interval timer (SIGPROF), and
SIGUSR1/SIGUSR2 sent to itself, all while computing in Python (so the
profiler's sampling signals are flowing too).  TRUTH has the counts and
what each should be, measured with the clocks."""
import json
import os
import signal
import time

counts = {"alarm": 0, "real": 0, "prof": 0, "usr1": 0, "usr2": 0}
mode = {"alrm": "alarm"}


def on_alrm(signum, frame):
    counts[mode["alrm"]] += 1


def on_prof(signum, frame):
    counts["prof"] += 1


def on_usr1(signum, frame):
    counts["usr1"] += 1


def on_usr2(signum, frame):
    counts["usr2"] += 1


def compute_until(predicate, limit):
    """Python work until predicate() holds or `limit` seconds of wall pass."""
    end = time.monotonic() + limit
    n = 0
    while not predicate() and time.monotonic() < end:
        for i in range(200):
            n += i * i % 7
    return n


signal.signal(signal.SIGALRM, on_alrm)
signal.signal(signal.SIGPROF, on_prof)
signal.signal(signal.SIGUSR1, on_usr1)
signal.signal(signal.SIGUSR2, on_usr2)

# 1. signal.alarm: one SIGALRM after a second.
t0 = time.monotonic()
signal.alarm(1)
compute_until(lambda: counts["alarm"] >= 1, 3.0)
alarm_after = time.monotonic() - t0

# 2. ITIMER_REAL every 50 ms for 0.5 s of wall time.
mode["alrm"] = "real"
REAL_INTERVAL = 0.05
t0 = time.monotonic()
signal.setitimer(signal.ITIMER_REAL, REAL_INTERVAL, REAL_INTERVAL)
compute_until(lambda: False, 0.5)
signal.setitimer(signal.ITIMER_REAL, 0, 0)
real_wall = time.monotonic() - t0

# 3. ITIMER_PROF every 10 ms of process CPU for 0.5 s.
PROF_INTERVAL = 0.01
c0 = time.process_time()
signal.setitimer(signal.ITIMER_PROF, PROF_INTERVAL, PROF_INTERVAL)
compute_until(lambda: False, 0.5)
signal.setitimer(signal.ITIMER_PROF, 0, 0)
prof_cpu = time.process_time() - c0

# 4. SIGUSR1 / SIGUSR2 to ourselves, one at a time, 20 of each.
SENT = 20
for k in range(SENT):
    os.kill(os.getpid(), signal.SIGUSR1)
    compute_until(lambda: counts["usr1"] > k, 1.0)
    os.kill(os.getpid(), signal.SIGUSR2)
    compute_until(lambda: counts["usr2"] > k, 1.0)

print("TRUTH " + json.dumps({
    "counts": counts,
    "alarm_after": alarm_after,
    "real_expected": real_wall / REAL_INTERVAL,
    "prof_expected": prof_cpu / PROF_INTERVAL,
    "sent": SENT,
}), flush=True)
