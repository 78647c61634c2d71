"""Shared helpers of the Python tests (imported by conftest and the tests)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
PYTHON_DIR = REPO / "bindings" / "python"
PROGRAMS = HERE / "programs"

# Wall-clock limit for one profiled run; the programs take 0.5-3 s.
RUN_TIMEOUT = 120


def program(name: str) -> str:
    """Absolute path of a test program."""
    return str(PROGRAMS / name)


def scalene_env(extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """The environment of a scalene subprocess: the in-tree package first on
    PYTHONPATH, no SCALENE_* settings leaking in from the caller."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCALENE_")}
    old = env.get("PYTHONPATH")
    env["PYTHONPATH"] = str(PYTHON_DIR) + (os.pathsep + old if old else "")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.pop("NO_COLOR", None)
    if extra:
        env.update(extra)
    return env


def scalene_cmd(*args: str) -> List[str]:
    return [sys.executable, "-m", "scalene", *args]


def run_cli(args: Sequence[str], *, cwd: Optional[str] = None,
            env: Optional[Dict[str, str]] = None,
            timeout: float = RUN_TIMEOUT) -> subprocess.CompletedProcess:
    """Run `python -m scalene ARGS` and capture its output (text)."""
    return subprocess.run(
        scalene_cmd(*args), cwd=cwd or str(PROGRAMS), env=scalene_env(env),
        capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
    )


def load_json(path: Path) -> Optional[Dict[str, Any]]:
    if not path.exists():
        return None
    with open(path, "rb") as f:
        return json.load(f)


def truth(proc: subprocess.CompletedProcess) -> Dict[str, Any]:
    """The program's own measurements: the JSON after 'TRUTH ' on stdout."""
    for line in proc.stdout.splitlines():
        if line.startswith("TRUTH "):
            return json.loads(line[len("TRUTH "):])
    raise AssertionError(f"the program printed no TRUTH line\n{explain(proc)}")


def explain(proc: subprocess.CompletedProcess, profile: Optional[Dict[str, Any]] = None) -> str:
    """Text for assertion messages: exit status, output tails, busy lines."""
    parts = [f"returncode={proc.returncode}",
             "stdout tail:\n" + (proc.stdout or "")[-1500:],
             "stderr tail:\n" + (proc.stderr or "")[-1500:]]
    if profile is not None:
        parts.append("profile:\n" + summarize(profile))
    return "\n".join(parts)


def summarize(profile: Dict[str, Any]) -> str:
    out = []
    for name, entry in (profile.get("files") or {}).items():
        out.append(f"{name}: {entry.get('percent_cpu_time')}")
        for row in entry.get("lines", []):
            if total(row) > 0:
                out.append("  %4s py=%5.1f c=%5.1f sys=%5.1f n=%s  %s" % (
                    row.get("lineno"), row.get("n_cpu_percent_python", 0),
                    row.get("n_cpu_percent_c", 0), row.get("n_sys_percent", 0),
                    row.get("n_cpu_samples"), str(row.get("line", "")).strip()[:70]))
    top = {k: v for k, v in profile.items() if k not in ("files", "stacks", "samples")}
    out.append(json.dumps(top)[:1500])
    return "\n".join(out)


def total(row: Dict[str, Any]) -> float:
    return (row.get("n_cpu_percent_python", 0) + row.get("n_cpu_percent_c", 0)
            + row.get("n_sys_percent", 0))


def cpu(row: Dict[str, Any]) -> float:
    return row.get("n_cpu_percent_python", 0) + row.get("n_cpu_percent_c", 0)


def file_entry(profile: Dict[str, Any], basename: str) -> Optional[Dict[str, Any]]:
    """The `files` entry whose file is named `basename`, or None."""
    found = [e for name, e in (profile.get("files") or {}).items()
             if os.path.basename(name) == basename]
    assert len(found) <= 1, f"several files named {basename} in the profile"
    return found[0] if found else None


def lines_with(entry: Dict[str, Any], marker: str) -> List[Dict[str, Any]]:
    """The entry's lines whose source text contains `marker` (e.g. '# @A')."""
    return [row for row in entry.get("lines", []) if marker in str(row.get("line", ""))]


def line_with(entry: Dict[str, Any], marker: str) -> Dict[str, Any]:
    rows = lines_with(entry, marker)
    assert len(rows) == 1, f"expected one line marked {marker!r}, found {len(rows)}"
    return rows[0]


def function_entry(entry: Dict[str, Any], name: str) -> Optional[Dict[str, Any]]:
    found = [f for f in entry.get("functions", []) if f.get("line") == name]
    return found[0] if found else None


def file_names(profile: Dict[str, Any]) -> List[str]:
    return sorted(os.path.basename(n) for n in (profile.get("files") or {}))


def one_line_error(proc: subprocess.CompletedProcess) -> str:
    """Check a usage error: exit 2, exactly one non-empty stderr line that
    starts with 'scalene: error:', no traceback.  Returns that line."""
    lines = [l for l in proc.stderr.splitlines() if l.strip()]
    assert proc.returncode == 2, explain(proc)
    assert "Traceback" not in proc.stderr, explain(proc)
    assert len(lines) == 1, explain(proc)
    assert lines[0].startswith("scalene: error: "), explain(proc)
    return lines[0]


def scalene_notes(proc: subprocess.CompletedProcess) -> List[str]:
    """Scalene's own lines on stderr: 'Scalene: profile saved to PATH', then
    (for a profile without samples) one line saying why."""
    return [l for l in proc.stderr.splitlines() if l.startswith("Scalene: ")]


# ---- memory profiles ---------------------------------------------------------

MIB = 1024 * 1024


def mem_summary(profile: Optional[Dict[str, Any]]) -> str:
    """Memory figures of every line that has any, for assertion messages."""
    if profile is None:
        return "no profile"
    out = []
    for name, entry in (profile.get("files") or {}).items():
        out.append(f"{name}: leaks={entry.get('leaks')}")
        for row in entry.get("lines", []):
            if row.get("n_mallocs") or row.get("n_copy_mb_s"):
                out.append("  %4s malloc=%.2f py=%.2f peak=%.2f growth=%.2f mallocs=%s "
                           "frees=%s copy/s=%.2f points=%d  %s" % (
                               row["lineno"], row["n_malloc_mb"], row["n_python_fraction"],
                               row["n_peak_mb"], row["n_growth_mb"], row["n_mallocs"],
                               row["n_frees"], row["n_copy_mb_s"],
                               len(row.get("memory_samples") or []),
                               str(row.get("line", "")).strip()[:60]))
    keys = ("elapsed_time_sec", "memory", "memory_reason", "alloc_samples", "dropped_samples",
            "total_malloc_mb", "total_copy_mb", "max_footprint_mb", "max_footprint_fname",
            "max_footprint_lineno", "allocation_sampling_window", "no_samples_reason")
    out.append(json.dumps({k: profile.get(k) for k in keys}))
    return "\n".join(out)


def why(proc: subprocess.CompletedProcess, profile: Optional[Dict[str, Any]] = None,
        extra: str = "") -> str:
    return (extra + "\n" if extra else "") + explain(proc) + "\nmemory:\n" + mem_summary(profile)
