"""One line allocates 1 MiB bytearrays and drops each at once, 100 times
(@CHURN: 100 MiB allocated, nothing held); another keeps 60 of them
(@HOLD: 60 MiB held to the end).  Then about 0.3 s of Python work.
TRUTH: the bytes each line allocated and holds at the end."""
import json
import time

MIB = 1024 * 1024


def churn(times):
    total = 0
    for _ in range(times):
        tmp = bytearray(MIB)  # @CHURN
        total += len(tmp)
        del tmp
    return total


churned = churn(100)
held = [bytearray(MIB) for _ in range(60)]  # @HOLD
end = time.thread_time() + 0.3
k = 0
while time.thread_time() < end:
    k += 1
print("TRUTH " + json.dumps({
    "churn_bytes": churned, "churn_held": 0,
    "hold_bytes": sum(len(b) for b in held),
}), flush=True)
