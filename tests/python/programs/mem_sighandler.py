"""Allocation inside signal handlers, under the sampling allocator.

argv[1] == 'python': a Python SIGALRM handler (ITIMER_REAL every 2 ms)
allocates a bytearray (kept in a ring of 16, so freed later) and calls
libc's malloc/free through ctypes, while the main thread allocates and
frees bytearrays itself.  (CPython runs Python handlers between bytecodes
of the main thread, so this covers the Python-level case.)

argv[1] == 'c' argv[2] == PATH: a C SIGALRM handler (the shared library
built from mem_sighandler.c, every 1 ms) calls malloc/calloc/realloc/free
in true signal context, while the main thread computes in Python (small
objects from pymalloc, through the profiler's PyMem wrappers, so the
handler lands inside the wrappers, the sampler and the sink) and sleeps
(so it lands in blocking calls too).  The main thread does not call
malloc itself in this mode: a handler that mallocs while the interrupted
code is inside malloc is unsafe with any allocator (glibc's deadlocks,
mimalloc's free lists are per thread), which is not the profiler's doing.

TRUTH: handler calls and the bytes each kind of allocation asked for."""
import ctypes
import json
import signal
import sys
import time

mode = sys.argv[1]
DURATION = 2.0

if mode == "python":
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    libc.memset.restype = ctypes.c_void_p
    libc.memset.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]
    ring = [None] * 16
    state = {"calls": 0, "py_bytes": 0, "c_bytes": 0, "i": 0}

    def on_alarm(signum, frame):
        i = state["i"] = state["i"] + 1
        n = 4096 + (i * 7919) % (512 * 1024)
        ring[i % 16] = bytearray(n)  # @HANDLER_PY
        p = libc.malloc(n)  # @HANDLER_C
        libc.memset(p, 1, n)
        libc.free(p)
        state["py_bytes"] += n
        state["c_bytes"] += n
        state["calls"] += 1

    signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, 0.002, 0.002)
    main_bytes = 0
    end = time.monotonic() + DURATION
    while time.monotonic() < end:
        for k in range(100):
            b = bytearray(1000 + 37 * k)  # @PYMAIN
            main_bytes += len(b)
        b = None
    signal.setitimer(signal.ITIMER_REAL, 0, 0)
    signal.signal(signal.SIGALRM, signal.SIG_IGN)
    ring = None
    print("TRUTH " + json.dumps({
        "calls": state["calls"], "handler_py_bytes": state["py_bytes"],
        "handler_c_bytes": state["c_bytes"], "main_bytes": main_bytes,
        "duration": DURATION,
    }), flush=True)
elif mode == "c":
    lib = ctypes.CDLL(sys.argv[2])
    lib.msh_calls.restype = ctypes.c_ulonglong
    lib.msh_bytes.restype = ctypes.c_ulonglong
    lib.msh_failed.restype = ctypes.c_ulonglong
    assert lib.msh_start(ctypes.c_long(1000)) == 0
    end = time.monotonic() + DURATION
    n = 0
    while time.monotonic() < end:
        items = [(i, str(i), [i]) for i in range(2000)]  # @CMAIN
        n += len(items)
        items = None
        time.sleep(0.002)
    lib.msh_stop()
    print("TRUTH " + json.dumps({
        "calls": lib.msh_calls(), "handler_bytes": lib.msh_bytes(),
        "failed": lib.msh_failed(), "main_items": n, "duration": DURATION,
    }), flush=True)
else:
    raise SystemExit(f"unknown mode {mode!r}")
