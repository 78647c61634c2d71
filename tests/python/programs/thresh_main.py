"""Three single-line hot spots of different weight: one big line here, one
small line here, one small line in thresh_helper.py; TRUTH gives each
one's CPU seconds and the main thread's CPU over the program."""
import json
import time

import thresh_helper

START = time.thread_time()


def spin(budget):
    end = time.thread_time() + budget
    n = 0
    while time.thread_time() < end: n += sum(i * i % 7 for i in range(500))  # @BIG
    return n


def spin_small(budget):
    end = time.thread_time() + budget
    n = 0
    while time.thread_time() < end: n += sum(i * i % 7 for i in range(500))  # @SMALL
    return n


t0 = time.thread_time()
spin(1.0)
t1 = time.thread_time()
spin_small(0.25)
t2 = time.thread_time()
thresh_helper.helper_spin(0.15)
t3 = time.thread_time()
print("TRUTH " + json.dumps({
    "big": t1 - t0, "small": t2 - t1, "helper": t3 - t2,
    "main_cpu": time.thread_time() - START,
}), flush=True)
