"""What SIGTERM does in the children of a program that never set a SIGTERM
handler: each child reports signal.getsignal(SIGTERM) -- 'default'
(SIG_DFL), 'c-level' (None: a handler not installed from Python) or the
repr of a Python handler.  Children: a multiprocessing Process with the
fork and with the spawn start method, and a bare os.fork().

Why it matters: a Python-level handler only runs when the interpreter
checks for signals; a SIGTERM that lands just before the process blocks in
a C call (a Pool worker waiting on its task queue's semaphore) leaves the
handler pending while the call blocks for ever.  multiprocessing's
Pool.terminate() (run when a `with Pool(...)` block ends) SIGTERMs its fork
workers and waits for them, so the parent hangs.  With SIG_DFL the kernel
ends the worker at once.  TRUTH: the dispositions."""
import json
import multiprocessing as mp
import os
import signal


def disposition():
    h = signal.getsignal(signal.SIGTERM)
    if h is signal.SIG_DFL:
        return "default"
    if h is None:
        return "c-level"
    return repr(h)


def report(q):
    q.put(disposition())


def via(method):
    ctx = mp.get_context(method)
    q = ctx.Queue()
    p = ctx.Process(target=report, args=(q,))
    p.start()
    got = q.get(timeout=60)
    p.join(60)
    return got


if __name__ == "__main__":
    result = {"mp_fork": via("fork"), "mp_spawn": via("spawn")}
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        os.write(w, disposition().encode())
        os._exit(0)
    os.close(w)
    with os.fdopen(r) as f:
        result["os_fork"] = f.read()
    os.waitpid(pid, 0)
    print("TRUTH " + json.dumps(result), flush=True)
