"""@LEAK appends 200 bytearrays of 512 KiB to a global list and never
lets go (100 MiB held); @CHURN allocates the same 200 x 512 KiB and drops
each at once.  TRUTH: bytes held by each at the end."""
import json
import time

KEEP = []


def leaky():
    for _ in range(200):
        KEEP.append(bytearray(512 * 1024))  # @LEAK


def churn():
    for _ in range(200):
        tmp = bytearray(512 * 1024)  # @CHURN
        del tmp


leaky()
churn()
end = time.thread_time() + 0.2
k = 0
while time.thread_time() < end:
    k += 1
print("TRUTH " + json.dumps({"leak_held": sum(len(b) for b in KEEP), "churn_held": 0}),
      flush=True)
