"""Crafted profiles in Scalene's JSON layout (as lib/export/profile.c writes
it), with the memory, copy, GPU, leak and timeline data that this version's
real profiles do not have yet."""

from __future__ import annotations

import copy
from typing import Any, Dict, List, Optional

LINE_FIELDS_ZERO = {
    "n_cpu_percent_python": 0, "n_cpu_percent_c": 0, "n_sys_percent": 0, "n_core_utilization": 0,
    "n_cpu_samples": 0, "n_malloc_mb": 0, "n_peak_mb": 0, "n_avg_mb": 0, "n_mallocs": 0,
    "n_growth_mb": 0, "n_usage_fraction": 0, "n_python_fraction": 0, "n_copy_mb_s": 0,
    "n_gpu_percent": 0, "n_gpu_peak_memory_mb": 0, "n_gpu_avg_memory_mb": 0,
}


def line(lineno: int, text: str, **fields: Any) -> Dict[str, Any]:
    d: Dict[str, Any] = {"line": text if text.endswith("\n") else text + "\n", "lineno": lineno}
    d.update(LINE_FIELDS_ZERO)
    d["memory_samples"] = []
    d.update(fields)
    for k in ("start_region_line", "end_region_line", "start_outermost_loop", "end_outermost_loop"):
        d.setdefault(k, lineno)
    return d


def func(lineno: int, name: str, **fields: Any) -> Dict[str, Any]:
    d = line(lineno, name, **fields)
    d["line"] = name
    d["fn_name"] = name
    return d


def document(files: Dict[str, Dict[str, Any]], **top: Any) -> Dict[str, Any]:
    doc: Dict[str, Any] = {
        "program": "crafted.py", "args": ["--size", "3"], "scalenecore_version": "1.0.0",
        "elapsed_time_sec": 2.5, "start_time_absolute": 1700000000.0, "total_cpu_time_sec": 2.25,
        "total_time_sec": 2.5, "pid": 4242, "cpu_sampling_rate": 0.01, "use_virtual_time": False,
        "cpu_samples": 250, "unattributed_samples": 0, "unattributed_percent": 0, "dropped_samples": 0,
        "no_samples_reason": "", "gpu": False, "gpu_device": "", "memory": False, "alloc_samples": 0,
        "max_footprint_mb": 0, "max_footprint_fname": None, "max_footprint_lineno": None,
        "max_footprint_python_fraction": 0, "growth_rate": 0, "samples": [], "stacks": [],
        "threads": [{"tid": 4242, "name": "MainThread", "cpu_sec": 2.25, "blocked_sec": 0.1, "samples": 250}],
        "files": files,
    }
    doc.update(top)
    return doc


MAIN_SRC = [
    "import numpy as np",                                   # 1
    "",                                                     # 2
    "def compute(n):",                                      # 3
    "    \"\"\"Sum of squares,",                             # 4
    "    the slow way.\"\"\"",                              # 5
    "    total = 0",                                        # 6
    "    for i in range(n):",                               # 7
    "        total += i * i  # hot loop",                   # 8
    "    return total",                                     # 9
    "",                                                     # 10
    "def grow(data):",                                      # 11
    "    a = np.arange(10_000_000)",                        # 12
    "    data.append(list(a))",                             # 13
    "    return data",                                      # 14
    "",                                                     # 15
    "@profile",                                             # 16
    "def on_gpu(x):",                                       # 17
    "    return (x @ x.T).sum()",                           # 18
    "",                                                     # 19
    "print(compute(10), grow([]), 'done')",                 # 20
]


def rich_profile() -> Dict[str, Any]:
    """Two files; memory, copy, GPU, leaks, timelines, functions, threads."""
    m = {i + 1: t for i, t in enumerate(MAIN_SRC)}
    hot = dict(n_cpu_percent_python=41.372, n_cpu_percent_c=7.125931, n_sys_percent=1.5137,
               n_core_utilization=0.8734, n_cpu_samples=125,
               n_malloc_mb=12.3456, n_peak_mb=10.875, n_avg_mb=6.4321, n_mallocs=321,
               n_growth_mb=2.5, n_usage_fraction=0.0625, n_python_fraction=0.8125, n_copy_mb_s=3.75,
               memory_samples=[[0.1, 1.0], [0.5, 4.0], [1.0, 10.875], [1.5, 8.0], [2.0, 9.5]],
               threads=[{"tid": 4242, "name": "MainThread", "n_cpu_percent_python": 30.0,
                         "n_cpu_percent_c": 5.0, "n_sys_percent": 1.0},
                        {"tid": 4243, "name": "worker", "n_cpu_percent_python": 11.372,
                         "n_cpu_percent_c": 2.125931, "n_sys_percent": 0.5137}])
    lines = [line(i, t) for i, t in m.items()]
    lines[7 - 1].update(n_cpu_percent_python=3.2111, n_cpu_percent_c=0.4, n_sys_percent=0.1234,
                        n_cpu_samples=9, n_core_utilization=0.5)
    lines[8 - 1].update(hot)
    lines[12 - 1].update(n_cpu_percent_python=0.8, n_cpu_percent_c=22.46, n_sys_percent=2.04,
                         n_cpu_samples=60, n_malloc_mb=76.2939, n_peak_mb=76.2939, n_avg_mb=76.2939,
                         n_mallocs=2, n_growth_mb=76.2939, n_usage_fraction=0.7, n_python_fraction=0.0125,
                         n_copy_mb_s=152.5878,
                         memory_samples=[[0.6, 0.0], [0.7, 76.2939], [2.4, 76.2939]])
    lines[13 - 1].update(n_cpu_percent_python=6.02, n_cpu_percent_c=1.1, n_sys_percent=0.0,
                         n_cpu_samples=20, n_malloc_mb=21.5, n_peak_mb=20.0, n_avg_mb=15.0,
                         n_mallocs=1000, n_growth_mb=-3.25, n_usage_fraction=0.2, n_python_fraction=0.9,
                         memory_samples=[[0.8, 5.0], [1.2, 20.0]])
    lines[18 - 1].update(n_cpu_percent_python=0.5, n_cpu_percent_c=4.4, n_sys_percent=0.25, n_cpu_samples=12,
                         n_gpu_percent=63.5, n_gpu_peak_memory_mb=512.25, n_gpu_avg_memory_mb=300.5)
    lines[20 - 1].update(n_cpu_percent_python=0.05, n_cpu_samples=1)
    funcs = [
        func(3, "compute", n_cpu_percent_python=44.5831, n_cpu_percent_c=7.525931, n_sys_percent=1.6371,
             n_cpu_samples=134, n_malloc_mb=12.3456, n_peak_mb=10.875, n_mallocs=321, n_python_fraction=0.8125),
        func(11, "grow", n_cpu_percent_python=6.82, n_cpu_percent_c=23.56, n_sys_percent=2.04, n_cpu_samples=80,
             n_malloc_mb=97.7939, n_peak_mb=96.2939, n_mallocs=1002, n_python_fraction=0.2, n_copy_mb_s=152.5878),
        func(16, "on_gpu", n_cpu_percent_python=0.5, n_cpu_percent_c=4.4, n_sys_percent=0.25, n_cpu_samples=12,
             n_gpu_percent=63.5, n_gpu_peak_memory_mb=512.25),
    ]
    util_src = ["def helper(xs):", "    return sorted(xs)", "", "def unused():", "    pass"]
    util_lines = [line(i + 1, t) for i, t in enumerate(util_src)]
    util_lines[1].update(n_cpu_percent_python=4.9, n_cpu_percent_c=2.0, n_sys_percent=0.0, n_cpu_samples=17)
    files = {
        "/home/user/proj/main.py": {
            "percent_cpu_time": 83.1, "lines": lines, "functions": funcs,
            "leaks": {"13": {"likelihood": 0.95, "velocity_mb_s": 1.25}}, "imports": ["numpy"],
        },
        "/home/user/proj/util.py": {
            "percent_cpu_time": 6.9, "lines": util_lines,
            "functions": [func(1, "helper", n_cpu_percent_python=4.9, n_cpu_percent_c=2.0, n_cpu_samples=17)],
            "leaks": {}, "imports": [],
        },
    }
    return document(files, memory=True, gpu=True, gpu_device="NVIDIA Stub 80GB", max_footprint_mb=96.5,
                    max_footprint_fname="/home/user/proj/main.py", max_footprint_lineno=12, growth_rate=12.5,
                    alloc_samples=1000,
                    samples=[[0.0, 0.5], [0.5, 5.0], [0.7, 80.0], [1.2, 96.5], [2.0, 90.0], [2.4, 86.0]])


def cpu_only(doc: Dict[str, Any]) -> Dict[str, Any]:
    """The same document as real profiles of this version have it: memory
    and GPU fields all zero, memory/gpu false."""
    d = copy.deepcopy(doc)
    d.update(memory=False, gpu=False, gpu_device="", samples=[], max_footprint_mb=0)
    for f in d["files"].values():
        f["leaks"] = {}
        for rec in f["lines"] + f["functions"]:
            for k in LINE_FIELDS_ZERO:
                if not k.startswith(("n_cpu", "n_sys", "n_core")):
                    rec[k] = 0
            rec["memory_samples"] = []
    return d


def big_profile(nfiles: int = 20, lines_per_file: int = 1000, seed: int = 1) -> Dict[str, Any]:
    """nfiles x lines_per_file profiled (active) lines, for the benchmark."""
    import random

    rnd = random.Random(seed)
    body = ["def f{k}(x):", "    y = x * {k} + 1", "    for i in range(y):", "        y += i % 7",
            "    s = 'text {k}'  # comment", "    return y"]
    files = {}
    for fi in range(nfiles):
        lines: List[Dict[str, Any]] = []
        funcs: List[Dict[str, Any]] = []
        for ln in range(1, lines_per_file + 1):
            t = body[(ln - 1) % len(body)].format(k=ln)
            py, c, s = rnd.random() * 0.01, rnd.random() * 0.004, rnd.random() * 0.001
            lines.append(line(ln, t, n_cpu_percent_python=py, n_cpu_percent_c=c, n_sys_percent=s,
                              n_cpu_samples=rnd.randint(1, 9), n_core_utilization=rnd.random()))
            if (ln - 1) % len(body) == 0:
                funcs.append(func(ln, f"f{ln}", n_cpu_percent_python=py * 6, n_cpu_percent_c=c * 6,
                                  n_sys_percent=s * 6, n_cpu_samples=10))
        files[f"/bench/pkg/module_{fi:03d}.py"] = {
            "percent_cpu_time": 100.0 / nfiles, "lines": lines, "functions": funcs, "leaks": {}, "imports": []}
    return document(files, program="bench.py", args=[])


def find_line(doc: Dict[str, Any], fname: str, lineno: int) -> Optional[Dict[str, Any]]:
    for rec in doc["files"][fname]["lines"]:
        if rec["lineno"] == lineno:
            return rec
    return None
