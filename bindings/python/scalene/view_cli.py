"""``scalene view --cli``: a profile as annotated source in the terminal.

For each file (most time first): a header with the file's share of the
run's time, then every line (``-r``: only lines with activity) with its
Python, native and system percentages and its source text, then a summary
of the file's functions.  Percentages print blank when they round to zero,
as Scalene's own terminal view does.  Lines at or above ``HOT_PERCENT``
(Python + native + system) are highlighted.  Colour (ANSI) is used only
when the output is a terminal and NO_COLOR is unset or empty.

Memory columns (Python / native MB, net MB, a sparkline of the line's
footprint over time, copy MB/s) appear when the profile has memory data
(``memory`` true or any non-zero memory figure), GPU columns likewise.
Source text is cut to the terminal's width (``COLUMNS`` or the terminal's
size; 120 columns when neither is known) so rows never wrap.
"""

from __future__ import annotations

import json
import os
import shutil
from typing import Any, Dict, IO, List, Optional, Tuple

from scalene.cli import UsageError

__all__ = ["load_profile", "render", "HOT_PERCENT", "use_colour"]

HOT_PERCENT = 10.0

_BOLD = "\x1b[1m"
_DIM = "\x1b[2m"
_HOT = "\x1b[1;31m"
_HEAD = "\x1b[1;36m"
_RESET = "\x1b[0m"


def load_profile(path: str) -> Dict[str, Any]:
    """Read and check a profile; a UsageError (one line) when it can't be."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise UsageError(f"cannot read profile '{path}': {e.strerror or e}")
    if raw[:4] == b"\x28\xb5\x2f\xfd":  # a zstd frame: the compact format
        from scalene import _core  # type: ignore[attr-defined]

        try:
            raw = _core.load_profile(path).encode("utf-8")
        except (OSError, ValueError) as e:
            raise UsageError(f"'{path}' is not a Scalene profile ({_one_line_text(e)})")
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise UsageError(f"'{path}' is not a Scalene profile (not UTF-8 text)")
    except ValueError as e:
        msg = getattr(e, "msg", str(e))
        where = ""
        if hasattr(e, "lineno"):
            where = f" at line {e.lineno}, column {e.colno}"  # type: ignore[attr-defined]
        raise UsageError(f"'{path}' is not a Scalene profile (invalid JSON: {msg}{where})")
    if not isinstance(data, dict) or not isinstance(data.get("files"), dict):
        raise UsageError(f"'{path}' is not a Scalene profile (no 'files' table)")
    for name, entry in data["files"].items():
        if (not isinstance(entry, dict) or not isinstance(entry.get("lines", []), list)
                or not isinstance(entry.get("functions", []), list)):
            raise UsageError(f"'{path}' is not a Scalene profile (bad entry for '{name}')")
        for row in entry.get("lines", []) + entry.get("functions", []):
            if not isinstance(row, dict):
                raise UsageError(f"'{path}' is not a Scalene profile (bad line in '{name}')")
    return data


def _one_line_text(e: BaseException) -> str:
    text = " ".join(str(e).split())
    return text.split(": ", 1)[1] if ": " in text else text


def use_colour(stream: IO[str]) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def _num(row: Dict[str, Any], key: str) -> float:
    try:
        value = float(row.get(key, 0) or 0)
    except (TypeError, ValueError):
        return 0.0
    return value if value == value else 0.0  # NaN -> 0


def _pct(value: float) -> str:
    return "" if round(value) == 0 else f"{value:.0f}%"


def _mb(value: float) -> str:
    return "" if round(value) == 0 else f"{value:.0f}"


def _total(row: Dict[str, Any]) -> float:
    return (_num(row, "n_cpu_percent_python") + _num(row, "n_cpu_percent_c")
            + _num(row, "n_sys_percent"))


def _active(row: Dict[str, Any]) -> bool:
    keys = ("n_cpu_percent_python", "n_cpu_percent_c", "n_sys_percent",
            "n_cpu_samples", "n_malloc_mb", "n_peak_mb", "n_gpu_percent",
            "n_copy_mb_s", "n_mallocs")
    return any(_num(row, k) > 0 for k in keys)


_SPARK = "▁▂▃▄▅▆▇█"
_MEMORY_KEYS = ("n_malloc_mb", "n_peak_mb", "n_mallocs", "n_growth_mb", "n_copy_mb_s")
_GPU_KEYS = ("n_gpu_percent", "n_gpu_peak_memory_mb", "n_gpu_avg_memory_mb")


def sparkline(samples: Any, width: int = 8) -> str:
    """Footprint over time as block characters; samples are [time, MB]
    pairs (Scalene's memory_samples) or plain numbers."""
    if not isinstance(samples, list) or not samples:
        return ""
    values = []
    for s in samples:
        v = s[-1] if isinstance(s, (list, tuple)) and s else s
        try:
            values.append(float(v))
        except (TypeError, ValueError):
            continue
    if not values:
        return ""
    if len(values) > width:  # average into `width` buckets
        step = len(values) / width
        values = [sum(values[int(i * step):max(int((i + 1) * step), int(i * step) + 1)])
                  / max(1, len(values[int(i * step):max(int((i + 1) * step), int(i * step) + 1)]))
                  for i in range(width)]
    lo, hi = min(values), max(values)
    if hi <= lo:
        return _SPARK[0] * len(values) if hi == 0 else _SPARK[-1] * len(values)
    return "".join(_SPARK[int((v - lo) / (hi - lo) * (len(_SPARK) - 1))] for v in values)


def _has_any(profile: Dict[str, Any], keys: Tuple[str, ...]) -> bool:
    for entry in (profile.get("files") or {}).values():
        if not isinstance(entry, dict):
            continue
        for row in entry.get("lines", []) + entry.get("functions", []):
            if isinstance(row, dict) and any(_num(row, k) for k in keys):
                return True
    return False


def _mem_split(r: Dict[str, Any], python: bool) -> str:
    total, frac = _num(r, "n_malloc_mb"), _num(r, "n_python_fraction")
    return _mb(total * frac if python else total * (1.0 - frac)) if total else ""


class _Columns:
    def __init__(self, profile: Dict[str, Any]) -> None:
        self.cols: List[Tuple[str, Any, int]] = [
            ("Python", lambda r: _pct(_num(r, "n_cpu_percent_python")), 7),
            ("native", lambda r: _pct(_num(r, "n_cpu_percent_c")), 7),
            ("system", lambda r: _pct(_num(r, "n_sys_percent")), 7),
        ]
        if profile.get("memory") or _has_any(profile, _MEMORY_KEYS):
            self.cols += [
                ("Mem Py", lambda r: _mem_split(r, True), 7),
                ("native", lambda r: _mem_split(r, False), 7),
                ("net MB", lambda r: _mb(_num(r, "n_growth_mb")), 7),
                ("timeline", lambda r: sparkline(r.get("memory_samples")), 8),
                ("copy MB/s", lambda r: _mb(_num(r, "n_copy_mb_s")), 9),
            ]
        if profile.get("gpu") or _has_any(profile, _GPU_KEYS):
            self.cols += [
                ("GPU", lambda r: _pct(_num(r, "n_gpu_percent")), 6),
                ("GPU MB", lambda r: _mb(_num(r, "n_gpu_peak_memory_mb")), 7),
            ]
        self.widths = [max(len(title), w) for title, _, w in self.cols]
        self.prefix = 6 + sum(w + 2 for w in self.widths) + 2

    def header(self, first: str, last: str) -> str:
        cells = [f"{first:>6}"] + [f"{t:>{w}}" for (t, _, _), w in zip(self.cols, self.widths)]
        return "  ".join(cells) + "  " + last

    def row(self, lineno: Any, row: Dict[str, Any], text: str, width: int = 0) -> str:
        cells = [f"{lineno!s:>6}"] + [f"{fn(row):>{w}}" for (_, fn, _), w in zip(self.cols, self.widths)]
        room = width - self.prefix
        if width and len(text) > room:
            text = text[:max(room - 1, 0)] + "…" if room > 1 else ""
        return "  ".join(cells) + "  " + text


def terminal_width(out: IO[str]) -> int:
    """Columns to fit: $COLUMNS, else the terminal's, else 120."""
    env = os.environ.get("COLUMNS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        if out.isatty():
            return shutil.get_terminal_size((120, 24)).columns
    except (AttributeError, ValueError, OSError):
        pass
    return 120


def _source_text(row: Dict[str, Any]) -> str:
    text = str(row.get("line", ""))
    return text.rstrip("\r\n").expandtabs(8)


def _paint(text: str, code: str, colour: bool) -> str:
    return f"{code}{text}{_RESET}" if colour and text else text


def _fmt_seconds(value: Any) -> str:
    try:
        return f"{float(value):.3f}s"
    except (TypeError, ValueError):
        return "?"


def render(profile: Dict[str, Any], out: IO[str], *, reduced: bool = False,
           colour: Optional[bool] = None) -> None:
    """Write the annotated-source view of ``profile`` to ``out``."""
    if colour is None:
        colour = use_colour(out)
    cols = _Columns(profile)
    width = terminal_width(out)
    w = out.write

    program = profile.get("program") or profile.get("filename") or "?"
    args = profile.get("args") or []
    if isinstance(args, list) and args:
        program = f"{program} {' '.join(str(a) for a in args)}"
    w(_paint(f"Scalene profile of {program}", _BOLD, colour) + "\n")
    summary = [f"elapsed {_fmt_seconds(profile.get('elapsed_time_sec'))}"]
    if "total_cpu_time_sec" in profile:
        summary.append(f"CPU {_fmt_seconds(profile.get('total_cpu_time_sec'))}")
    threads = profile.get("threads")
    if isinstance(threads, list) and threads:
        summary.append(f"{len(threads)} thread{'s' if len(threads) != 1 else ''}")
    dropped = profile.get("dropped_samples")
    if isinstance(dropped, (int, float)) and dropped:
        summary.append(f"{int(dropped)} dropped samples")
    if profile.get("memory") is True:
        summary.append(f"max footprint {_num(profile, 'max_footprint_mb'):.1f} MB")
    w(", ".join(summary) + "\n")
    footprint = profile.get("samples")
    if isinstance(footprint, list) and footprint:
        w(f"memory footprint over time: {sparkline(footprint)}\n")
    reason = profile.get("memory_reason")
    if profile.get("memory") is False and reason:
        w(f"(memory not profiled: {reason})\n")

    files = profile.get("files") or {}
    if not files:
        reason = str(profile.get("no_samples_reason") or "nothing was sampled")
        if not reason.lower().startswith("no sample"):
            reason = f"no samples: {reason}"
        w(f"\n{reason[0].upper()}{reason[1:]}\n")
        return

    def file_pct(item: Tuple[str, Dict[str, Any]]) -> float:
        return _num(item[1], "percent_cpu_time")

    elapsed = profile.get("elapsed_time_sec")
    for filename, entry in sorted(files.items(), key=file_pct, reverse=True):
        pct = _num(entry, "percent_cpu_time")
        w("\n")
        w(_paint(f"{filename}: % of time = {pct:6.2f}% out of {_fmt_seconds(elapsed)}",
                 _HEAD, colour) + "\n")
        w(_paint(cols.header("Line", "source"), _BOLD, colour) + "\n")
        for row in entry.get("lines", []):
            if reduced and not _active(row):
                continue
            line = cols.row(row.get("lineno", ""), row, _source_text(row), width)
            if _total(row) >= HOT_PERCENT:
                line = _paint(line, _HOT, colour)
            w(line + "\n")
        leaks = entry.get("leaks")
        if isinstance(leaks, dict) and leaks:
            w("\n")
            for lineno in sorted(leaks, key=lambda k: int(k) if str(k).isdigit() else 0):
                info = leaks[lineno] if isinstance(leaks[lineno], dict) else {}
                w(_paint(f"possible memory leak at line {lineno}: likelihood "
                         f"{100 * _num(info, 'likelihood'):.1f}%, "
                         f"{_num(info, 'velocity_mb_s'):.3f} MB/s", _HOT, colour) + "\n")
        functions = [f for f in entry.get("functions", []) if _active(f)]
        if functions:
            w("\n")
            w(_paint(f"function summary for {filename}", _BOLD, colour) + "\n")
            w(_paint(cols.header("Line", "function"), _BOLD, colour) + "\n")
            functions.sort(key=_total, reverse=True)
            for row in functions:
                line = cols.row(row.get("lineno", ""), row, str(row.get("line", "")), width)
                if _total(row) >= HOT_PERCENT:
                    line = _paint(line, _HOT, colour)
                w(line + "\n")
