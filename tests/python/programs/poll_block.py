"""Blocks for 2 s in the C library's poll(), called through ctypes so that
nothing retries on EINTR: an interruption by the profiler would show as -1
and errno EINTR (and a short wait)."""
import ctypes
import ctypes.util
import json
import time

libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
libc.poll.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int]
libc.poll.restype = ctypes.c_int

w0 = time.perf_counter()
c0 = time.process_time()
rc = libc.poll(None, 0, 2000)  # @POLL
err = ctypes.get_errno()
cpu = time.process_time() - c0
wall = time.perf_counter() - w0
print("TRUTH " + json.dumps({"rc": rc, "errno": err, "wall": wall, "process_cpu": cpu}),
      flush=True)
