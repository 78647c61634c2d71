"""Allocates and keeps 40 MiB (two 20 MiB bytearrays: blocks 20 times the
default sampling window are sampled with probability 1 - e^-20), then ends the way argv[1] names:
keep (normal end, nothing ever freed), os_exit (os._exit(7)), sys_exit
(sys.exit(3)), raise (an uncaught exception)."""
import os
import sys

kept = [bytearray(20 * 1024 * 1024) for _ in range(2)]  # @KEEP
print(f"ALLOCATED {sum(len(b) for b in kept)}", flush=True)
print("ERR-LINE from mem_exits.py", file=sys.stderr, flush=True)


def explode():
    raise RuntimeError("boom from mem_exits")


mode = sys.argv[1]
if mode == "os_exit":
    os._exit(7)
elif mode == "sys_exit":
    sys.exit(3)
elif mode == "raise":
    explode()
elif mode != "keep":
    raise SystemExit(f"unknown mode {mode!r}")
