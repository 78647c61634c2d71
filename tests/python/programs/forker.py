"""Forks a child that does some work and ends normally (argv[2]: 'exit'
calls sys.exit(0), 'return' falls off the end of the program); the parent
checks that the child did not write the profile (argv[1])."""
import json
import os
import sys
import time

outfile, how = sys.argv[1], sys.argv[2]


def burn(seconds):
    end = time.thread_time() + seconds
    n = 0
    while time.thread_time() < end:
        for i in range(1000):
            n += i * i
    return n


pid = os.fork()
if pid == 0:
    burn(0.2)  # @CHILD
    if how == "exit":
        sys.exit(0)
else:
    _, status = os.waitpid(pid, 0)
    exists = os.path.exists(outfile)
    burn(0.3)  # @PARENT
    print("TRUTH " + json.dumps({
        "exists_after_child": exists,
        "child_status": status,
    }), flush=True)
