"""numpy element conversions off the common path, 8 MiB of data each.

@BE_LIST list() and @BE_TOLIST .tolist() of a big-endian float64 array,
@UN_TOLIST .tolist() of an unaligned float64 view: numpy's getitem of such
an array copies the element through copyswap, which scalene wraps too
(src/_npcopy.c), so counting both would read 16 MiB.  @C_LIST list() of a
complex128 array (16-byte elements), @I32_TOLIST .tolist() of an int32
array (4-byte elements): the bytes are the element size times the count.
TRUTH: the bytes each line converts."""
import json

import numpy as np

MIB = 1024 * 1024
N = 8 * MIB

be = np.ones(N // 8, dtype=">f8")
raw = np.zeros(N + 1, dtype=np.uint8)
un = raw[1:].view(np.float64)
c = np.ones(N // 16, dtype=np.complex128)
i32 = np.ones(N // 4, dtype=np.int32)
assert not be.dtype.isnative and not un.flags.aligned

x = list(be)  # @BE_LIST
del x
x = be.tolist()  # @BE_TOLIST
del x
x = un.tolist()  # @UN_TOLIST
del x
x = list(c)  # @C_LIST
del x
x = i32.tolist()  # @I32_TOLIST
del x
print("TRUTH " + json.dumps({"converted": {m: N for m in (
    "@BE_LIST", "@BE_TOLIST", "@UN_TOLIST", "@C_LIST", "@I32_TOLIST")}}), flush=True)
