"""Helper module of thresh_main.py."""
import time


def helper_spin(budget):
    end = time.thread_time() + budget
    n = 0
    while time.thread_time() < end: n += sum(i * i % 7 for i in range(500))  # @HELPER
    return n
