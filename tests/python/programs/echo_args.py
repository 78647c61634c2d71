"""Prints what it was started with; also runs as `-m echo_args`."""
import json
import os
import sys

print("ARGV " + json.dumps(sys.argv[1:]))
print("ARGV0 " + sys.argv[0])
print("NAME " + __name__)
print("PATH0 " + (sys.path[0] if sys.path else ""))
print("CWD " + os.getcwd())
print("OUT-LINE to stdout")
print("ERR-LINE to stderr", file=sys.stderr)
