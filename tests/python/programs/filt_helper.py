"""Helper module of filt_main.py."""
import time


def helper_work(budget):
    end = time.thread_time() + budget
    n = 0
    while time.thread_time() < end:
        for i in range(1000):  # @HELPER
            n += i * i % 7  # @HELPER
    return n
