"""Work in three places: this file, filt_helper.py (beside it) and the
standard library's fractions.py (pure Python)."""
import fractions
import time

import filt_helper


def main_work(budget):
    end = time.thread_time() + budget
    n = 0
    while time.thread_time() < end:
        for i in range(1000):  # @MAIN
            n += i * i % 7  # @MAIN
    return n


def stdlib_work(budget):
    end = time.thread_time() + budget
    total = fractions.Fraction(0)
    k = 1
    while time.thread_time() < end:
        total += fractions.Fraction(1, k) * fractions.Fraction(k, 3)  # @STDLIB
        k += 1
    return total


main_work(0.3)
filt_helper.helper_work(0.3)
stdlib_work(0.3)
print("done")
