"""Children of a profiled program: subprocess.run of another Python
program (mem_child.py, exit status 5), and multiprocessing with the fork
and the spawn start methods (a Pool mapping a function that allocates,
and a Process that ends with status 9).
TRUTH: what each child returned."""
import json
import multiprocessing as mp
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def work(n):
    blocks = [bytearray(256 * 1024) for _ in range(n)]  # @WORK
    return sum(len(b) for b in blocks)


def end_with(code):
    kept = bytearray(2 * 1024 * 1024)
    del kept
    sys.exit(code)


def run_method(method):
    ctx = mp.get_context(method)
    # close() and join(), not `with Pool(...)`: leaving the with block
    # calls terminate(), which SIGTERMs the workers, and under the profiler
    # a fork worker can miss that SIGTERM and hang the parent for ever
    # (see mem_forkterm.py and its test).
    pool = ctx.Pool(2)
    try:
        sums = pool.map(work, [4, 8, 16, 32])
        pool.close()
        pool.join()
    except BaseException:
        pool.terminate()
        raise
    p = ctx.Process(target=end_with, args=(9,))
    p.start()
    p.join(60)
    return {"sums": sums, "exitcode": p.exitcode}


if __name__ == "__main__":
    kept = bytearray(32 * 1024 * 1024)  # @MAIN
    child = subprocess.run([sys.executable, os.path.join(HERE, "mem_child.py"), "5"],
                           capture_output=True, text=True, timeout=60)
    result = {
        "subprocess": {"returncode": child.returncode, "stdout": child.stdout,
                       "stderr": child.stderr},
        "fork": run_method("fork"),
        "spawn": run_method("spawn"),
    }
    print("TRUTH " + json.dumps(result), flush=True)
