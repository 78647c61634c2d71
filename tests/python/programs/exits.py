"""Ends in the way argv[1] names: ok, code3, msg, raise."""
import sys

print("OUT-LINE from exits.py", flush=True)
print("ERR-LINE from exits.py", file=sys.stderr, flush=True)


def explode():
    raise ValueError("boom from the program")


mode = sys.argv[1] if len(sys.argv) > 1 else "ok"
if mode == "code3":
    sys.exit(3)
elif mode == "msg":
    sys.exit("goodbye message from the program")
elif mode == "raise":
    explode()
elif mode != "ok":
    raise SystemExit(f"unknown mode {mode!r}")
