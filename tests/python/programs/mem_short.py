"""A short program (a few milliseconds): allocates and keeps 64 MiB in four
16 MiB bytearrays made in a list comprehension (@FOUR) and one 40 MiB
bytearray (@ONE), then ends.  (Blocks of 16 MiB and more are 16 default
sampling windows long: sampled with probability 1 - e^-16 and charged
their size.)  TRUTH: the bytes kept by each line."""
import json

four = [bytearray(16 * 1024 * 1024) for _ in range(4)]  # @FOUR
one = bytearray(40 * 1024 * 1024)  # @ONE
print("TRUTH " + json.dumps({"four": sum(len(b) for b in four), "one": len(one)}), flush=True)
