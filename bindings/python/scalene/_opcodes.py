"""Which CPython opcodes hand control to a callee.

The core charges a CPU sample as native time when the innermost Python
frame's current instruction is one of these and the callee is not a
Python function (a Python callee would have pushed a frame of its own)."""

import dis
import opcode


def _all_opnames():
    names = list(getattr(dis, "_all_opname", opcode.opname))
    for name, number in getattr(opcode, "_specialized_opmap", {}).items():
        names[number] = name
    return names


def _is_native_call(name):
    if "CALL" not in name:
        return False
    # Specialisations that always enter a Python function push a frame.
    python_only = ("_PY_", "PYFUNC", "ALLOC_AND_ENTER_INIT", "BOUND_METHOD_EXACT_ARGS")
    return not any(marker in name for marker in python_only)


def call_opcode_table():
    """A 256-byte table: 1 where the opcode calls out of the interpreter."""
    table = bytearray(256)
    for number, name in enumerate(_all_opnames()[:256]):
        if _is_native_call(name):
            table[number] = 1
    return bytes(table)
