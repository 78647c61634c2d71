"""A small program to profile: pure-Python work, work inside C, and I/O waits.

    scalene run examples/demo.py
    scalene view --cli
"""
import hashlib
import time
import zlib


def python_loop(n):
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def native_work(rounds):
    data = bytes(range(256)) * 20000
    digest = b""
    for _ in range(rounds):
        digest = hashlib.sha256(zlib.compress(data, 6)).digest()
    return digest


def wait_for_io(seconds):
    time.sleep(seconds)


def main():
    python_loop(2_000_000)
    native_work(6)
    wait_for_io(0.3)
    print("demo: done")


if __name__ == "__main__":
    main()
