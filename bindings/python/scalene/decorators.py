"""``@profile``: report only the decorated functions.

``scalene run`` puts ``profile`` in the builtins (unless the program or
another tool already defines one), so a program needs no import::

    @profile
    def slow_function():
        ...

When at least one function was decorated, the written profile keeps only
the lines of decorated functions (nested functions included) and their
entries in the function tables; files with no decorated function are left
out.  Percentages stay shares of the whole run, so what the decorated
functions cost is seen against everything the program did.  Without any
decorated function the profile is unchanged.
"""

from __future__ import annotations

import builtins
import os
from types import CodeType
from typing import Any, Dict, List, Tuple

__all__ = ["profile", "install", "decorated", "filter_profile"]

_decorated: List[CodeType] = []


def profile(func: Any) -> Any:
    """Mark ``func`` for reporting; returns it unchanged (no wrapper, so no
    cost and no change to what the program sees)."""
    code = getattr(func, "__code__", None)
    if isinstance(code, CodeType):
        _decorated.append(code)
    return func


def install() -> None:
    if not hasattr(builtins, "profile"):
        builtins.profile = profile  # type: ignore[attr-defined]


def decorated() -> bool:
    return bool(_decorated)


def _last_line(code: CodeType) -> int:
    last = code.co_firstlineno
    for _, _, line in code.co_lines():
        if line is not None and line > last:
            last = line
    for const in code.co_consts:
        if isinstance(const, CodeType):
            last = max(last, _last_line(const))
    return last


def _ranges() -> Dict[str, List[Tuple[int, int]]]:
    ranges: Dict[str, List[Tuple[int, int]]] = {}
    for code in _decorated:
        ranges.setdefault(os.path.realpath(code.co_filename), []).append(
            (code.co_firstlineno, _last_line(code)))
    return ranges


def filter_profile(doc: Dict[str, Any]) -> Dict[str, Any]:
    """The profile document reduced to the decorated functions."""
    if not _decorated:
        return doc
    ranges = _ranges()
    files = {}
    for name, entry in (doc.get("files") or {}).items():
        spans = ranges.get(os.path.realpath(name))
        if not spans or not isinstance(entry, dict):
            continue

        def inside(row: Any) -> bool:
            n = row.get("lineno", 0) if isinstance(row, dict) else 0
            return any(lo <= n <= hi for lo, hi in spans)

        entry = dict(entry)
        entry["lines"] = [r for r in entry.get("lines", []) if inside(r)]
        entry["functions"] = [r for r in entry.get("functions", []) if inside(r)]
        entry["percent_cpu_time"] = sum(
            float(r.get("n_cpu_percent_python", 0)) + float(r.get("n_cpu_percent_c", 0))
            + float(r.get("n_sys_percent", 0)) for r in entry["lines"])
        files[name] = entry
    out = dict(doc)
    out["files"] = files
    out["profile_only_decorated"] = True
    return out
