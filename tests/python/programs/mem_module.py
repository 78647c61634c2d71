"""Run as a module (scalene run -m mem_module): allocates and keeps 64 MiB
(@MODKEEP), computes for about 0.3 s.  TRUTH: __name__, argv, bytes kept."""
import json
import sys
import time

kept = bytearray(64 * 1024 * 1024)  # @MODKEEP
end = time.thread_time() + 0.3
k = 0
while time.thread_time() < end:
    k += 1
print("TRUTH " + json.dumps({"name": __name__, "argv": sys.argv, "kept": len(kept)}),
      flush=True)
