"""A plain Python program for mem_subproc.py to start: allocates and frees
20 MiB, keeps 5 MiB, prints one line, exits with status argv[1]."""
import os
import sys

junk = [bytearray(1024 * 1024) for _ in range(20)]
junk = None
kept = bytearray(5 * 1024 * 1024)
print(f"CHILD-OUT pid={os.getpid()} preload={'libscalenecore_preload' in os.environ.get('LD_PRELOAD', '')}",
      flush=True)
print("CHILD-ERR", file=sys.stderr, flush=True)
sys.exit(int(sys.argv[1]))
